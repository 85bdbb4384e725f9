"""Do-not-call lists: one global, one per campaign; checked at the moment of dialling.

Plain sets of E.164 numbers with where each entry came from, so an agent adding the number they
are talking to, an import and a supervisor are told apart in the audit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

GLOBAL = ""


@dataclass(frozen=True, slots=True)
class DncEntry:
    number: str
    scope: str  # GLOBAL or a campaign name
    added_at: float
    source: str  # "import", "agent:<id>", "supervisor", "outcome:<code>"


class DncRegistry:
    def __init__(self) -> None:
        self._lists: dict[str, dict[str, DncEntry]] = {GLOBAL: {}}

    def add(self, number: str, *, now: float, source: str, campaign: str = GLOBAL) -> DncEntry:
        entry = DncEntry(number, campaign, now, source)
        self._lists.setdefault(campaign, {}).setdefault(number, entry)
        return self._lists[campaign][number]

    def add_many(self, numbers: Iterable[str], *, now: float, source: str, campaign: str = GLOBAL) -> int:
        before = len(self._lists.get(campaign, {}))
        for n in numbers:
            self.add(n, now=now, source=source, campaign=campaign)
        return len(self._lists[campaign]) - before

    def remove(self, number: str, *, campaign: str = GLOBAL) -> bool:
        return self._lists.get(campaign, {}).pop(number, None) is not None

    def blocked(self, number: str, campaign: str) -> DncEntry | None:
        """The entry that forbids dialling `number` for `campaign`, if any (the global list first)."""
        entry = self._lists[GLOBAL].get(number)
        if entry is None and campaign != GLOBAL:
            entry = self._lists.get(campaign, {}).get(number)
        return entry

    def __len__(self) -> int:
        return sum(len(v) for v in self._lists.values())
