"""The counters one aggregated row holds: what `figures` needs to compute every figure of a report.

A row is one 15-minute bucket (or one local day) of one dimension value (a queue, an agent...).
Counters add up across buckets and values, except `longest_wait`, which is a maximum; so any
interval, or a skill made of several queues, is the sum of its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import add, attrgetter, sub

from ..figures import IVR_OUTCOMES, AgentTime, CallCounts


@dataclass(slots=True)
class Counters:
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
    logged_in: float = 0.0
    ready: float = 0.0
    paused: float = 0.0
    staffed: float = 0.0
    busy: float = 0.0
    wrapups: int = 0
    # IVR rows ("ivr_flow" per flow, "ivr_node" per "flow/node"): callers who entered, then how
    # they left (one counter per `figures.IVR_OUTCOMES`)
    ivr_entered: int = 0
    ivr_queue: int = 0
    ivr_voicemail: int = 0
    ivr_transfer: int = 0
    ivr_ended: int = 0
    ivr_hangup: int = 0
    ivr_failed: int = 0

    def add(self, other: Counters) -> None:
        for name in NAMES:
            if name == MAXIMUM:
                self.longest_wait = max(self.longest_wait, other.longest_wait)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))

    def minus(self, earlier: Counters) -> Counters:
        """What changed since `earlier` (the same row before): the increment a writer adds."""
        # every counter at once (attrgetter's tuples): a writer asks this of every row it writes
        mine, before = _ALL(self), _ALL(earlier)
        delta = list(map(sub, mine, before))
        delta[_MAX_AT] = mine[_MAX_AT] if mine[_MAX_AT] > before[_MAX_AT] else 0.0
        return Counters(*delta)

    def is_zero(self) -> bool:
        return not any(_ALL(self))

    def values(self) -> tuple[float, ...]:
        """Every counter, in `NAMES` order (a row's columns after its keys)."""
        return _ALL(self)

    def calls(self) -> CallCounts:
        # positional: the first fields here are CallCounts' fields in its order (checked below)
        return CallCounts(*_CALLS(self))

    def time(self) -> AgentTime:
        return AgentTime(self.logged_in, self.ready, self.paused, self.staffed, self.busy)

    def with_calls(self, counts: CallCounts) -> Counters:
        """These counters with the call counts of `counts`."""
        for name in CALL_NAMES:
            setattr(self, name, getattr(counts, name))
        return self

    def with_time(self, time: AgentTime) -> Counters:
        for name in TIME_NAMES:
            setattr(self, name, getattr(time, name))
        return self


NAMES: tuple[str, ...] = tuple(f.name for f in fields(Counters))
MAXIMUM = "longest_wait"
_ALL = attrgetter(*NAMES)
_MAX_AT = NAMES.index(MAXIMUM)


def summed(first: tuple[float, ...], second: tuple[float, ...]) -> tuple[float, ...]:
    """Two rows' `values()` added up (`longest_wait`: the larger), as `Counters.add` does."""
    out = list(map(add, first, second))
    out[_MAX_AT] = max(first[_MAX_AT], second[_MAX_AT])
    return tuple(out)


INTEGERS = frozenset(f.name for f in fields(Counters) if f.type in ("int", int))
CALL_NAMES: tuple[str, ...] = tuple(f.name for f in fields(CallCounts))
if NAMES[: len(CALL_NAMES)] != CALL_NAMES:
    raise TypeError("Counters must begin with the fields of figures.CallCounts, in their order")
_CALLS = attrgetter(*CALL_NAMES)
TIME_NAMES: tuple[str, ...] = tuple(f.name for f in fields(AgentTime))
# the counter each way of leaving an IVR adds to
IVR_EXITS: dict[str, str] = {outcome: f"ivr_{outcome}" for outcome in IVR_OUTCOMES}
if not set(IVR_EXITS.values()) <= set(NAMES):
    raise TypeError("Counters must hold one ivr_<outcome> counter per figures.IVR_OUTCOMES")
