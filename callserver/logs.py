"""Log hygiene for what peers send: lines rate-limited per peer and kind of trouble with a periodic
count of what was held back, peer bytes escaped and truncated before they reach a log, and library
loggers that would write SQL parameters (password hashes, customer records) kept quiet.

A hostile or broken peer decides how often it misbehaves; without this, it also decides how big the
log grows. Each component owns its `PeerLog`; nothing here is global apart from `quiet_data_loggers`.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Loggers that write statement parameters or result rows at INFO/DEBUG: with `-v` they would put
# argon2 hashes and customer records into the log. SQLAlchemy's engine logger prints parameters and
# rows; aiosqlite prints the bound call (with its parameters) of every operation.
DATA_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg")

Schedule = Callable[[float, Callable[[], None]], object]


def printable(data: str | bytes, limit: int = 80) -> str:
    """Peer data fit for a log line: quoted, control and non-ASCII characters escaped, truncated.

    Bytes are decoded as Latin-1 so every byte shows as one escape and nothing is lost or guessed.
    """
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    cut = len(text) > limit
    shown = repr(text[:limit]).encode("ascii", "backslashreplace").decode("ascii")
    return f"{shown}...({len(text)} chars)" if cut else shown


def peer_host(peer: object) -> str:
    """The address part of a socket peer name, the unit lines are rate-limited by (ports change)."""
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer)


@dataclass(slots=True)
class _Window:
    started: float
    held: int = 0
    level: int = logging.WARNING
    what: str = ""


class PeerLog:
    """Log lines per (peer, kind): the first of a window goes out, the rest are counted, and the count
    is logged when the window closes ("... 517 more like this from 10.0.0.5 in the last 60 s").

    At most `max_keys` windows are tracked (the oldest are summarised and forgotten first) and at most
    `max_lines` lines are written per `interval` in all, so even a flood from many addresses yields a
    bounded log. `schedule(delay, callback)` (e.g. `loop.call_later`) lets held counts be written
    when the window closes; without it they are written at the next line through this PeerLog.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = 60.0,
        max_keys: int = 1024,
        max_lines: int = 200,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule | None = None,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.max_keys = max_keys
        self.max_lines = max_lines
        self._clock = clock
        self._schedule = schedule
        self._windows: OrderedDict[tuple[str, str], _Window] = OrderedDict()
        self._budget_start = clock()
        self._budget_used = 0
        self._over_budget = 0
        self._timer_armed = False
        self.written = 0  # lines actually written (tests, metrics)
        self.held = 0  # lines counted instead of written

    @property
    def tracked(self) -> int:
        """(peer, kind) windows remembered now; never more than `max_keys`."""
        return len(self._windows)

    def warning(self, peer: str, kind: str, msg: str, *args: Any) -> bool:
        return self.log(logging.WARNING, peer, kind, msg, *args)

    def info(self, peer: str, kind: str, msg: str, *args: Any) -> bool:
        return self.log(logging.INFO, peer, kind, msg, *args)

    def log(self, level: int, peer: str, kind: str, msg: str, *args: Any) -> bool:
        """Write the line unless (peer, kind) already had one this window; True when written."""
        now = self._clock()
        self.flush(now)
        key = (peer, kind)
        window = self._windows.get(key)
        if window is not None:
            window.held += 1
            self.held += 1
            self._arm()
            return False
        while len(self._windows) >= self.max_keys:
            old_key, old = self._windows.popitem(last=False)
            self._summarise(old_key, old, now)
        self._windows[key] = _Window(now, level=level, what=kind)
        if not self._spend(now):
            self.held += 1
            return False
        self.logger.log(level, msg, *args)
        self.written += 1
        return True

    def flush(self, now: float | None = None) -> None:
        """Write the counts of windows that have closed and forget them."""
        now = self._clock() if now is None else now
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if window.started + self.interval > now:
                break
            del self._windows[key]
            self._summarise(key, window, now)
        if self._over_budget and now - self._budget_start >= self.interval:
            self.logger.warning(
                "%d further log lines about misbehaving peers were suppressed in the last %g s",
                self._over_budget,
                self.interval,
            )
            self._over_budget = 0
        if now - self._budget_start >= self.interval:
            self._budget_start, self._budget_used = now, 0

    def _summarise(self, key: tuple[str, str], window: _Window, now: float) -> None:
        if not window.held:
            return
        peer, kind = key
        self.logger.log(
            window.level,
            "%d more like this from %s (%s) in the last %.0f s",
            window.held,
            peer,
            kind,
            max(now - window.started, 0.0),
        )
        self.written += 1

    def _spend(self, now: float) -> bool:
        if now - self._budget_start >= self.interval:
            self._budget_start, self._budget_used = now, 0
        if self._budget_used >= self.max_lines:
            self._over_budget += 1
            self._arm()
            return False
        self._budget_used += 1
        return True

    def _arm(self) -> None:
        if self._schedule is None or self._timer_armed:
            return
        self._timer_armed = True
        self._schedule(self.interval, self._on_timer)

    def _on_timer(self) -> None:
        self._timer_armed = False
        self.flush()
        if any(w.held for w in self._windows.values()) or self._over_budget:
            self._arm()


def quiet_data_loggers(level: int = logging.WARNING) -> None:
    """Keep SQL parameters and result rows out of the log even when the server runs with `-v`."""
    for name in DATA_LOGGERS:
        logging.getLogger(name).setLevel(level)


LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: int, *, filename: str | None = None, datefmt: str | None = None) -> None:
    """The server's log: `LOG_FORMAT` at `level`, on stderr or appended to `filename`.

    The format shows no thread, process or source position, so records are made without them
    (the switches the logging documentation gives under "Optimization"): the server writes a line
    for every call it ends, and a line costs a quarter to a third less CPU without them."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    logging.basicConfig(level=level, format=LOG_FORMAT, datefmt=datefmt, filename=filename)
    if level > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)
