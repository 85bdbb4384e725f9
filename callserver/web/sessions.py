"""Server-side sessions (random tokens with a sliding expiry and an absolute lifetime) and the login
throttle.

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
    ends_at: float  # absolute end: activity cannot keep a stolen token alive for ever


class SessionStore:
    """Sessions expire after `ttl` without use (sliding) and at the latest `lifetime` after login."""

    def __init__(
        self, clock: Callable[[], float], ttl: float = 8 * 3600.0, lifetime: float = 12 * 3600.0
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._lifetime = lifetime
        self._sessions: dict[str, Session] = {}
        # told of every session that ends by expiring (not by logout), and of every new session
        self.on_expired: Callable[[Session], None] | None = None
        self.on_created: Callable[[Session], None] | None = None

    def create(self, principal: Principal) -> Session:
        self._purge()
        now = self._clock()
        ends_at = now + self._lifetime
        session = Session(secrets.token_urlsafe(32), principal, min(now + self._ttl, ends_at), ends_at)
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
        """The live session for `token`, its expiry pushed back (sliding, up to its end), or None."""
        session = self._sessions.get(token)
        now = self._clock()
        if session is None:
            return None
        if session.expires_at <= now:
            del self._sessions[token]
            self._expired(session)
            return None
        session.expires_at = min(now + self._ttl, session.ends_at)
        return session

    def alive(self, token: str) -> bool:
        """Is the session still valid? Unlike `get`, this does not count as activity."""
        session = self._sessions.get(token)
        return session is not None and session.expires_at > self._clock()

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


@dataclass(slots=True)
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass(frozen=True, slots=True)
class Refused:
    """A login attempt not allowed now: `retry_after` seconds, `busy` when only the checks are full."""

    retry_after: float
    busy: bool = False


class Attempt:
    """An admitted login attempt: counted as a failure until `succeeded()` says otherwise, and
    holding one of the password-check places until `done()`."""

    def __init__(self, throttle: LoginThrottle, keys: tuple[str, ...]) -> None:
        self._throttle = throttle
        self._keys = keys
        self._open = True

    def succeeded(self) -> None:
        """The password was right: forget this login's failures here, give back the address's."""
        self._throttle._forget(self._keys[0])
        for key in self._keys[1:]:
            self._throttle._refund(key)

    def done(self) -> None:
        if self._open:
            self._open = False
            self._throttle._checks -= 1


class LoginThrottle:
    """Who may try a password now.

    Each attempt is counted *before* its argon2 check (the check is slow and awaited, so counting
    after it let any number of parallel guesses through), per login-and-address and per address.
    After `failures` misses the wait doubles with each further miss, up to `max_delay`; a login is
    never locked by misses from another address, so a guesser elsewhere cannot keep an agent out
    of their own desk. At most `max_checks` checks run at once (each takes 64 MiB for argon2);
    attempts beyond that are refused at once rather than queued.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        failures: int = 5,
        window: float = 60.0,
        max_delay: float = 3600.0,
        max_checks: int = 4,
        max_keys: int = 10_000,
    ) -> None:
        self._clock = clock
        self.failures = failures
        self.window = window
        self.max_delay = max_delay
        self.max_checks = max_checks
        self._max_keys = max_keys
        self._records: dict[str, _Failures] = {}
        self._checks = 0
        self.peak_checks = 0

    def begin(self, login: str, address: str) -> Attempt | Refused:
        """Admit an attempt (counted as a failure until it succeeds) or say how long to wait."""
        keys = (f"login:{login}|addr:{address}", f"addr:{address}")
        wait = max(self.retry_after(k) for k in keys)
        if wait > 0:
            return Refused(wait)
        if self._checks >= self.max_checks:
            return Refused(1.0, busy=True)
        now = self._clock()
        for key in keys:
            record = self._record(key, now)
            record.count += 1
            record.last = now
        self._checks += 1
        self.peak_checks = max(self.peak_checks, self._checks)
        return Attempt(self, keys)

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        now = self._clock()
        record = self._records.get(key)
        if record is None or self._expired(record, now):
            return 0.0
        return max(0.0, record.last + self._delay(record.count) - now)

    def _delay(self, count: int) -> float:
        if count < self.failures:
            return 0.0
        return min(self.max_delay, self.window * 2.0 ** (count - self.failures))

    def _expired(self, record: _Failures, now: float) -> bool:
        """Misses are forgotten once their wait is over and a quiet `window` has passed after it."""
        return now - record.last > self._delay(record.count) + self.window

    def _record(self, key: str, now: float) -> _Failures:
        record = self._records.get(key)
        if record is not None and self._expired(record, now):
            record = None
        if record is None:
            if len(self._records) >= self._max_keys:
                # a flood of distinct logins or addresses must not grow memory without bound
                for stale in [k for k, r in self._records.items() if self._expired(r, now)]:
                    del self._records[stale]
                if len(self._records) >= self._max_keys:
                    del self._records[next(iter(self._records))]
            record = self._records[key] = _Failures()
        return record

    def _forget(self, key: str) -> None:
        self._records.pop(key, None)

    def _refund(self, key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.count = max(0, record.count - 1)
