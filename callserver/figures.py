"""The call-centre figures, each defined once: service level, ASA, AHT, abandon rate, occupancy.

Pure functions over counts and durations: no facts, no clock, no I/O. The live book
(`acd/metrics.py`) counts facts into `CallCounts` and asks this module for the figures, so the
supervisor's queue tiles, `GET /api/metrics` and the capacity report show the same number for the
same calls; a report over the call table can build `CallCounts` from SQL and get them too.
`docs/metrics.md` gives each formula with its edge cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import assert_never

DEFAULT_SERVICE_TIME = 20.0  # T, seconds: "answered within T"
DEFAULT_SHORT_ABANDON = 5.0  # seconds: a caller gone sooner never really waited


def answered_in_time(wait: float, service_time: float) -> bool:
    """A call answered after `wait` seconds counts as within T when wait <= T (T itself is in time)."""
    return wait <= service_time


def is_short_abandon(wait: float, short_abandon: float) -> bool:
    """A caller who hung up before `short_abandon` seconds (a misdial, a change of mind)."""
    return wait < short_abandon


@dataclass(frozen=True, slots=True)
class CallCounts:
    """What became of the calls that arrived in one queue over one period (waits in seconds).

    Calls are credited to the period they arrived in and to the queue where each thing happened:
    `offered` where they first queued, `answered` where an agent took them (an overflowed call in
    the queue it overflowed to, `overflowed_in` there and `overflowed_out` where it left).
    """

    offered: int = 0
    overflowed_in: int = 0
    overflowed_out: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0  # callers who hung up while waiting, short abandons not included
    short_abandoned: int = 0
    timed_out: int = 0  # let go at max wait (or refused) with a message, then hung up on
    wait_answered: float = 0.0  # total wait of the answered calls, from first entering a queue
    handled: int = 0  # answered calls whose handling (talk, hold, wrap-up) has ended
    handle_time: float = 0.0  # their total handle time
    transferred: int = 0  # answered calls an agent transferred (to a queue, a colleague, outside)
    callbacks: int = 0  # callers who asked to be called back instead of waiting
    longest_wait: float = 0.0  # the longest wait of a call that left the queue (answered or not)


@dataclass(frozen=True, slots=True)
class CallStats:
    """Counts and figures for one queue over a period; a ratio is None while its base is zero."""

    offered: int
    overflowed_in: int
    overflowed_out: int
    answered: int
    answered_in_time: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    transferred: int
    callbacks: int
    longest_wait: float
    service_level: float | None
    service_level_with_abandons: float | None
    service_level_over_offered: float | None
    service_level_over_offered_minus_short: float | None
    abandon_rate: float | None
    asa: float | None
    aht: float | None
    occupancy: float | None


def ratio(part: float, base: float) -> float | None:
    """part / base, or None when there is no base (no call counted yet is not 0 %)."""
    return part / base if base > 0 else None


def service_level(counts: CallCounts) -> float | None:
    """Share of the answered calls that were answered within T."""
    return ratio(counts.answered_in_time, counts.answered)


def service_level_with_abandons(counts: CallCounts) -> float | None:
    """Share within T of the calls answered or lost here: real abandons and time-outs count against."""
    return ratio(counts.answered_in_time, counts.answered + counts.abandoned + counts.timed_out)


def service_level_over_offered(counts: CallCounts) -> float | None:
    """Share within T of every call offered here (or overflowed in, not moved on), short abandons too."""
    return ratio(counts.answered_in_time, counts.offered + counts.overflowed_in - counts.overflowed_out)


def service_level_over_offered_minus_short(counts: CallCounts) -> float | None:
    """Share within T of the calls this queue kept: offered ones, short abandons left out."""
    return ratio(counts.answered_in_time, kept(counts))


class ServiceLevelVariant(StrEnum):
    """The service level a queue reports as its `service_level`, chosen per queue."""

    ANSWERED = "answered"  # answered within T / answered
    WITH_ABANDONS = "with_abandons"  # answered within T / (answered + abandoned + timed out)
    OFFERED = "offered"  # answered within T / offered
    OFFERED_MINUS_SHORT = "offered_minus_short"  # answered within T / (offered - short abandoned)


def service_level_as(variant: ServiceLevelVariant, counts: CallCounts) -> float | None:
    """The service level of `counts` in the queue's chosen variant."""
    match variant:
        case ServiceLevelVariant.ANSWERED:
            return service_level(counts)
        case ServiceLevelVariant.WITH_ABANDONS:
            return service_level_with_abandons(counts)
        case ServiceLevelVariant.OFFERED:
            return service_level_over_offered(counts)
        case ServiceLevelVariant.OFFERED_MINUS_SHORT:
            return service_level_over_offered_minus_short(counts)
        case _:
            assert_never(variant)


def kept(counts: CallCounts) -> int:
    """Calls this queue had to serve: offered here or overflowed in, not moved on, not short abandons."""
    return counts.offered + counts.overflowed_in - counts.overflowed_out - counts.short_abandoned


def abandon_rate(counts: CallCounts) -> float | None:
    """Share of the calls this queue kept whose callers hung up before an answer."""
    return ratio(counts.abandoned, kept(counts))


def average_speed_of_answer(counts: CallCounts) -> float | None:
    """ASA: mean wait of the answered calls, in seconds."""
    return ratio(counts.wait_answered, counts.answered)


def average_handle_time(counts: CallCounts) -> float | None:
    """AHT: mean time from answer to the end of wrap-up of the calls whose handling has ended."""
    return ratio(counts.handle_time, counts.handled)


def occupancy(busy: float, staffed: float) -> float | None:
    """Share of staffed agent time spent ringing, talking (or holding) and in wrap-up."""
    return ratio(busy, staffed)


def call_stats(counts: CallCounts, *, busy: float | None = None, staffed: float | None = None) -> CallStats:
    """Every figure of `counts`; occupancy only when the agents' time is given."""
    return CallStats(
        offered=counts.offered,
        overflowed_in=counts.overflowed_in,
        overflowed_out=counts.overflowed_out,
        answered=counts.answered,
        answered_in_time=counts.answered_in_time,
        abandoned=counts.abandoned,
        short_abandoned=counts.short_abandoned,
        timed_out=counts.timed_out,
        transferred=counts.transferred,
        callbacks=counts.callbacks,
        longest_wait=counts.longest_wait,
        service_level=service_level(counts),
        service_level_with_abandons=service_level_with_abandons(counts),
        service_level_over_offered=service_level_over_offered(counts),
        service_level_over_offered_minus_short=service_level_over_offered_minus_short(counts),
        abandon_rate=abandon_rate(counts),
        asa=average_speed_of_answer(counts),
        aht=average_handle_time(counts),
        occupancy=None if busy is None or staffed is None else occupancy(busy, staffed),
    )


def add(a: CallCounts, b: CallCounts) -> CallCounts:
    """The counts of two periods (or queues) together."""
    return CallCounts(
        offered=a.offered + b.offered,
        overflowed_in=a.overflowed_in + b.overflowed_in,
        overflowed_out=a.overflowed_out + b.overflowed_out,
        answered=a.answered + b.answered,
        answered_in_time=a.answered_in_time + b.answered_in_time,
        abandoned=a.abandoned + b.abandoned,
        short_abandoned=a.short_abandoned + b.short_abandoned,
        timed_out=a.timed_out + b.timed_out,
        wait_answered=a.wait_answered + b.wait_answered,
        handled=a.handled + b.handled,
        handle_time=a.handle_time + b.handle_time,
        transferred=a.transferred + b.transferred,
        callbacks=a.callbacks + b.callbacks,
        longest_wait=max(a.longest_wait, b.longest_wait),
    )


def campaign_abandon_rate(abandoned: float, contacts: float) -> float | None:
    """Outbound: people reached but not connected to an agent in time, over the people reached
    (live answers): what the law caps per window (the abandon meter counts it the same way, with
    estimated AMD false positives added to both sides)."""
    return ratio(abandoned, contacts)


def time_to_close(total: float, closed: int) -> float | None:
    """Voicemail: mean seconds from a message's arrival to its task being closed by an agent."""
    return ratio(total, closed)


# How a caller leaves an IVR flow (`IvrLeft.outcome`): to a queue, into a mailbox, transferred
# out, finished in self-service (`ended`: no agent needed), hung up in the IVR, or the flow broke
# (`failed`: the caller was queued without it).
IVR_OUTCOMES: tuple[str, ...] = ("queue", "voicemail", "transfer", "ended", "hangup", "failed")
IVR_CONTAINED = "ended"  # the one outcome that counts as contained
IVR_ABANDONED = "hangup"  # hung up in the IVR: never contained, counted apart


def ivr_containment(contained: int, entered: int) -> float | None:
    """IVR: callers who finished in self-service (left with `ended`) over callers who entered the
    flow. A caller who hung up in the IVR, or is still in it, is in the base and not contained."""
    return ratio(contained, entered)


@dataclass(frozen=True, slots=True)
class AgentTime:
    """One agent's (or a team's) seconds over a period, split at the period's boundaries.

    `logged_in` is any status but logged out; `ready` is available; `paused` is on a break (any
    reason); `staffed` is ready, or paused or logged out while still busy with a call; `busy` is
    ringing, on a call (holds included) or in wrap-up, within staffed time.
    """

    logged_in: float = 0.0
    ready: float = 0.0
    paused: float = 0.0
    staffed: float = 0.0
    busy: float = 0.0


def utilisation(time: AgentTime) -> float | None:
    """Share of logged-in time spent busy with calls: pauses count in the base, unlike occupancy."""
    return ratio(time.busy, time.logged_in)


def availability(time: AgentTime) -> float | None:
    """Share of logged-in time the agent was ready for a call (available)."""
    return ratio(time.ready, time.logged_in)


def add_time(a: AgentTime, b: AgentTime) -> AgentTime:
    """The time of two periods (or agents) together."""
    return AgentTime(
        logged_in=a.logged_in + b.logged_in,
        ready=a.ready + b.ready,
        paused=a.paused + b.paused,
        staffed=a.staffed + b.staffed,
        busy=a.busy + b.busy,
    )
