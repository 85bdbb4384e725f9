"""Fact sequences for whole calls, as the ACD engine would report them."""

from __future__ import annotations

from callserver.facts.model import (
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    CallRequeued,
    Fact,
    OfferEnded,
    OfferResult,
    Outcome,
)

T0 = 1_790_000_000.0  # Unix time, as in the live server


def queued(call_id: str, at: float = T0, caller: str = "+33140000001", queue: str = "sales") -> CallQueued:
    return CallQueued(call_id, at, queue, f"PJSIP/trunk-{call_id}", caller, "Caller", "0800100200")


def answered_call(call_id: str = "1700.1", t: float = T0) -> list[Fact]:
    """Offered to a1 (no answer), then a2 answers; the caller hangs up after talking."""
    return [
        queued(call_id, t),
        CallOffered(call_id, t + 2, "sales", "a1", f"{call_id}-leg1", 1),
        OfferEnded(call_id, t + 17, "a1", f"{call_id}-leg1", OfferResult.NO_ANSWER),
        CallOffered(call_id, t + 18, "sales", "a2", f"{call_id}-leg2", 2),
        CallAnswered(call_id, t + 21, "sales", "a2", 21.0),
        CallEnded(call_id, t + 90, "sales", Outcome.ANSWERED, "a2", 21.0),
    ]


def abandoned_call(call_id: str = "1700.2", t: float = T0) -> list[Fact]:
    """The caller hangs up while a1's phone rings."""
    return [
        queued(call_id, t),
        CallOffered(call_id, t + 3, "sales", "a1", f"{call_id}-leg1", 1),
        OfferEnded(call_id, t + 9, "a1", f"{call_id}-leg1", OfferResult.CANCELLED),
        CallEnded(call_id, t + 9, "sales", Outcome.ABANDONED, None, 9.0),
    ]


def timed_out_call(call_id: str = "1700.3", t: float = T0) -> list[Fact]:
    """Nobody answers in sales, the call overflows to support, then support's max wait passes."""
    return [
        queued(call_id, t),
        CallOffered(call_id, t + 1, "sales", "a1", f"{call_id}-leg1", 1),
        OfferEnded(call_id, t + 16, "a1", f"{call_id}-leg1", OfferResult.NO_ANSWER),
        CallRequeued(call_id, t + 300, "sales", "support"),
        CallEnded(call_id, t + 600, "support", Outcome.TIMED_OUT, None, 600.0),
    ]
