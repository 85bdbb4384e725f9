"""Calls still in progress in the database (what a restart must reconcile), and how a call that
ended unseen is recorded: its reason and whether its end time is an estimate."""

from __future__ import annotations

from callserver.facts.model import CallAnswered, CallEndedWithReason, CallOffered, Outcome
from callserver.store import Store
from callserver.store.models import utc

from .facts import T0, abandoned_call, answered_call, queued


async def test_open_calls_are_those_without_an_outcome_with_their_last_fact_and_open_offers(
    store: Store,
) -> None:
    await store.apply(answered_call("done"))
    await store.apply(abandoned_call("gone"))
    await store.apply(
        [
            queued("ringing", T0 + 1),
            CallOffered("ringing", T0 + 4, "sales", "a1", "ringing-leg1", 1),
            queued("talking", T0 + 2),
            CallOffered("talking", T0 + 5, "sales", "a2", "talking-leg1", 1),
            CallAnswered("talking", T0 + 7, "sales", "a2", 5.0),
        ]
    )
    rows = {row.id: row for row in await store.open_calls()}
    assert set(rows) == {"ringing", "talking"}
    ringing, talking = rows["ringing"], rows["talking"]
    assert (ringing.last_seen, ringing.answered_at, ringing.open_offers) == (
        utc(T0 + 4),
        None,
        (("a1", "ringing-leg1"),),
    )
    assert (talking.last_seen, talking.answered_at, talking.agent_id, talking.open_offers) == (
        utc(T0 + 7),
        utc(T0 + 7),
        "a2",
        (),
    )
    assert (talking.queue, talking.channel, talking.dnis) == ("sales", "PJSIP/trunk-talking", "0800100200")


async def test_a_call_ended_unseen_keeps_its_reason_and_says_its_end_is_an_estimate(store: Store) -> None:
    reason = "ended while callserver was stopped"
    await store.apply(
        [queued("c1"), CallEndedWithReason("c1", T0 + 30, "sales", Outcome.UNKNOWN, None, 30.0, reason, True)]
    )
    await store.apply(answered_call("c2"))
    unseen, seen = await store.call("c1"), await store.call("c2")
    assert unseen is not None and seen is not None
    assert (unseen.outcome, unseen.ended_at, unseen.end_reason, unseen.end_estimated) == (
        "unknown",
        utc(T0 + 30),
        reason,
        True,
    )
    assert (seen.end_reason, seen.end_estimated) == (None, False)
    assert await store.open_calls() == []
    (logged,) = [e for e in await store.call_events("c1") if e.kind == "CallEndedWithReason"]
    assert (logged.payload["reason"], logged.payload["estimated"]) == (reason, True)
