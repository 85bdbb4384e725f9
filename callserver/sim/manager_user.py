"""The simulated AMI user's permissions, as manager.conf gives them (`read=`, `write=`).

Asterisk sends a session only the events of its read classes (FullyBooted at login only with
`system`), and `manager show user` prints them in its own fixed order; both are imitated here so a
tool checking a deployment sees the simulator exactly as it would see Asterisk 22.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# manager.c's `perms` table order (user_authority_to_str prints in this order)
CLASSES = (
    "system",
    "call",
    "log",
    "verbose",
    "command",
    "agent",
    "user",
    "config",
    "dtmf",
    "reporting",
    "cdr",
    "dialplan",
    "originate",
    "agi",
    "cc",
    "aoc",
    "test",
    "security",
    "message",
)


def parse_classes(text: str) -> frozenset[str]:
    """`read = call,dtmf,system` -> the classes; `all` means every one, unknown names are errors."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    if "all" in names:
        return frozenset(CLASSES)
    unknown = names - set(CLASSES) - {"none"}
    if unknown:
        raise ValueError(f"unknown manager class(es): {', '.join(sorted(unknown))}")
    return frozenset(names - {"none"})


def show_classes(classes: frozenset[str]) -> str:
    """As `manager show user` prints them: table order, `all` appended when every class is set."""
    if not classes:
        return "<none>"
    labels = [c for c in CLASSES if c in classes]
    if len(labels) == len(CLASSES):
        labels.append("all")
    return ",".join(labels)


@dataclass(frozen=True)
class ManagerUser:
    """The one AMI user the simulator knows (its name and secret come from the `ami:` settings)."""

    read: frozenset[str] = frozenset(CLASSES)
    write: frozenset[str] = frozenset(CLASSES)

    def may_read(self, privilege: str) -> bool:
        """Whether an event with `Privilege: call,all` reaches this user; list events have none."""
        return _may_read(privilege, self.read)

    def show(self, username: str) -> list[str]:
        """The lines of `manager show user <username>` (Asterisk 22 manager.c layout)."""
        return [
            "",
            f"          username: {username}",
            "            secret: <Set>",
            "               ACL: yes",
            f"         read perm: {show_classes(self.read)}",
            f"        write perm: {show_classes(self.write)}",
            "   displayconnects: yes",
            "allowmultiplelogin: yes",
            "         Variables: ",
        ]


@functools.cache
def _may_read(privilege: str, read: frozenset[str]) -> bool:
    """`ManagerUser.may_read`, kept per Privilege value: every event asks, with a handful of values."""
    if not privilege:
        return True
    return any(c.strip().lower() in read for c in privilege.split(",") if c.strip() != "all")
