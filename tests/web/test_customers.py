"""Screen-pop customer data: matches by caller number, edits from the pop, and data never HTML."""

from __future__ import annotations

from callserver.acd.model import AgentStatus
from tests.web.conftest import CSRF, Env

SCRIPT = "<script>alert('x')</script>"


async def test_script_in_a_customer_name_comes_back_as_plain_data(env: Env) -> None:
    boss = await env.client("boss")
    created = await boss.post(
        "/api/customers",
        json={"name": SCRIPT, "phones": ["+33 1 40 00 00 07"], "notes": "<b>vip</b>"},
        headers=CSRF,
    )
    assert created.status == 201
    assert created.content_type == "application/json"
    body = await created.json()
    assert body["name"] == SCRIPT
    assert body["phones"] == ["+33140000007"]
    env.set_status("agent1", AgentStatus.AVAILABLE)
    env.call_arrives("c9", caller_num="0140000007")
    agent = await env.client("agent1")
    pop = await agent.get("/api/pops/c9")
    assert pop.content_type == "application/json"
    data = await pop.json()
    assert data["match"] == "one"
    assert data["customers"][0]["name"] == SCRIPT
    assert data["customers"][0]["notes"] == "<b>vip</b>"


async def test_pop_without_a_match_lets_the_agent_create_then_edit_the_customer(env: Env) -> None:
    env.set_status("agent1", AgentStatus.AVAILABLE)
    env.call_arrives("c2", caller_num="+33199999999")
    agent = await env.client("agent1")
    pop = await (await agent.get("/api/pops/c2")).json()
    assert (pop["match"], pop["customers"]) == ("none", [])
    created = await agent.post(
        "/api/customers", json={"name": "New", "phones": ["+33199999999"]}, headers=CSRF
    )
    assert created.status == 201
    cid = (await created.json())["id"]
    edited = await agent.put(
        f"/api/customers/{cid}",
        json={"name": "New Name", "phones": ["+33199999999"], "vip": True},
        headers=CSRF,
    )
    assert edited.status == 200
    assert (await edited.json())["vip"] is True
    again = await (await agent.get("/api/pops/c2")).json()
    assert again["match"] == "one"
    assert again["customers"][0]["name"] == "New Name"


async def test_agent_cannot_edit_a_customer_outside_their_pop(env: Env) -> None:
    boss = await env.client("boss")
    created = await boss.post(
        "/api/customers", json={"name": "Other", "phones": ["+33188888888"]}, headers=CSRF
    )
    cid = (await created.json())["id"]
    agent = await env.client("agent1")
    resp = await agent.put(f"/api/customers/{cid}", json={"name": "Hacked", "phones": ["1234"]}, headers=CSRF)
    assert resp.status == 403
    assert (
        await agent.post("/api/customers", json={"name": "X", "phones": ["1234"]}, headers=CSRF)
    ).status == 403


async def test_invalid_customer_is_refused_with_reasons(env: Env) -> None:
    boss = await env.client("boss")
    resp = await boss.post(
        "/api/customers", json={"name": "", "phones": ["not a number"], "colour": "red"}, headers=CSRF
    )
    assert resp.status == 400
    problems = (await resp.json())["problems"]
    assert any(p.startswith("phones") for p in problems)
    assert any(p.startswith("colour") for p in problems)
    a = await boss.post(
        "/api/customers", json={"name": "A", "phones": ["111222"], "account": "ACC1"}, headers=CSRF
    )
    assert a.status == 201
    b = await boss.post(
        "/api/customers", json={"name": "B", "phones": ["333444"], "account": "ACC1"}, headers=CSRF
    )
    assert b.status == 409


async def test_pop_shows_contact_history_and_several_matches(env: Env) -> None:
    from callserver.facts.model import CallEnded, CallQueued, Outcome

    boss = await env.client("boss")
    first = await boss.post("/api/customers", json={"name": "Ann", "phones": ["+33140000011"]}, headers=CSRF)
    ann = (await first.json())["id"]
    store = env.deps.store
    await store.apply(
        [
            CallQueued("old1", 1_700_000_000.0, "support", "PJSIP/t-1", "+33140000011", "Ann", "500"),
            CallEnded("old1", 1_700_000_050.0, "support", Outcome.ABANDONED, None, 50.0),
        ]
    )
    env.set_status("agent1", AgentStatus.AVAILABLE)
    env.call_arrives("c11", caller_num="+33140000011")
    agent = await env.client("agent1")
    pop = await (await agent.get("/api/pops/c11")).json()
    assert pop["match"] == "one"
    assert pop["customers"][0]["id"] == ann
    assert [(h["call_id"], h["outcome"]) for h in pop["customers"][0]["history"]] == [("old1", "abandoned")]
    await boss.post("/api/customers", json={"name": "Bob", "phones": ["+33140000011"]}, headers=CSRF)
    both = await (await agent.get("/api/pops/c11")).json()
    assert both["match"] == "several"
    assert sorted(c["name"] for c in both["customers"]) == ["Ann", "Bob"]
