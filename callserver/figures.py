"""The call-centre figures, each defined once: service level, ASA, AHT, abandon rate, occupancy.

Pure functions over counts and durations: no facts, no clock, no I/O. The live book
(`acd/metrics.py`) counts facts into `CallCounts` and asks this module for the figures, so the
supervisor's queue tiles, `GET /api/metrics` and the capacity report show the same number for the
same calls; a report over the call table can build `CallCounts` from SQL and get them too.
`docs/metrics.md` gives each formula with its edge cases.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    service_level: float | None
    service_level_with_abandons: float | None
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
        service_level=service_level(counts),
        service_level_with_abandons=service_level_with_abandons(counts),
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
    )
