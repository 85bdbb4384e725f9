"""The supervisor's queue tile and GET /api/metrics show one figure for one day of calls."""

from __future__ import annotations

import time
from typing import Any

from callserver.facts.model import CallAnswered, CallEnded, CallQueued, Fact, Outcome
from callserver.web.views import today_start
from tests.web.conftest import Env, receive

QUEUE = "support"


def _calls(start: float) -> list[Fact]:
    """A morning in the support queue: (call, seconds after `start`, wait, what became of it)."""
    plan = [
        ("fast", 0, 5.0, "answered"),
        ("at-target", 60, 20.0, "answered"),  # exactly T: within it
        ("slow", 120, 45.0, "answered"),
        ("talking", 180, 30.0, "talking"),  # answered, not over yet: counts already
        ("gave-up", 240, 60.0, "abandoned"),
        ("misdial", 300, 2.0, "abandoned"),  # a short abandon: in neither base
        ("too-long", 360, 300.0, "timed_out"),
    ]
    facts: list[Fact] = []
    for call, offset, wait, fate in plan:
        arrived = start + offset
        facts.append(CallQueued(call, arrived, QUEUE, f"PJSIP/trunk-{call}", "+33140000001", "", "500"))
        if fate in ("answered", "talking"):
            facts.append(CallAnswered(call, arrived + wait, QUEUE, "agent1", wait))
        if fate == "answered":
            facts.append(CallEnded(call, arrived + wait + 100, QUEUE, Outcome.ANSWERED, "agent1", wait))
        if fate in ("abandoned", "timed_out"):
            facts.append(CallEnded(call, arrived + wait, QUEUE, Outcome(fate), None, wait))
    return facts


async def _tile_over_the_live_channel(env: Env) -> dict[str, Any]:
    client = await env.client("boss")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)  # hello
        snapshot = await receive(ws)
    (tile,) = [q for q in snapshot["data"]["queues"] if q["name"] == QUEUE]
    return tile


async def test_queue_tile_and_api_metrics_agree_on_the_same_calls(env: Env) -> None:
    for fact in _calls(today_start(time.time()) + 60):  # early today, whenever the test runs
        env.deps.bus.publish(fact)
    tile = await _tile_over_the_live_channel(env)
    boss = await env.client("boss")
    resp = await boss.get("/api/metrics")
    assert resp.status == 200
    (metrics,) = [q for q in (await resp.json())["queues"] if q["queue"] == QUEUE]
    today = metrics["total"]

    # 2 of the 4 answered calls within 20 s; the abandon, the short abandon and the time-out
    # are the abandon rate's and the stricter service level's business
    assert tile["service_level_today"] == today["service_level"] == 0.5
    assert (tile["answered_today"], tile["abandoned_today"], tile["timed_out_today"]) == (4, 1, 1)
    assert (today["answered"], today["abandoned"], today["timed_out"]) == (4, 1, 1)
    assert today["short_abandoned"] == 1
    assert today["service_level_with_abandons"] == 2 / 6
    assert tile["service_target"] == 20.0


async def test_yesterdays_calls_are_in_neither_todays_tile_nor_todays_metrics(env: Env) -> None:
    for fact in _calls(today_start(time.time()) - 3 * 3600):  # yesterday evening
        env.deps.bus.publish(fact)
    tile = await _tile_over_the_live_channel(env)
    boss = await env.client("boss")
    (metrics,) = (await (await boss.get("/api/metrics")).json())["queues"]
    assert tile["answered_today"] == metrics["total"]["answered"] == 0
    assert tile["service_level_today"] is metrics["total"]["service_level"] is None
