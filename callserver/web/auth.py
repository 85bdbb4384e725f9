"""Who may use the web front: password checks (argon2), roles, and the CLI helper that makes hashes.

Agents log in with the `login` and password from their config entry (hashed into the store);
supervisors and admins come from a separate list of `WebUser`s whose hashes `hash_password` makes.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from callserver.config import Settings


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class WebUser:
    """A supervisor or admin account; `password_hash` is an argon2 hash from `hash_password`."""

    login: str
    name: str
    role: Role
    password_hash: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated person behind a session."""

    login: str
    name: str
    role: Role
    agent_id: str | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    def may_act_for(self, agent_id: str) -> bool:
        return self.is_supervisor or self.agent_id == agent_id


class PasswordHashes(Protocol):
    async def agent_password_hash(self, agent_id: str) -> str | None: ...


def is_password_hash(value: str) -> bool:
    """Is a configured password already an argon2 hash (`callserver passwd`), not plain text?"""
    return value.startswith("$argon2")


def plain_text_logins(settings: Settings) -> list[str]:
    """Agents and web users whose configured password is plain text (a demo set-up)."""
    agents = [a.login for a in settings.agents if a.password is not None and not is_password_hash(a.password)]
    users = [u.login for u in settings.web_users if not is_password_hash(u.password)]
    return agents + users


def hash_password(password: str) -> str:
    """An argon2id hash to put in the configuration's web user list."""
    return PasswordHasher().hash(password)


def set_password(argv: Sequence[str] | None = None) -> int:
    """CLI helper: prompt twice for a password and print its hash (for `web_users[].password`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    login = args[0] if args else input("login: ")
    first = getpass.getpass(f"new password for {login}: ")
    if len(first) < 8:
        print("refused: use at least 8 characters", file=sys.stderr)
        return 2
    if getpass.getpass("again: ") != first:
        print("refused: the two entries differ", file=sys.stderr)
        return 2
    print(hash_password(first))
    return 0


class Authenticator:
    """Checks a login and password against web users first, then agents (by their config login)."""

    def __init__(
        self, users: Sequence[WebUser], agents: Mapping[str, tuple[str, str]], hashes: PasswordHashes
    ) -> None:
        # agents: login -> (agent id, display name)
        clash = {u.login for u in users} & set(agents)
        if clash:
            raise ValueError(f"web user login(s) also used by agents: {', '.join(sorted(clash))}")
        self._users = {u.login: u for u in users}
        self._agents = dict(agents)
        self._hashes = hashes
        self._hasher = PasswordHasher()
        # verifying against a real-looking hash for unknown logins keeps the timing uniform
        self._decoy = self._hasher.hash("decoy password, never valid")

    async def verify(self, login: str, password: str) -> Principal | None:
        user = self._users.get(login)
        principal: Principal | None = None
        stored: str | None = None
        if user is not None:
            stored, principal = user.password_hash, Principal(user.login, user.name, user.role)
        elif login in self._agents:
            agent_id, name = self._agents[login]
            stored = await self._hashes.agent_password_hash(agent_id)
            principal = Principal(login, name, Role.AGENT, agent_id)
        ok = await asyncio.to_thread(self._check, stored or self._decoy, password)
        return principal if ok and stored is not None else None

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False


if __name__ == "__main__":
    raise SystemExit(set_password())
