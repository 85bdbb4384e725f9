"""When callbacks fall due, as data: a heap of (due time, id) asked for its next deadline.

Sans-I/O like the ACD's timers: the service arms an entry per scheduled callback, asks
`next_deadline()` how long to sleep, and hands `on_timer(now)` the clock; it gets back the ids that
are due, each once. Cancelling leaves the entry in the heap and skips it when it comes up.
"""

from __future__ import annotations

import heapq


class DueTimes:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._due: dict[int, float] = {}  # id -> its current due time

    def __len__(self) -> int:
        return len(self._due)

    def arm(self, callback_id: int, at: float) -> None:
        """Due at `at` (Unix seconds); arming again moves it."""
        self._due[callback_id] = at
        heapq.heappush(self._heap, (at, callback_id))

    def cancel(self, callback_id: int) -> None:
        self._due.pop(callback_id, None)

    def next_deadline(self) -> float | None:
        self._skip_stale()
        return self._heap[0][0] if self._heap else None

    def on_timer(self, now: float) -> list[int]:
        """Every id due at or before `now`, in due order, each handed out once."""
        out: list[int] = []
        self._skip_stale()
        while self._heap and self._heap[0][0] <= now:
            _, callback_id = heapq.heappop(self._heap)
            del self._due[callback_id]
            out.append(callback_id)
            self._skip_stale()
        return out

    def _skip_stale(self) -> None:
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
