"""The campaign REST routes are all in the OpenAPI document the server serves, none answers without
a session, supervisors' routes refuse agents, and bad input is named."""

from __future__ import annotations

import re

from aiohttp import web

from callserver.web.openapi import openapi_document

from .conftest import CSRF, Outbound, campaign

SAMPLE = {"agent_id": "agent1", "call_id": "c1", "customer_id": "1", "name": "spring", "voicemail_id": "1"}


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


async def test_openapi_describes_every_route_of_the_full_server(outbound: Outbound) -> None:
    app: web.Application = outbound.server.web_runner.app
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(("/api/", "/self/"))
        and route.method != "HEAD"
    }
    status, doc = await outbound.get("boss", "/api/openapi.json")
    assert status == 200
    described = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }
    assert served == described
    assert doc == openapi_document(voicemail=True, scripts=True, campaigns=True, reports=True)
    assert "Campaign" in doc["components"]["schemas"]
    assert {p for _, p in served if "campaign" in p} >= {
        "/api/campaigns/{name}/lists",
        "/api/campaign-desk/dial",
    }


async def test_no_campaign_route_answers_without_a_session_and_agents_cannot_run_campaigns(
    outbound: Outbound,
) -> None:
    doc = openapi_document(voicemail=True, campaigns=True)
    paths = [(p, m) for p, item in doc["paths"].items() for m in item if m in {"get", "post", "put"}]
    campaign_paths = [(p, m) for p, m in paths if "campaign" in p or p == "/api/dnc"]
    for path, method in campaign_paths:
        async with outbound.http.request(method, outbound.base + _concrete(path), headers=CSRF) as resp:
            assert resp.status == 401, f"{method} {path} answered {resp.status}"
    for path, method in campaign_paths:
        if path.startswith("/api/campaigns") or path == "/api/dnc":
            status, _ = await outbound.request("agent1", method.upper(), _concrete(path), {})
            assert status == 403, f"agent got {status} on {method} {path}"


async def test_bad_campaigns_and_unknown_ones_are_named(outbound: Outbound) -> None:
    status, body = await outbound.post("boss", "/api/campaigns", campaign(name="1bad", ring_timeout=-1))
    assert status == 400 and any(p.startswith("name:") for p in body["problems"])
    assert any(p.startswith("ring_timeout:") for p in body["problems"])
    status, body = await outbound.post("boss", "/api/campaigns", campaign(caller_id="call me"))
    assert status == 400 and "caller_id: 'call me' is not a phone number" in body["problems"][0]
    status, body = await outbound.post("boss", "/api/campaigns/nope/start")
    assert status == 404 and body["error"] == "no campaign 'nope'"
    await outbound.create(campaign(rule_set="us", ring_timeout=10))
    status, body = await outbound.post("boss", "/api/campaigns/spring/start")
    assert status == 409 and "ring_timeout: 10 s is shorter than the 15 s" in body["error"]
    status, body = await outbound.request(
        "boss", "PUT", "/api/campaigns/spring", campaign(rule_set="us", ring_timeout=20)
    )
    assert status == 200 and body["config"]["ring_timeout"] == 20
    status, body = await outbound.post("boss", "/api/campaigns/spring/start")
    assert status == 200 and body["tile"]["state"] == "running"
    status, body = await outbound.request("boss", "PUT", "/api/campaigns/spring", campaign(rule_set="us"))
    assert status == 409 and "stop it to change its settings" in body["error"]
    status, body = await outbound.post("boss", "/api/campaigns/spring/target", {"abandon_target": 0.05})
    assert status == 409 and "above the 3.0% cap" in body["error"]
    status, body = await outbound.post("boss", "/api/campaigns/spring/mode", {"mode": "predictive"})
    assert status == 200 and body["config"]["mode"] == "predictive"
