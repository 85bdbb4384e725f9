"""Today's per-queue counters (answered, abandoned, service level), kept from the fact stream.

They start from the database (`load`: the calls that ended today, counted by the store with the
same rules), so a restart does not reset them; after that, counting facts as they pass is cheaper
than querying the call table on every wallboard refresh. They restart at local midnight.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from callserver.facts.model import CallEnded, Fact, Outcome
from callserver.store.records import QueueDayRecord


@dataclass(slots=True)
class QueueDay:
    offered: int = 0  # calls that ended in this queue, whatever the outcome
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    timed_out: int = 0


def _day_of(at: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(at))


def start_of_day(at: float) -> float:
    """Local midnight before `at` (Unix seconds): where "today" starts for the counters."""
    t = time.localtime(at)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


class QueueCounters:
    def __init__(self, clock: Callable[[], float], service_target: float = 20.0) -> None:
        self._clock = clock
        self.service_target = service_target
        self._day = _day_of(clock())
        self._queues: dict[str, QueueDay] = {}

    def on_fact(self, fact: Fact) -> None:
        if not isinstance(fact, CallEnded):
            return
        day = self._today()
        counts = day.setdefault(fact.queue, QueueDay())
        counts.offered += 1
        if fact.outcome is Outcome.ANSWERED:
            counts.answered += 1
            if fact.wait <= self.service_target:
                counts.answered_in_target += 1
        elif fact.outcome is Outcome.ABANDONED:
            counts.abandoned += 1
        elif fact.outcome is Outcome.TIMED_OUT:
            counts.timed_out += 1

    def load(self, rows: list[QueueDayRecord]) -> None:
        """Start today's counters from what the database holds (before any fact is counted)."""
        day = self._today()
        for row in rows:
            counts = day.setdefault(row.queue, QueueDay())
            counts.offered += row.ended
            counts.answered += row.answered
            counts.answered_in_target += row.answered_in_target
            counts.abandoned += row.abandoned
            counts.timed_out += row.timed_out

    def today(self, queue: str) -> QueueDay:
        return self._today().get(queue, QueueDay())

    def service_level(self, queue: str) -> float | None:
        """Share of today's ended calls answered within the target wait; None before the first."""
        counts = self.today(queue)
        if counts.offered == 0:
            return None
        return round(counts.answered_in_target / counts.offered, 4)

    def _today(self) -> dict[str, QueueDay]:
        day = _day_of(self._clock())
        if day != self._day:
            self._day, self._queues = day, {}
        return self._queues
