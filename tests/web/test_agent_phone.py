"""A remote agent logs in on any phone from the browser; supervisors read live queue metrics."""

from __future__ import annotations

from tests.web.conftest import CSRF, Env


async def test_agent_takes_calls_on_a_home_number_then_back_on_the_desk_phone(env: Env) -> None:
    client = await env.client("agent1")
    resp = await client.post("/api/agents/agent1/phone", json={"number": "+33612345678"}, headers=CSRF)
    assert resp.status == 200, await resp.text()
    agent = env.agent("agent1")
    assert (agent.endpoint, agent.remote) == ("PJSIP/+33612345678@trunk", True)
    resp = await client.post("/api/agents/agent1/phone", json={"number": None}, headers=CSRF)
    assert resp.status == 200
    agent = env.agent("agent1")
    assert (agent.endpoint, agent.remote) == ("PJSIP/1001", False)


async def test_agent_cannot_move_another_agents_phone_or_give_a_bad_number(env: Env) -> None:
    client = await env.client("agent1")
    resp = await client.post("/api/agents/agent2/phone", json={"number": "+33612345678"}, headers=CSRF)
    assert resp.status == 403
    resp = await client.post("/api/agents/agent1/phone", json={"number": "call me maybe"}, headers=CSRF)
    assert resp.status == 400
    assert "phone number" in (await resp.json())["error"]
    assert env.agent("agent1").endpoint == "PJSIP/1001"


async def test_live_metrics_are_for_supervisors(env: Env) -> None:
    agent = await env.client("agent1")
    assert (await agent.get("/api/metrics")).status == 403
    env.call_arrives("c1")  # nobody is available: it waits
    boss = await env.client("boss")
    resp = await boss.get("/api/metrics")
    assert resp.status == 200
    (support,) = (await resp.json())["queues"]
    assert support["queue"] == "support"
    assert support["waiting"] == 1
    assert support["total"]["offered"] == 1
    assert set(support["total"]) >= {
        "service_level",
        "service_level_with_abandons",
        "asa",
        "aht",
        "short_abandoned",
    }
