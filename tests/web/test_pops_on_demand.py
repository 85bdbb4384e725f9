"""Screen-pops are built only for agents with a browser connected (one who connects later gets
theirs then), and from the customers found when the call arrived, not from a second search."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from callserver.acd.model import AgentStatus
from callserver.inbound.matches import CallerMatches
from callserver.store.records import CustomerRecord
from callserver.web.pops import Pops
from tests.web.conftest import Env, receive, receive_until

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _searches(env: Env, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every search by number the store is asked for."""
    store = env.deps.store
    real = store.find_customers_by_number
    seen: list[str] = []

    async def counting(number: str) -> list[CustomerRecord]:
        seen.append(number)
        return await real(number)

    monkeypatch.setattr(store, "find_customers_by_number", counting)
    return seen


async def test_no_pop_is_made_without_a_browser_and_the_agent_gets_it_on_connecting(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    searches = _searches(env, monkeypatch)
    env.set_status("agent1", AgentStatus.AVAILABLE)
    env.call_arrives("c1", caller_num="+33140000031")
    await env.deps_hub().idle()
    assert env.agent("agent1").call_id == "c1"
    assert env.deps_hub().pops.cached("c1") is None
    assert searches == []
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        assert (await receive(ws))["type"] == "hello"
        assert (await receive(ws))["data"]["pop"] is None
        pop, _ = await receive_until(ws, lambda m: m["type"] == "pop")
        assert (pop["data"]["call_id"], pop["data"]["agent_id"]) == ("c1", "agent1")
    assert searches == ["+33140000031"]


async def test_a_connected_agent_gets_the_pop_of_each_offer(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    searches = _searches(env, monkeypatch)
    env.set_status("agent1", AgentStatus.AVAILABLE)
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)
        await receive(ws)
        env.call_arrives("c2", caller_num="+33140000032")
        pop, _ = await receive_until(ws, lambda m: m["type"] == "pop")
        assert pop["data"]["call_id"] == "c2"
    assert searches == ["+33140000032"]


async def test_the_pop_shows_the_customers_found_on_arrival_without_searching_again(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    searches = _searches(env, monkeypatch)
    ann = CustomerRecord(7, "Ann Found-On-Arrival", ("+33140000033",), "A-7", None, "fr", True, "", NOW, NOW)
    matches = CallerMatches()
    matches.remember("c3", [ann])
    pops = Pops(env.service, env.deps.store, time.time, matches=matches)
    env.call_arrives("c3", caller_num="+33140000033")
    base = pops.capture("c3")
    assert base is not None
    entry = await pops.complete(base)
    assert (entry.data["match"], [c["name"] for c in entry.data["customers"]]) == ("one", [ann.name])
    assert entry.customer_ids == {7}
    assert searches == []
    # asked for again (after an edit, say), the pop searches afresh
    again = await pops.for_call("c3")
    assert again is not None and again.data["match"] == "none"
    assert searches == ["+33140000033"]


def test_matches_are_bounded_and_forget_the_oldest_calls_first() -> None:
    matches = CallerMatches(keep=3)
    for i in range(5):
        matches.remember(f"c{i}", [])
    assert len(matches) == 3
    assert matches.get("c0") is None and matches.get("c4") == ()
