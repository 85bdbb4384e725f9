"""The leads of one campaign: which to dial next, when to retry, callbacks, penetration, recycling.

Three heaps with lazy deletion: leads dialable now (in the campaign's order), leads waiting for a
time (retry delay, calling window), and booked callbacks. A lead's `next_at` and a version number
say whether a heap entry is still current. Compliance and DNC are not checked here: the engine asks
for the next candidate, checks it at that moment, and defers or takes it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .model import (
    DIALABLE,
    Attempt,
    AttemptResult,
    AttemptSummary,
    Callback,
    Lead,
    LeadOrder,
    LeadState,
    OutcomeCode,
    RetryPolicy,
)


def order_key(order: LeadOrder, lead: Lead) -> tuple[float, ...]:
    fresh = 0.0 if lead.attempts == 0 and lead.rounds == 0 else 1.0
    last = lead.last_attempt_at if lead.last_attempt_at is not None else -math.inf
    if order is LeadOrder.NEW_FIRST:
        return (fresh, -lead.priority, last, lead.seq)
    if order is LeadOrder.OLDEST_ATTEMPT_FIRST:
        return (last, -lead.priority, lead.seq)
    return (-lead.priority, fresh, last, lead.seq)


def local_time_to_epoch(local: datetime, zone: str) -> float:
    """A wall-clock time in `zone` (naive datetime) as epoch seconds (the earlier one in a DST fold)."""
    return local.replace(tzinfo=ZoneInfo(zone)).timestamp()


@dataclass(frozen=True, slots=True)
class ListStats:
    total: int
    new: int
    dialable_now: int  # new or queued, due now
    queued: int
    in_progress: int
    callbacks: int
    done: int
    exhausted: int
    dnc: int
    invalid: int
    dialed: int  # leads dialled at least once
    contacted: int  # leads who talked to an agent at least once

    @property
    def penetration(self) -> float:
        """Share of the list dialled at least once."""
        return self.dialed / self.total if self.total else 0.0

    @property
    def left(self) -> int:
        """Leads that may still be dialled (now or later)."""
        return self.new + self.queued + self.callbacks


class LeadBook:
    def __init__(
        self, leads: Iterable[Lead] = (), *, order: LeadOrder = LeadOrder.NEW_FIRST, retry: RetryPolicy
    ) -> None:
        self.order = order
        self.retry = retry
        self.leads: dict[str, Lead] = {}
        self._ready: list[tuple[tuple[float, ...], int, str]] = []
        self._pending: list[tuple[float, int, str]] = []
        self._callbacks: list[tuple[float, int, str]] = []
        self._version: dict[str, int] = {}
        self.add(leads)

    # -- queueing ---------------------------------------------------------------------------

    def add(self, leads: Iterable[Lead]) -> None:
        for lead in leads:
            if lead.id in self.leads:
                raise ValueError(f"lead {lead.id} is already in the campaign")
            self.leads[lead.id] = lead
            self._version[lead.id] = 0
            if lead.state in DIALABLE:
                self._queue(lead)
            elif lead.state is LeadState.CALLBACK and lead.callback is not None:
                self._push_callback(lead)

    def get(self, lead_id: str) -> Lead:
        return self.leads[lead_id]

    def _bump(self, lead: Lead) -> int:
        self._version[lead.id] += 1
        return self._version[lead.id]

    def _queue(self, lead: Lead) -> None:
        version = self._bump(lead)
        heapq.heappush(self._pending, (lead.next_at, version, lead.id))

    def _push_callback(self, lead: Lead) -> None:
        assert lead.callback is not None
        version = self._bump(lead)
        heapq.heappush(self._callbacks, (lead.callback.at, version, lead.id))

    def _current(self, version: int, lead_id: str) -> bool:
        return self._version.get(lead_id) == version

    def _promote(self, now: float) -> None:
        while self._pending and self._pending[0][0] <= now:
            _, version, lead_id = heapq.heappop(self._pending)
            if not self._current(version, lead_id):
                continue
            lead = self.leads[lead_id]
            if lead.state in DIALABLE:
                heapq.heappush(self._ready, (order_key(self.order, lead), version, lead_id))

    def pop_next(self, now: float) -> Lead | None:
        """The best lead dialable now, taken off the queue (defer or move it, else it is lost)."""
        self._promote(now)
        while self._ready:
            _, version, lead_id = heapq.heappop(self._ready)
            if self._current(version, lead_id) and self.leads[lead_id].state in DIALABLE:
                self._bump(self.leads[lead_id])
                return self.leads[lead_id]
        return None

    def defer(self, lead: Lead, until: float) -> None:
        """Put a lead back, dialable from `until` (a calling window, a retry delay, a skip)."""
        lead.next_at = until
        if lead.state not in DIALABLE:
            lead.move(LeadState.QUEUED)
        self._queue(lead)

    def next_due(self) -> float | None:
        """When the next waiting lead or callback becomes due (for the engine's timer)."""
        while self._pending and not self._current(self._pending[0][1], self._pending[0][2]):
            heapq.heappop(self._pending)
        while self._callbacks and not self._current(self._callbacks[0][1], self._callbacks[0][2]):
            heapq.heappop(self._callbacks)
        times = [h[0][0] for h in (self._pending, self._callbacks) if h]
        return min(times) if times else None

    # -- callbacks --------------------------------------------------------------------------

    def book_callback(self, lead: Lead, callback: Callback) -> None:
        if lead.state is not LeadState.CALLBACK:
            lead.move(LeadState.CALLBACK)
        lead.callback = callback
        self._push_callback(lead)

    def pop_due_callbacks(self, now: float) -> list[Lead]:
        due = []
        while self._callbacks and self._callbacks[0][0] <= now:
            _, version, lead_id = heapq.heappop(self._callbacks)
            lead = self.leads[lead_id]
            if self._current(version, lead_id) and lead.state is LeadState.CALLBACK:
                self._bump(lead)
                due.append(lead)
        return due

    # -- after a dial -----------------------------------------------------------------------

    def record(self, lead: Lead, attempt: Attempt, outcome: OutcomeCode | None) -> None:
        """Keep the attempt in the lead's history (compliance rules read it)."""
        assert attempt.result is not None
        lead.history.append(
            AttemptSummary(
                at=attempt.dialed_at,
                number=attempt.number,
                result=attempt.result,
                abandoned=attempt.abandoned,
                refusal=outcome is not None and outcome.refusal,
            )
        )
        lead.attempts += 1
        lead.last_attempt_at = attempt.dialed_at
        lead.last_result = attempt.result
        lead.last_outcome = outcome.code if outcome else None
        lead.result_counts[attempt.result] = lead.result_counts.get(attempt.result, 0) + 1

    def settle(self, lead: Lead, attempt: Attempt, outcome: OutcomeCode | None, now: float) -> LeadState:
        """Record the attempt and decide what happens to the lead next; returns its new state."""
        self.record(lead, attempt, outcome)
        result = attempt.result
        assert result is not None
        if result is AttemptResult.INVALID:
            remaining = tuple(n for n in lead.numbers if n != attempt.number)
            if not remaining:
                lead.move(LeadState.INVALID)
                return lead.state
            lead.numbers = remaining
            lead.number_index = 0
            return self._retry_at(lead, now)
        if outcome is not None:
            if outcome.dnc:
                lead.move(LeadState.DNC)
                return lead.state
            if outcome.final or outcome.refusal:
                lead.move(LeadState.DONE)
                return lead.state
            delay = outcome.retry_after if outcome.retry_after is not None else self.retry.default_retry_after
            return self._retry_at(lead, now + delay)
        rule = self.retry.rules.get(result)
        if rule is None:  # connected and no outcome given
            return self._retry_at(lead, now + self.retry.default_retry_after)
        if lead.result_counts[result] >= rule.max_attempts:
            lead.move(LeadState.EXHAUSTED)
            return lead.state
        lead.number_index = (lead.number_index + 1) % len(lead.numbers)
        return self._retry_at(lead, now + rule.delay)

    def _retry_at(self, lead: Lead, at: float) -> LeadState:
        # the campaign's own ceiling of attempts per period: wait until the oldest leaves it
        recent = sorted(a.at for a in lead.history if a.at > at - self.retry.period)
        if len(recent) >= self.retry.max_attempts:
            at = max(at, recent[len(recent) - self.retry.max_attempts] + self.retry.period)
        self.defer(lead, at)
        return lead.state

    def release(self, lead: Lead, now: float) -> None:
        """A lead taken but not dialled (preview skipped, agent gone): back in the queue now."""
        self.defer(lead, now)

    # -- list management --------------------------------------------------------------------

    def recycle(self, results: Iterable[AttemptResult], now: float) -> int:
        """Start a new round for exhausted leads whose last result is one of `results`."""
        wanted = frozenset(results)
        count = 0
        for lead in self.leads.values():
            if lead.state is LeadState.EXHAUSTED and lead.last_result in wanted:
                lead.rounds += 1
                lead.attempts = 0
                lead.result_counts = {}
                self.defer(lead, now)
                count += 1
        return count

    def stats(self, now: float) -> ListStats:
        by: dict[LeadState, int] = dict.fromkeys(LeadState, 0)
        ready = dialed = contacted = 0
        for lead in self.leads.values():
            by[lead.state] += 1
            if lead.state in DIALABLE and lead.next_at <= now:
                ready += 1
            if lead.history:
                dialed += 1
                if any(a.result is AttemptResult.CONNECTED for a in lead.history):
                    contacted += 1
        return ListStats(
            total=len(self.leads),
            new=by[LeadState.NEW],
            dialable_now=ready,
            queued=by[LeadState.QUEUED],
            in_progress=by[LeadState.DIALING] + by[LeadState.PREVIEWING],
            callbacks=by[LeadState.CALLBACK],
            done=by[LeadState.DONE],
            exhausted=by[LeadState.EXHAUSTED],
            dnc=by[LeadState.DNC],
            invalid=by[LeadState.INVALID],
            dialed=dialed,
            contacted=contacted,
        )
