"""Server-side sessions (random tokens with a sliding expiry) and the login rate limiter.

Both live in memory: a restart logs everyone out, which is acceptable for a single-process server
and means no session secret ever touches the database.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from callserver.web.auth import Principal


@dataclass(slots=True)
class Session:
    token: str
    principal: Principal
    expires_at: float


class SessionStore:
    def __init__(self, clock: Callable[[], float], ttl: float = 8 * 3600.0) -> None:
        self._clock = clock
        self._ttl = ttl
        self._sessions: dict[str, Session] = {}
        # told of every session that ends by expiring (not by logout), and of every new session
        self.on_expired: Callable[[Session], None] | None = None
        self.on_created: Callable[[Session], None] | None = None

    def create(self, principal: Principal) -> Session:
        self._purge()
        session = Session(secrets.token_urlsafe(32), principal, self._clock() + self._ttl)
        self._sessions[session.token] = session
        if self.on_created is not None:
            self.on_created(session)
        return session

    def next_expiry(self) -> float | None:
        """When the first live session expires unless used before (None: no session)."""
        return min((s.expires_at for s in self._sessions.values()), default=None)

    def expire_due(self) -> None:
        """End every session whose time is up now (each one reported to `on_expired`)."""
        self._purge()

    def get(self, token: str) -> Session | None:
        """The live session for `token`, its expiry pushed back (sliding), or None."""
        session = self._sessions.get(token)
        now = self._clock()
        if session is None:
            return None
        if session.expires_at <= now:
            del self._sessions[token]
            self._expired(session)
            return None
        session.expires_at = now + self._ttl
        return session

    def drop(self, token: str) -> None:
        self._sessions.pop(token, None)

    def _purge(self) -> None:
        now = self._clock()
        for token in [t for t, s in self._sessions.items() if s.expires_at <= now]:
            self._expired(self._sessions.pop(token))

    def _expired(self, session: Session) -> None:
        if self.on_expired is not None:
            self.on_expired(session)


class RateLimiter:
    """At most `limit` failures per key within `window` seconds; `retry_after` says how long to wait."""

    def __init__(self, clock: Callable[[], float], limit: int = 5, window: float = 60.0) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        times = self._recent(key)
        if len(times) < self._limit:
            return 0.0
        return max(0.0, times[0] + self._window - self._clock())

    def failed(self, key: str) -> None:
        self._recent(key).append(self._clock())

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        horizon = self._clock() - self._window
        while times and times[0] <= horizon:
            times.popleft()
        if len(self._failures) > 10_000:
            # a flood of distinct keys must not grow memory without bound
            for stale in [k for k, v in self._failures.items() if not v and k != key]:
                del self._failures[stale]
        return times
