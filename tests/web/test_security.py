"""Sessions, roles, CSRF and login throttling of the REST API, over real loopback HTTP."""

from __future__ import annotations

import re

from aiohttp import web

from callserver.acd.model import AgentStatus
from callserver.web.openapi import openapi_document
from tests.web.conftest import CSRF, PASSWORD, Env

SAMPLE = {"agent_id": "agent1", "call_id": "c1", "customer_id": "1", "report": "queue_intervals"}


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


async def test_openapi_describes_every_api_route(env: Env) -> None:
    app: web.Application = env.server.app
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    doc = openapi_document(voicemail=env.deps.voicemail is not None, reports=env.deps.reports is not None)
    described = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }
    assert served == described


async def test_no_api_route_answers_without_a_session(env: Env) -> None:
    client = await env.client()
    for path, item in openapi_document(
        voicemail=env.deps.voicemail is not None, reports=env.deps.reports is not None
    )["paths"].items():
        for method in (m for m in item if m in {"get", "post", "put", "delete"}):
            if path == "/api/login":
                continue
            resp = await client.request(method, _concrete(path), json={}, headers=CSRF)
            assert resp.status == 401, f"{method} {path} answered {resp.status}"
            forged = await client.request(
                method,
                _concrete(path),
                headers={**CSRF, "Authorization": "Bearer forged", "Cookie": "cs_session=x"},
            )
            assert forged.status == 401, f"{method} {path} accepted a forged token"


async def test_session_cookie_is_httponly_and_strict(env: Env) -> None:
    client = await env.client()
    resp = await client.post("/api/login", json={"login": "agent1", "password": PASSWORD}, headers=CSRF)
    assert resp.status == 200
    header = resp.headers["Set-Cookie"]
    assert "HttpOnly" in header
    assert "SameSite=Strict" in header
    assert "Secure" not in header  # plain http on loopback
    assert "token" not in await resp.json()
    me = await client.get("/api/me")
    assert (await me.json())["agent"]["id"] == "agent1"
    assert me.headers["Cache-Control"] == "no-store"


async def test_bearer_token_for_api_clients(env: Env) -> None:
    client = await env.client()
    resp = await client.post(
        "/api/login", json={"login": "boss", "password": PASSWORD, "bearer": True}, headers=CSRF
    )
    body = await resp.json()
    assert "Set-Cookie" not in resp.headers
    other = await env.client()
    agents = await other.get("/api/agents", headers={"Authorization": f"Bearer {body['token']}"})
    assert agents.status == 200
    assert [a["id"] for a in await agents.json()] == ["agent1", "agent2"]


async def test_wrong_password_is_refused(env: Env) -> None:
    client = await env.client()
    resp = await client.post("/api/login", json={"login": "agent1", "password": "nope"}, headers=CSRF)
    assert resp.status == 401
    unknown = await client.post("/api/login", json={"login": "ghost", "password": PASSWORD}, headers=CSRF)
    assert unknown.status == 401


async def test_login_is_rate_limited_per_login(env: Env) -> None:
    client = await env.client()
    for _ in range(5):
        resp = await client.post("/api/login", json={"login": "agent2", "password": "bad"}, headers=CSRF)
        assert resp.status == 401
    blocked = await client.post("/api/login", json={"login": "agent2", "password": PASSWORD}, headers=CSRF)
    assert blocked.status == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert "Set-Cookie" not in blocked.headers


async def test_login_is_rate_limited_per_address(env: Env) -> None:
    client = await env.client()
    for i in range(5):
        resp = await client.post("/api/login", json={"login": f"guess{i}", "password": "x"}, headers=CSRF)
        assert resp.status == 401
    blocked = await client.post("/api/login", json={"login": "agent1", "password": PASSWORD}, headers=CSRF)
    assert blocked.status == 429


async def test_state_changes_need_the_csrf_header(env: Env) -> None:
    client = await env.client("agent1")
    resp = await client.post("/api/agents/agent1/status", json={"status": "available"})
    assert resp.status == 403
    assert env.agent("agent1").status is AgentStatus.LOGGED_OUT
    login = await client.post("/api/login", json={"login": "agent1", "password": PASSWORD})
    assert login.status == 403


async def test_agent_changes_own_status_only(env: Env) -> None:
    client = await env.client("agent1")
    ok = await client.post("/api/agents/agent1/status", json={"status": "available"}, headers=CSRF)
    assert ok.status == 200
    assert (await ok.json())["status"] == "available"
    assert env.agent("agent1").status is AgentStatus.AVAILABLE
    other = await client.post("/api/agents/agent2/status", json={"status": "available"}, headers=CSRF)
    assert other.status == 403
    assert env.agent("agent2").status is AgentStatus.LOGGED_OUT


async def test_pause_reason_must_be_a_known_one(env: Env) -> None:
    client = await env.client("agent1")
    bad = await client.post(
        "/api/agents/agent1/status", json={"status": "paused", "reason": "nap"}, headers=CSRF
    )
    assert bad.status == 400
    good = await client.post(
        "/api/agents/agent1/status", json={"status": "paused", "reason": "lunch"}, headers=CSRF
    )
    assert (await good.json())["reason"] == "lunch"
    nonsense = await client.post("/api/agents/agent1/status", json={"status": "asleep"}, headers=CSRF)
    assert nonsense.status == 400


async def test_supervisor_forces_any_agent_status(env: Env) -> None:
    boss = await env.client("boss")
    resp = await boss.post("/api/agents/agent2/status", json={"status": "available"}, headers=CSRF)
    assert resp.status == 200
    assert env.agent("agent2").status is AgentStatus.AVAILABLE
    missing = await boss.post("/api/agents/nobody/status", json={"status": "available"}, headers=CSRF)
    assert missing.status == 404


async def test_agent_cannot_read_supervisor_routes_or_another_agents_pop(env: Env) -> None:
    env.set_status("agent1", AgentStatus.AVAILABLE)
    env.call_arrives("c1")
    assert env.call("c1").agent_id == "agent1"
    agent2 = await env.client("agent2")
    for path in ("/api/agents", "/api/queues", "/api/calls/waiting"):
        assert (await agent2.get(path)).status == 403, path
    assert (await agent2.get("/api/pops/c1")).status == 403
    agent1 = await env.client("agent1")
    pop = await agent1.get("/api/pops/c1")
    assert pop.status == 200
    assert (await pop.json())["queue"] == "support"


async def test_supervisor_sees_agents_queues_waiting_calls_and_pops(env: Env) -> None:
    env.call_arrives("c1", caller_name="Waiting Walter")
    boss = await env.client("boss")
    waiting = await (await boss.get("/api/calls/waiting")).json()
    assert [(w["call_id"], w["position"], w["caller_name"]) for w in waiting] == [("c1", 1, "Waiting Walter")]
    queues = await (await boss.get("/api/queues")).json()
    assert queues[0]["name"] == "support"
    assert queues[0]["waiting"] == 1
    assert queues[0]["agents_available"] == 0
    assert (await boss.get("/api/pops/c1")).status == 200
    assert (await boss.get("/api/agents")).status == 200


async def test_logout_ends_the_session(env: Env) -> None:
    client = await env.client("agent1")
    assert (await client.get("/api/me")).status == 200
    assert (await client.post("/api/logout", headers=CSRF)).status == 200
    assert (await client.get("/api/me")).status == 401


async def test_static_ui_is_served(env: Env) -> None:
    client = await env.client()
    index = await client.get("/")
    assert index.status == 200
    assert "Content-Security-Policy" in index.headers
    assert (await client.get("/ui/app.js")).status == 200
    assert (await client.get("/ui/../web.db")).status in (403, 404)


async def test_start_web_listens_and_stops_cleanly(env: Env) -> None:
    from aiohttp import ClientSession

    from callserver.web import build_web_app, start_web, stop_web
    from callserver.web.app import bound_port

    app = build_web_app(env.deps)
    runner = await start_web(app, "127.0.0.1", 0)
    try:
        port = bound_port(runner)
        async with (
            ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/api/openapi.json") as resp,
        ):
            assert resp.status == 401
    finally:
        await stop_web(runner)
