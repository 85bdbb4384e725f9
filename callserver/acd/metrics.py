"""Queue and agent statistics computed from the engine's facts alone.

Pure and incremental: feed every fact to `MetricsBook.apply`, ask `snapshot(now)` whenever a report
or a monitor needs one. The live server (queue tiles and `GET /api/metrics` read the same book),
the web monitor and the offline simulator share it, and every figure comes from `callserver.figures`,
so a figure means the same thing everywhere. Call figures are credited to the interval the call
arrived in (so offered = answered + abandoned + timed out + still waiting, per interval), which is
also what `since` selects; agent time is split at interval boundaries. Occupancy = busy (ringing,
on call, wrap-up) / staffed (available, or paused or logged out while still busy with a call); idle
time on a pause is not staffed time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ..facts.campaign import CampaignFact
from ..facts.model import (
    AgentPhoneChanged,
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallHeld,
    CallLinkedToCustomer,
    CallOffered,
    CallQueued,
    CallRejected,
    CallRequeued,
    CallResumed,
    CallTransferred,
    CallWrappedUp,
    CustomerFieldSet,
    Fact,
    IvrLeft,
    IvrNodeEntered,
    OfferEnded,
    Outcome,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)
from ..figures import (
    DEFAULT_SERVICE_TIME,
    DEFAULT_SHORT_ABANDON,
    AgentTime,
    CallCounts,
    CallStats,
    answered_in_time,
    call_stats,
    is_short_abandon,
    occupancy,
)
from .model import CallKind

TASK_KIND = CallKind.VOICEMAIL.value  # CallQueued.kind of a voicemail or callback task
_BUSY_STATES = frozenset({"ringing", "on_call", "wrapup"})
_T = TypeVar("_T")
# the live server's reporting interval: a whole number of them fits between two local midnights in
# every time zone in use (offsets are multiples of 15 minutes), so "today" is a run of intervals
LIVE_INTERVAL = 900.0
LIVE_KEEP = 2 * 86_400.0  # seconds of intervals the live server keeps: today and yesterday


@dataclass(slots=True)
class _CallTally:
    """Counters for the calls that arrived in one interval (or the whole run)."""

    offered: int = 0
    overflowed_in: int = 0
    overflowed_out: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    timed_out: int = 0
    wait_answered: float = 0.0
    handled: int = 0
    handle_time: float = 0.0
    transferred: int = 0
    callbacks: int = 0
    longest_wait: float = 0.0

    def counts(self) -> CallCounts:
        return CallCounts(
            offered=self.offered,
            overflowed_in=self.overflowed_in,
            overflowed_out=self.overflowed_out,
            answered=self.answered,
            answered_in_time=self.answered_in_time,
            abandoned=self.abandoned,
            short_abandoned=self.short_abandoned,
            timed_out=self.timed_out,
            wait_answered=self.wait_answered,
            handled=self.handled,
            handle_time=self.handle_time,
            transferred=self.transferred,
            callbacks=self.callbacks,
            longest_wait=self.longest_wait,
        )

    def add(self, other: _CallTally) -> None:
        for name in _CallTally.__slots__:
            if name == "longest_wait":
                self.longest_wait = max(self.longest_wait, other.longest_wait)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class _TimeTally:
    """Agent seconds as in `figures.AgentTime`: logged in, ready, paused, staffed and busy."""

    logged_in: float = 0.0
    ready: float = 0.0
    paused: float = 0.0
    staffed: float = 0.0
    busy: float = 0.0

    def add(self, other: _TimeTally) -> None:
        self.logged_in += other.logged_in
        self.ready += other.ready
        self.paused += other.paused
        self.staffed += other.staffed
        self.busy += other.busy

    def copy(self) -> _TimeTally:
        return _TimeTally(self.logged_in, self.ready, self.paused, self.staffed, self.busy)

    def frozen(self) -> AgentTime:
        return AgentTime(self.logged_in, self.ready, self.paused, self.staffed, self.busy)

    def credit(self, clock: _AgentClock, seconds: float) -> None:
        """`seconds` spent in the clock's current status and state."""
        if clock.status != "logged_out":
            self.logged_in += seconds
        if clock.status == "available":
            self.ready += seconds
        elif clock.status == "paused":
            self.paused += seconds
        if clock.staffed:
            self.staffed += seconds
            if clock.state in _BUSY_STATES:
                self.busy += seconds


@dataclass(frozen=True, slots=True)
class IntervalStats:
    start: float
    stats: CallStats


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    queue: str
    waiting: int
    longest_wait: float
    total: CallStats
    intervals: tuple[IntervalStats, ...]


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    agent_id: str
    status: str
    state: str
    calls_handled: int
    staffed: float
    busy: float
    occupancy: float | None


@dataclass(frozen=True, slots=True)
class QueueIntervalCounts:
    queue: str
    start: float
    counts: CallCounts
    time: AgentTime | None  # the serving agents' time; None when no agent serves the queue


@dataclass(frozen=True, slots=True)
class AgentIntervalTime:
    agent_id: str
    start: float
    time: AgentTime


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    at: float
    queues: tuple[QueueSnapshot, ...]
    agents: tuple[AgentSnapshot, ...]


@dataclass(frozen=True, slots=True)
class Touched:
    """What may have changed in a book's intervals since the previous `take_touched`.

    `agents_from`: the earliest time an agent's clock moved (a status or state change; inf when
    none did). An agent's intervals before the one holding min(that, the previous query's `now`)
    are closed and credited for good: the open span a query credits there is exactly what the
    change credits (same status, same pieces). `queues`: each queue's intervals whose call
    tallies changed (a call is credited to the interval it arrived in, however old).
    """

    agents_from: float
    queues: dict[str, set[int]]


def _key(at: float, interval: float) -> int:
    return math.floor(at / interval)


def _prune(buckets: dict[int, _T], newest: int, keep: int | None) -> None:
    """Drop the buckets more than `keep` intervals older than `newest`."""
    if keep is not None:
        for key in [k for k in buckets if k < newest - keep]:
            del buckets[key]


@dataclass(slots=True)
class QueueMetrics:
    """One queue: who waits now, and the call tallies for the whole run and per interval."""

    name: str
    service_time: float
    short_abandon: float
    interval: float | None
    keep: int | None = None  # intervals kept (None: all)
    waiting: dict[str, float] = field(default_factory=dict)  # call id -> arrival time
    total: _CallTally = field(default_factory=_CallTally)
    buckets: dict[int, _CallTally] = field(default_factory=dict)
    # the intervals whose tallies changed since `MetricsBook.take_touched` (None: not tracked)
    touched: set[int] | None = None

    def tallies(self, arrived_at: float) -> tuple[_CallTally, ...]:
        if self.interval is None:
            return (self.total,)
        key = _key(arrived_at, self.interval)
        if self.touched is not None:
            self.touched.add(key)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _CallTally()
            _prune(self.buckets, key, self.keep)
        return (self.total, bucket)

    def waiting_count(self) -> int:
        return len(self.waiting)

    def longest_wait(self, now: float) -> float:
        return max((now - t for t in self.waiting.values()), default=0.0)

    def answered(self, wait: float, arrived_at: float) -> None:
        for t in self.tallies(arrived_at):
            t.answered += 1
            t.wait_answered += wait
            t.longest_wait = max(t.longest_wait, wait)
            if answered_in_time(wait, self.service_time):
                t.answered_in_time += 1

    def ended_unanswered(self, outcome: Outcome, wait: float, arrived_at: float) -> None:
        for t in self.tallies(arrived_at):
            if outcome in (Outcome.TIMED_OUT, Outcome.ABANDONED):
                t.longest_wait = max(t.longest_wait, wait)
            if outcome is Outcome.TIMED_OUT:
                t.timed_out += 1
            elif outcome is Outcome.ABANDONED and is_short_abandon(wait, self.short_abandon):
                t.short_abandoned += 1
            elif outcome is Outcome.ABANDONED:
                t.abandoned += 1

    def since(self, first: int | None) -> _CallTally:
        """The tally of the calls that arrived from interval `first` on (None: the whole run)."""
        if first is None:
            return self.total
        tally = _CallTally()
        for key, bucket in self.buckets.items():
            if key >= first:
                tally.add(bucket)
        return tally


def _stats(t: _CallTally, time: _TimeTally | None) -> CallStats:
    if time is None:
        return call_stats(t.counts())
    return call_stats(t.counts(), busy=time.busy, staffed=time.staffed)


@dataclass(slots=True)
class _AgentClock:
    """Where an agent is now and since when, plus the time it has accumulated so far."""

    agent_id: str
    status: str = "logged_out"
    state: str = "idle"
    since: float = 0.0
    handle_call: str | None = None
    handle_start: float = 0.0
    calls_handled: int = 0
    total: _TimeTally = field(default_factory=_TimeTally)

    @property
    def staffed(self) -> bool:
        busy = self.state in _BUSY_STATES
        return self.status == "available" or (self.status != "logged_out" and busy)


class MetricsBook:
    """Every queue and agent, fed facts in order; queries take `now` and never mutate."""

    def __init__(
        self,
        queues: Iterable[str],
        *,
        agent_queues: Mapping[str, Iterable[str]] | None = None,
        service_time: float = DEFAULT_SERVICE_TIME,
        short_abandon: float = DEFAULT_SHORT_ABANDON,
        interval: float | None = None,
        keep: float | None = None,
        track: bool = False,
    ) -> None:
        """`agent_queues` (agent id -> queues it serves) lets occupancy be reported per queue.

        With an `interval`, figures are also kept per interval, and `keep` (seconds) bounds how
        far back: a server that runs for months keeps a few days, a simulated day keeps it all.
        `track`: remember what changed for `take_touched` (the report fold asks for its increments
        from that instead of recomputing every kept interval of every agent).
        """
        if interval is not None and interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if keep is not None and interval is None:
            raise ValueError("keep needs an interval")
        self.interval = interval
        self.keep = None if keep is None or interval is None else math.ceil(keep / interval)
        self.service_time = service_time
        self.short_abandon = short_abandon
        self._track = track
        self._agents_from = math.inf
        self.queues = {q: self._new_queue(q) for q in queues}
        self.agent_queues = {a: frozenset(qs) for a, qs in (agent_queues or {}).items()}
        self.agents: dict[str, _AgentClock] = {}
        self._agent_buckets: dict[str, dict[int, _TimeTally]] = {}
        self._calls: dict[str, tuple[str, float]] = {}  # call id -> (queue, arrival) while not ended
        self._handled: dict[str, tuple[str, float]] = {}  # answered call id -> (queue, arrival)
        # voicemail and callback tasks are work, not calls: no call figure counts them
        self._tasks: set[str] = set()
        self._answered: set[str] = set()  # calls answered at least once and not ended
        self._transferred: set[str] = set()  # answered calls already counted as transferred

    def _new_queue(self, name: str) -> QueueMetrics:
        touched: set[int] | None = set() if self._track else None
        return QueueMetrics(
            name, self.service_time, self.short_abandon, self.interval, self.keep, touched=touched
        )

    def take_touched(self) -> Touched:
        """What changed since the previous call (a book made with `track`), and start afresh."""
        touched = Touched(self._agents_from, {})
        for name, queue in self.queues.items():
            if queue.touched:
                touched.queues[name] = queue.touched
                queue.touched = set()
        self._agents_from = math.inf
        return touched

    # -- input --------------------------------------------------------------------------

    def apply(self, fact: Fact, queue_name: str | None = None) -> None:
        """`queue_name`: count a call's fact under this name instead of its queue's (the report
        fold's book of dialled numbers), without a copy of the fact (`dataclasses.replace` cost
        more than the counting)."""
        match fact:
            case CallQueued() if fact.kind == TASK_KIND:
                self._tasks.add(fact.call_id)
            case CallQueued():
                name = fact.queue if queue_name is None else queue_name
                queue = self._queue(name)
                self._calls[fact.call_id] = (name, fact.at)
                queue.waiting[fact.call_id] = fact.at
                for t in queue.tallies(fact.at):
                    t.offered += 1
            case CallRequeued():
                _, arrived = self._calls.get(fact.call_id, (fact.from_queue, fact.at))
                self._calls[fact.call_id] = (fact.to_queue, arrived)
                src, dst = self._queue(fact.from_queue), self._queue(fact.to_queue)
                src.waiting.pop(fact.call_id, None)
                dst.waiting[fact.call_id] = arrived
                for t in src.tallies(arrived):
                    t.overflowed_out += 1
                for t in dst.tallies(arrived):
                    t.overflowed_in += 1
            case CallAnswered() if fact.call_id in self._tasks:
                pass
            case CallAnswered():
                name = fact.queue if queue_name is None else queue_name
                queue = self._queue(name)
                queue.waiting.pop(fact.call_id, None)
                arrived = fact.at - fact.wait
                self._handled[fact.call_id] = (name, arrived)
                if fact.call_id not in self._answered:
                    # answered again after a transfer: still one call answered, counted the first time
                    self._answered.add(fact.call_id)
                    queue.answered(fact.wait, arrived)
            case CallEnded() if fact.call_id in self._tasks:
                self._tasks.discard(fact.call_id)
            case CallEnded():
                self._answered.discard(fact.call_id)
                self._transferred.discard(fact.call_id)
                name = fact.queue if queue_name is None else queue_name
                queue = self._queue(name)
                queue.waiting.pop(fact.call_id, None)
                _, arrived = self._calls.pop(fact.call_id, (name, fact.at - fact.wait))
                if fact.outcome is not Outcome.ANSWERED:
                    queue.ended_unanswered(fact.outcome, fact.wait, arrived)
            case AgentStatusChanged():
                clock = self._advance(fact.agent_id, fact.at)
                clock.status = fact.status
            case AgentStateChanged():
                self._agent_state(fact)
            case CallTransferred():
                handled = self._handled.get(fact.call_id)
                if handled is not None and fact.call_id not in self._transferred:
                    self._transferred.add(fact.call_id)  # a call transferred twice is one transferred call
                    for t in self._queue(handled[0]).tallies(handled[1]):
                        t.transferred += 1
            case CallbackRequested():
                name = fact.queue if queue_name is None else queue_name
                _, arrived = self._calls.get(fact.call_id, (name, fact.at))
                for t in self._queue(name).tallies(arrived):
                    t.callbacks += 1
            case (
                CallOffered()
                | OfferEnded()
                | CallHeld()
                | CallResumed()
                | CallRejected()
                | CallWrappedUp()
                | CallLinkedToCustomer()
                | CustomerFieldSet()
                | ScriptRunStarted()
                | ScriptStepReached()
                | ScriptAnswered()
                | ScriptRunEnded()
                | WrapupExtended()
                | TransferProgress()
                | AgentPhoneChanged()
                | IvrNodeEntered()
                | IvrLeft()
            ):
                pass  # no figure counts these (hold time is inside handle time)
            case _:
                _outbound(fact)

    def _queue(self, name: str) -> QueueMetrics:
        queue = self.queues.get(name)
        if queue is None:
            # a queue added to the live configuration after start: counted from its first fact
            queue = self.queues[name] = self._new_queue(name)
        return queue

    def _agent_state(self, fact: AgentStateChanged) -> None:
        clock = self._advance(fact.agent_id, fact.at)
        clock.state = fact.new
        if fact.new == "on_call" and fact.call_id is not None:
            clock.handle_call, clock.handle_start = fact.call_id, fact.at
        elif fact.new == "idle" and clock.handle_call is not None:
            # handle time runs from answer through talk (and hold) to the end of wrap-up
            handled = self._handled.pop(clock.handle_call, None)
            if handled is not None:
                queue_name, arrived = handled
                for t in self._queue(queue_name).tallies(arrived):
                    t.handled += 1
                    t.handle_time += fact.at - clock.handle_start
            clock.calls_handled += 1
            clock.handle_call = None

    def _advance(self, agent_id: str, now: float) -> _AgentClock:
        """Credit the time since the agent's last change, split at interval boundaries."""
        if now < self._agents_from:
            self._agents_from = now
        clock = self.agents.get(agent_id)
        if clock is None:
            clock = self.agents[agent_id] = _AgentClock(agent_id, since=now)
            return clock
        self._credit(clock, clock.since, now, self._agent_buckets.setdefault(agent_id, {}), clock.total)
        clock.since = now
        return clock

    def _credit(
        self, clock: _AgentClock, start: float, end: float, buckets: dict[int, _TimeTally], total: _TimeTally
    ) -> None:
        if end <= start or (clock.status == "logged_out" and not clock.staffed):
            return
        total.credit(clock, end - start)
        if self.interval is None:
            return
        t = start
        while t < end:
            key = _key(t, self.interval)
            stop = min(end, (key + 1) * self.interval)
            bucket = buckets.get(key)
            if bucket is None:
                bucket = buckets[key] = _TimeTally()
                _prune(buckets, key, self.keep)
            bucket.credit(clock, stop - t)
            t = stop

    # -- queries ------------------------------------------------------------------------

    def _first(self, since: float | None) -> int | None:
        """The first interval a query over [since, now] covers: the one `since` falls in."""
        if since is None:
            return None
        if self.interval is None:
            raise ValueError("figures since a time need a book kept per interval")
        return _key(since, self.interval)

    def _agent_time(
        self, agent_id: str, now: float, first: int | None
    ) -> tuple[_TimeTally, dict[int, _TimeTally]]:
        """Accumulated time including the still-open span, without touching the live tallies."""
        clock = self.agents[agent_id]
        total = clock.total.copy()
        buckets = {k: v.copy() for k, v in self._agent_buckets.get(agent_id, {}).items()}
        self._credit(clock, clock.since, now, buckets, total)
        if first is not None:
            buckets = {k: v for k, v in buckets.items() if k >= first}
            total = _TimeTally()
            for b in buckets.values():
                total.add(b)
        return total, buckets

    def call_stats(self, queue: str, since: float | None = None) -> CallStats:
        """The call figures of one queue (no occupancy: cheap enough for every tile refresh).

        `since`: only the calls that arrived from the interval holding `since` on (None: whole run).
        """
        metrics = self.queues.get(queue) or self._new_queue(queue)
        return _stats(metrics.since(self._first(since)), None)

    def queue_stats(self, queue: str, now: float, since: float | None = None) -> CallStats:
        """The figures for one queue, occupancy included, over the run or from `since`."""
        first = self._first(since)
        return self.snapshot_queue(queue, now, self._all_agent_time(now, first), first).total

    def _all_agent_time(
        self, now: float, first: int | None
    ) -> dict[str, tuple[_TimeTally, dict[int, _TimeTally]]]:
        return {a: self._agent_time(a, now, first) for a in self.agents}

    def snapshot_queue(
        self,
        name: str,
        now: float,
        times: dict[str, tuple[_TimeTally, dict[int, _TimeTally]]],
        first: int | None = None,
    ) -> QueueSnapshot:
        queue = self.queues[name]
        members = [a for a in times if name in self.agent_queues.get(a, ())]
        total_time = _TimeTally()
        interval_time: dict[int, _TimeTally] = {}
        for agent in members:
            total, buckets = times[agent]
            total_time.add(total)
            for key, b in buckets.items():
                interval_time.setdefault(key, _TimeTally()).add(b)
        keys = sorted(k for k in set(queue.buckets) | set(interval_time) if first is None or k >= first)
        intervals = tuple(
            IntervalStats(
                start=k * (self.interval or 0.0),
                stats=_stats(queue.buckets.get(k, _CallTally()), interval_time.get(k)),
            )
            for k in keys
        )
        return QueueSnapshot(
            queue=name,
            waiting=queue.waiting_count(),
            longest_wait=queue.longest_wait(now),
            total=_stats(queue.since(first), total_time if members else None),
            intervals=intervals,
        )

    def intervals(
        self, now: float, first: int | None = None
    ) -> tuple[list[QueueIntervalCounts], list[AgentIntervalTime]]:
        """Every kept interval's raw counts per queue, with the time of the agents serving it, and
        every kept interval's time per agent, the still-open span up to `now` included: what the
        historical reports store, the same tallies the tiles read, before any ratio.

        `first`: only the intervals from that one on, without copying the agents' older ones (a
        pass over what changed lately instead of over every kept interval of every agent)."""
        if first is None:
            times = {a: buckets for a, (_, buckets) in self._all_agent_time(now, None).items()}
        else:
            times = {a: self._agent_buckets_from(a, clock, now, first) for a, clock in self.agents.items()}
        queues: list[QueueIntervalCounts] = []
        for name, queue in self.queues.items():
            member_time: dict[int, _TimeTally] = {}
            for agent, buckets in times.items():
                if name in self.agent_queues.get(agent, ()):
                    for key, b in buckets.items():
                        member_time.setdefault(key, _TimeTally()).add(b)
            kept = queue.buckets if first is None else {k: t for k, t in queue.buckets.items() if k >= first}
            for key in sorted(set(kept) | set(member_time)):
                tally = queue.buckets.get(key)
                time = member_time.get(key)
                queues.append(
                    QueueIntervalCounts(
                        queue=name,
                        start=key * (self.interval or 0.0),
                        counts=(tally or _CallTally()).counts(),
                        time=None if time is None else time.frozen(),
                    )
                )
        agents = [
            AgentIntervalTime(agent_id=agent, start=key * (self.interval or 0.0), time=b.frozen())
            for agent, buckets in sorted(times.items())
            for key, b in sorted(buckets.items())
        ]
        return queues, agents

    def queue_counts(self, queue: str, key: int) -> CallCounts | None:
        """The call counts of one kept interval of a queue (None: no such interval kept)."""
        metrics = self.queues.get(queue)
        tally = None if metrics is None else metrics.buckets.get(key)
        return None if tally is None else tally.counts()

    def _agent_buckets_from(
        self, agent_id: str, clock: _AgentClock, now: float, first: int
    ) -> dict[int, _TimeTally]:
        """The agent's intervals from `first` on, as `_agent_time` gives them: the kept tallies
        copied, the open span credited from where it enters interval `first` (the same pieces,
        split at the same boundaries, as crediting it from its start)."""
        assert self.interval is not None
        buckets = {k: v.copy() for k, v in self._agent_buckets.get(agent_id, {}).items() if k >= first}
        self._credit(clock, max(clock.since, first * self.interval), now, buckets, _TimeTally())
        return buckets

    def snapshot(self, now: float, since: float | None = None) -> BookSnapshot:
        """Frozen figures for every queue and agent as of `now`, over the run or from `since`."""
        first = self._first(since)
        times = self._all_agent_time(now, first)
        agents = tuple(
            AgentSnapshot(
                agent_id=a,
                status=clock.status,
                state=clock.state,
                calls_handled=clock.calls_handled,
                staffed=times[a][0].staffed,
                busy=times[a][0].busy,
                occupancy=occupancy(times[a][0].busy, times[a][0].staffed),
            )
            for a, clock in sorted(self.agents.items())
        )
        queues = tuple(self.snapshot_queue(q, now, times, first) for q in self.queues)
        return BookSnapshot(at=now, queues=queues, agents=agents)


def live_book(
    queues: Iterable[str], *, agent_queues: Mapping[str, Iterable[str]] | None = None, service_time: float
) -> MetricsBook:
    """The live server's book: per 15-minute interval, two days kept, so "today" can be asked for."""
    return MetricsBook(
        queues, agent_queues=agent_queues, service_time=service_time, interval=LIVE_INTERVAL, keep=LIVE_KEEP
    )


__all__ = [
    "DEFAULT_SERVICE_TIME",
    "DEFAULT_SHORT_ABANDON",
    "LIVE_INTERVAL",
    "LIVE_KEEP",
    "AgentIntervalTime",
    "AgentSnapshot",
    "BookSnapshot",
    "CallStats",
    "IntervalStats",
    "MetricsBook",
    "QueueIntervalCounts",
    "QueueSnapshot",
    "live_book",
]


def _outbound(fact: CampaignFact) -> None:
    """Campaign facts: queue figures do not count outbound calls (campaign tiles have their own)."""
