"""Facts of whole calls become complete call rows, offers and an append-only log; the wrap-up and
the customer link are facts like the others."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from callserver.facts.model import AgentStateChanged, AgentStatusChanged, CallLinkedToCustomer, CallWrappedUp
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
        "ended_by": "",
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


async def test_wrapup_fact_lands_on_the_call_row_and_a_later_one_replaces_it(store: Store) -> None:
    await store.apply(answered_call("c1"))
    await store.apply([CallWrappedUp("c1", T0 + 95, "a2", "follow-up", "call back Monday", "a2")])
    await store.apply([CallWrappedUp("c1", T0 + 99, "a2", "resolved", "", "boss")])
    call = await store.call("c1")
    assert call is not None
    assert (call.wrapup_outcome, call.wrapup_note) == ("resolved", "")
    assert (call.outcome, call.agent_id) == ("answered", "a2")
    kinds = [e.kind for e in await store.call_events("c1")]
    assert kinds[-2:] == ["CallWrappedUp", "CallWrappedUp"]
    events = await store.call_events("c1")
    assert events[-2].payload["note"] == "call back Monday"
    assert events[-2].agent_id == "a2"


async def test_customer_link_fact_overrides_the_caller_number_match(store: Store, tmp_path: Path) -> None:
    await store.load_customers(_seed(tmp_path))
    alice = await store.find_customer_by_account("A-100")
    bob = await store.find_customer_by_account("B-200")
    assert alice is not None and bob is not None
    await store.apply([queued("c1", caller="+33140000001")])
    assert (await store.call("c1")).customer_id == alice.id  # type: ignore[union-attr]
    await store.apply([CallLinkedToCustomer("c1", T0 + 5, bob.id, "ivr")])
    assert (await store.call("c1")).customer_id == bob.id  # type: ignore[union-attr]
    assert [c.id for c in await store.contact_history(bob.id)] == ["c1"]
    await store.apply([CallLinkedToCustomer("c1", T0 + 6, None, "boss")])
    assert (await store.call("c1")).customer_id is None  # type: ignore[union-attr]


async def test_link_to_an_unknown_customer_is_logged_and_blocks_nothing(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await store.load_customers(_seed(tmp_path))
    alice = await store.find_customer_by_account("A-100")
    assert alice is not None
    await store.apply(
        [
            queued("c1", caller="+33140000001"),
            CallLinkedToCustomer("c1", T0 + 5, 999_999, "ivr"),
            CallLinkedToCustomer("c2", T0 + 6, alice.id, "ivr"),
        ]
    )
    assert (await store.call("c1")).customer_id == alice.id  # type: ignore[union-attr]
    assert (await store.call("c2")).customer_id == alice.id  # type: ignore[union-attr]
    assert [e.kind for e in await store.call_events("c1")] == ["CallQueued", "CallLinkedToCustomer"]
    assert "unknown customer 999999" in caplog.text


def _seed(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(
        "name,phones,account\nAlice Martin,+33 1 40 00 00 01,A-100\nBob Stone,+44 20 7946 0958,B-200\n",
        encoding="utf-8",
    )
    return path
