"""The supervisor monitor's rows and tiles as the server sends them: timers from server-side start
times, callers by number and customer name, and tile figures coloured by per-queue thresholds."""

from __future__ import annotations

from callserver.acd.metrics import live_book
from callserver.acd.model import AgentStatus
from callserver.config import QueueThresholds, Threshold
from callserver.facts.model import AgentStateChanged, CallAnswered, CallEnded, CallQueued, Outcome
from callserver.web.views import queue_view
from tests.web.conftest import CSRF, Env, receive


async def test_a_monitor_opened_later_counts_from_when_the_state_began(env: Env) -> None:
    boss = await env.client("boss")
    created = await boss.post(
        "/api/customers", json={"name": "Ann Lee", "phones": ["+33140000031"]}, headers=CSRF
    )
    assert created.status == 201
    facts: list[AgentStateChanged] = []
    env.deps.bus.subscribe(lambda f: facts.append(f) if isinstance(f, AgentStateChanged) else None)
    env.set_status("agent1", AgentStatus.AVAILABLE)
    env.call_arrives("c1", caller_num="+33140000031", caller_name="LEE A")
    ringing = next(f for f in facts if f.agent_id == "agent1" and f.new == "ringing")
    for _ in range(2):  # the second page load sees the same start time, not its own
        async with boss.ws_connect("/api/live") as ws:
            await receive(ws)  # hello
            snapshot = (await receive(ws))["data"]
        row = next(a for a in snapshot["agents"] if a["id"] == "agent1")
        assert row["state"] == "ringing" and row["state_since"] == ringing.at
        assert row["caller"] == {"num": "+33140000031", "name": "LEE A", "customer": None}
        other = next(a for a in snapshot["agents"] if a["id"] == "agent2")
        assert other["state_since"] <= ringing.at


def test_tiles_show_abandon_rate_and_aht_from_the_live_book_coloured_by_the_queue_thresholds(
    env: Env,
) -> None:
    book = live_book(["support"], service_time=20.0)
    now = env.service.clock()
    facts = [
        CallQueued("a", now - 300, "support", "PJSIP/t-a", "+331", "", "500"),
        CallAnswered("a", now - 290, "support", "agent1", 10.0),
        AgentStateChanged("agent1", now - 290, "ringing", "on_call", "a"),
        CallEnded("a", now - 190, "support", Outcome.ANSWERED, "agent1", 10.0),
        AgentStateChanged("agent1", now - 190, "on_call", "idle", "a"),
        CallQueued("b", now - 280, "support", "PJSIP/t-b", "+332", "", "500"),
        CallEnded("b", now - 240, "support", Outcome.ABANDONED, None, 40.0),
    ]
    for fact in facts:
        book.apply(fact)
    stats = book.call_stats("support", since=now - 3600)
    strict = QueueThresholds(
        service_level=Threshold(warn=0.9, bad=0.5),
        abandon_rate=Threshold(warn=0.1, bad=0.3),
        aht=Threshold(warn=60, bad=90),
    )
    tile = queue_view(env.service, book, "support", now, {"support": strict})
    assert (tile["abandon_rate_today"], tile["aht_today"]) == (stats.abandon_rate, stats.aht)
    assert tile["abandon_rate_today"] == 0.5 and tile["aht_today"] == 100.0
    assert tile["levels"] == {"service_level": "good", "abandon_rate": "bad", "aht": "bad"}
    lenient = QueueThresholds(abandon_rate=Threshold(warn=0.6, bad=0.8))
    assert queue_view(env.service, book, "support", now, {"support": lenient})["levels"] == {
        "service_level": "good",
        "abandon_rate": "good",
        "aht": None,
    }
