"""The abandon meter of one campaign: live answers and abandons over sliding legal windows.

Counts are kept in one-minute buckets for the longest window asked for, so a 30-day window costs at
most 43,200 buckets. A bucket counts whole as long as any of it is inside the window: the rate shown
is never lower than the exact one. AMD false positives are counted as the estimate the campaign
gives (a person AMD hung up on is an abandoned call, and a live answer too).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

BUCKET = 60.0


@dataclass(frozen=True, slots=True)
class WindowCounts:
    window: float
    live: float  # live answers, estimated AMD false positives included
    abandoned: float  # abandons, estimated AMD false positives included
    false_positives: float  # of which estimated

    @property
    def rate(self) -> float:
        return self.abandoned / self.live if self.live > 0 else 0.0

    def headroom(self, cap: float) -> float:
        """How many more abandons the window takes before its rate passes `cap`."""
        return cap * self.live - self.abandoned


class AbandonMeter:
    def __init__(self, longest_window: float) -> None:
        self.longest = longest_window
        self._buckets: deque[list[float]] = deque()  # [start, live, abandoned, false positives]
        self.total_live = 0.0
        self.total_abandoned = 0.0
        self._sum = [0.0, 0.0, 0.0]  # over the buckets kept, i.e. the longest window

    def _bucket(self, now: float) -> list[float]:
        start = now - now % BUCKET
        if not self._buckets or self._buckets[-1][0] < start:
            self._buckets.append([start, 0.0, 0.0, 0.0])
        self._expire(now)
        return self._buckets[-1]

    def _expire(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] + BUCKET <= now - self.longest:
            _, live, abandoned, fp = self._buckets.popleft()
            self._sum[0] -= live
            self._sum[1] -= abandoned
            self._sum[2] -= fp

    def _add(self, now: float, live: float, abandoned: float, fp: float) -> None:
        b = self._bucket(now)
        b[1] += live
        b[2] += abandoned
        b[3] += fp
        self._sum[0] += live
        self._sum[1] += abandoned
        self._sum[2] += fp
        self.total_live += live
        self.total_abandoned += abandoned

    def live_answer(self, now: float) -> None:
        self._add(now, 1.0, 0.0, 0.0)

    def abandoned(self, now: float) -> None:
        """A person answered and was not connected to an agent in time (it was a live answer too)."""
        self._add(now, 0.0, 1.0, 0.0)

    def false_positives(self, now: float, estimate: float) -> None:
        """Add the estimated number of people AMD took for machines."""
        self._add(now, estimate, estimate, estimate)

    def counts(self, now: float, window: float) -> WindowCounts:
        self._expire(now)
        if window >= self.longest:
            return WindowCounts(window, *self._sum)
        live = abandoned = fp = 0.0
        for start, lv, ab, f in reversed(self._buckets):
            if start + BUCKET <= now - window:
                break
            live += lv
            abandoned += ab
            fp += f
        return WindowCounts(window, live, abandoned, fp)
