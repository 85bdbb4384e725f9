"""Who a caller's number matched, found once per call when it arrives and kept for the screen-pop.

The inbound script looks the number up before queueing the call (the match feeds routing:
`customer.vip`, `customer.language`); the ids also travel in the call data to the store, and the
records stay here so the agent's pop needs no second search. Bounded: the oldest calls are
forgotten first, and a pop for a call no longer here simply looks the number up again.
"""

from __future__ import annotations

from collections import OrderedDict

from callserver.store.records import CustomerRecord


class CallerMatches:
    def __init__(self, keep: int = 20_000) -> None:
        self._keep = keep
        self._by_call: OrderedDict[str, tuple[CustomerRecord, ...]] = OrderedDict()

    def remember(self, call_id: str, records: list[CustomerRecord]) -> None:
        self._by_call[call_id] = tuple(records)
        self._by_call.move_to_end(call_id)
        while len(self._by_call) > self._keep:
            self._by_call.popitem(last=False)

    def get(self, call_id: str) -> tuple[CustomerRecord, ...] | None:
        """The records found when the call arrived; None when it was not looked up (or forgotten)."""
        return self._by_call.get(call_id)

    def __len__(self) -> int:
        return len(self._by_call)
