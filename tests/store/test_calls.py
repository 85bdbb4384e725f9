"""Facts of whole calls become complete call rows, offers and an append-only log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callserver.facts.model import AgentStateChanged, AgentStatusChanged
from callserver.store import Store
from callserver.store.models import utc
from tests.store.facts import T0, abandoned_call, answered_call, queued, timed_out_call


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


async def test_answered_call_has_every_timestamp_agent_and_offer_results(store: Store) -> None:
    await store.apply(answered_call("c1"))
    call = await store.call("c1")
    assert call is not None
    assert (call.arrived_at, call.queued_at, call.first_offered_at) == (at(0), at(0), at(2))
    assert (call.answered_at, call.ended_at) == (at(21), at(90))
    assert call.arrived_at.tzinfo is not None and call.arrived_at.utcoffset().total_seconds() == 0
    assert (call.outcome, call.agent_id, call.offers, call.wait) == ("answered", "a2", 2, 21.0)
    assert (call.queue, call.first_queue, call.caller_num, call.dnis) == (
        "sales",
        "sales",
        "+33140000001",
        "0800100200",
    )
    offers = await store.offers("c1")
    assert [(o.attempt, o.agent_id, o.result) for o in offers] == [
        (1, "a1", "no_answer"),
        (2, "a2", "answered"),
    ]
    assert [(o.offered_at, o.ended_at) for o in offers] == [(at(2), at(17)), (at(18), at(21))]


async def test_abandoned_call_records_the_cancelled_offer(store: Store) -> None:
    await store.apply(abandoned_call("c2"))
    call = await store.call("c2")
    assert call is not None
    assert (call.outcome, call.agent_id, call.answered_at, call.ended_at) == ("abandoned", None, None, at(9))
    assert call.wait == 9.0
    assert [(o.result, o.ended_at) for o in await store.offers("c2")] == [("cancelled", at(9))]


async def test_timed_out_call_keeps_first_queue_and_ends_in_the_overflow_queue(store: Store) -> None:
    await store.apply(timed_out_call("c3"))
    call = await store.call("c3")
    assert call is not None
    assert (call.first_queue, call.queue, call.outcome) == ("sales", "support", "timed_out")
    assert (call.first_offered_at, call.ended_at, call.wait) == (at(1), at(600), 600.0)
    assert [o.result for o in await store.offers("c3")] == ["no_answer"]


async def test_every_fact_is_logged_whole_in_order(store: Store) -> None:
    facts = answered_call("c1")
    await store.apply(facts)
    events = await store.call_events("c1")
    assert [e.kind for e in events] == [type(f).__name__ for f in facts]
    assert events[-1].payload == {
        "call_id": "c1",
        "at": T0 + 90,
        "queue": "sales",
        "outcome": "answered",
        "agent_id": "a2",
        "wait": 21.0,
    }
    assert [e.at for e in events] == [utc(f.at) for f in facts]


async def test_requeuing_an_adopted_call_again_does_not_fail(store: Store) -> None:
    await store.apply([queued("c1")])
    await store.apply([queued("c1"), queued("c1", at=T0 + 5)])
    await store.apply(answered_call("c1")[1:])
    call = await store.call("c1")
    assert call is not None
    assert (call.arrived_at, call.outcome, call.offers) == (at(0), "answered", 2)
    assert len(await store.calls()) == 1


async def test_facts_for_a_call_never_queued_still_land(store: Store) -> None:
    await store.apply(answered_call("c9")[1:])
    call = await store.call("c9")
    assert call is not None
    assert (call.outcome, call.arrived_at, call.first_offered_at) == ("answered", at(2), at(2))


async def test_agent_facts_only_go_to_the_log(store: Store) -> None:
    await store.apply(
        [
            AgentStatusChanged("a1", T0, "available", ""),
            AgentStateChanged("a1", T0 + 1, "idle", "ringing", "c1"),
        ]
    )
    assert await store.calls() == []
    assert [e.kind for e in await store.call_events("c1")] == ["AgentStateChanged"]
    assert await store.event_count() == 2


async def test_a_failing_batch_writes_nothing(store: Store) -> None:
    with pytest.raises(TypeError, match="does not know the fact"):
        await store.apply([queued("c1"), object()])  # type: ignore[list-item]
    assert await store.calls() == []
    assert await store.event_count() == 0


async def test_queries_filter_count_and_order_calls(store: Store) -> None:
    await store.apply(
        answered_call("c1", T0) + abandoned_call("c2", T0 + 100) + timed_out_call("c3", T0 + 200)
    )
    assert await store.counts_by_outcome() == {"answered": 1, "abandoned": 1, "timed_out": 1}
    assert [c.id for c in await store.calls()] == ["c3", "c2", "c1"]
    assert [c.id for c in await store.calls(queue="support")] == ["c3"]
    assert [c.id for c in await store.calls(agent_id="a2")] == ["c1"]
    assert [c.id for c in await store.calls(since=at(50), until=at(150))] == ["c2"]
    assert [c.id for c in await store.calls(limit=1)] == ["c3"]
    assert await store.call("nope") is None
