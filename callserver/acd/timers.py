"""The ACD's timers as data: a heap of (deadline, kind, id) and one handler per kind.

A timer is never cancelled: when what it was armed for changes (the call was answered, the wrap-up
ended early), its handler's `live` check says so and the entry is skipped. Every kind must have a
handler, so a new kind without one fails when the engine is built, not when the timer first fires.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from .commands import Command


class TimerKind(Enum):
    MAX_WAIT = "max_wait"  # a waiting caller reached the queue's maximum wait
    ROUTING_STEP = "routing_step"  # the queue's next routing step widens a waiting call's requirement
    ANNOUNCE = "announce"  # time to tell a waiting caller their position and estimated wait
    LEG_GRACE = "leg_grace"  # a cancelled leg whose hangup the PBX never reported
    AGENT_DEADLINE = "agent_deadline"  # an agent's wrap-up ends, or their ringing leg gave no result
    AUTO_RESUME = "auto_resume"  # an agent paused after unanswered offers becomes available again
    TRANSFER_TIMEOUT = "transfer_timeout"  # a call transferred to an agent was not taken in time
    TRANSFER_EXCLUSION = "transfer_exclusion"  # is the transferring agent the only one left for it?


@dataclass(frozen=True, slots=True)
class TimerHandler:
    """`live(ident, at)`: is the timer armed for `at` still meant? `fire(ident, now)`: its commands."""

    live: Callable[[str, float], bool]
    fire: Callable[[str, float], list[Command]]


class MissingTimerHandler(Exception):
    """The handler table does not cover every timer kind: a bug in how the engine is built."""


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerKind, str]] = []
        self._seq = 0
        self._handlers: Mapping[TimerKind, TimerHandler] = {}

    def install(self, handlers: Mapping[TimerKind, TimerHandler]) -> None:
        """Give every kind its handler (once, when the engine is built)."""
        missing = set(TimerKind) - set(handlers)
        if missing:
            raise MissingTimerHandler(f"no handler for timer kinds {sorted(k.value for k in missing)}")
        self._handlers = handlers

    def arm(self, at: float, kind: TimerKind, ident: str) -> None:
        if math.isfinite(at):
            self._seq += 1
            heapq.heappush(self._heap, (at, self._seq, kind, ident))

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def fire(self, now: float) -> list[Command]:
        """Run every live timer due at `now`, in deadline order (then the order they were armed)."""
        out: list[Command] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)
            if self._live(timer):
                _, _, kind, ident = timer
                out += self._handlers[kind].fire(ident, now)
        return out

    def _live(self, timer: tuple[float, int, TimerKind, str]) -> bool:
        at, _, kind, ident = timer
        return self._handlers[kind].live(ident, at)
