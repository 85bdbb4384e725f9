"""The script routes on the running server: OpenAPI describes every route it serves (the public
self-service ones with no security), none under /api/ answers without a session, and the editor
and the export are for the roles they are for."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callserver.web.openapi import openapi_document

from .rig import ADMIN, CSRF, SUPERVISOR, Centre, billing_settings, running

pytestmark = [pytest.mark.slow]
SAMPLE = {
    "run_id": "run-1",
    "callback_id": "1",
    "script_id": "billing",
    "agent_id": "agent1",
    "call_id": "c1",
    "name": "spring",
    "report": "queue_intervals",
}


@pytest.fixture
async def centre(tmp_path: Path) -> AsyncIterator[Centre]:
    async with running(billing_settings(tmp_path)) as c:
        yield c


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), "1"), path)


async def test_openapi_describes_every_route_served_and_api_routes_need_a_session(centre: Centre) -> None:
    app = centre.server.web_runner.app
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(("/api/", "/self/"))
        and route.method != "HEAD"
    }
    async with centre.http.get(centre.url + "api/openapi.json") as resp:
        assert resp.status == 401
    boss = await centre.login(*SUPERVISOR)
    try:
        async with boss.get(centre.url + "api/openapi.json") as resp:
            document = await resp.json()
    finally:
        await boss.close()
    assert document == openapi_document(voicemail=True, scripts=True, campaigns=True, reports=True)
    described = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }
    assert served == described
    for path, item in document["paths"].items():
        public = path.startswith("/self/")
        for method in (m for m in item if m in {"get", "post", "put"}):
            assert (item[method].get("security") == []) is public, f"{method} {path}"
            if public or path == "/api/login":
                continue
            async with centre.http.request(
                method, centre.url + _concrete(path)[1:], json={}, headers=CSRF
            ) as resp:
                assert resp.status == 401, f"{method} {path} answered {resp.status} without a session"


async def test_the_editor_is_for_admins_and_the_export_for_supervisors(centre: Centre) -> None:
    boss = await centre.login(*SUPERVISOR)
    admin = await centre.login(*ADMIN)
    agent = await centre.login("agent1", "agent1-pass")
    try:
        async with boss.get(centre.url + "api/scripts") as resp:
            listing = await resp.json()
        assert listing["scripts"][0]["queues"] == ["billing"] and listing["editable"]
        async with boss.get(centre.url + "api/scripts/billing") as resp:
            assert resp.status == 403
        async with admin.get(centre.url + "api/scripts/billing") as resp:
            script = await resp.json()
        assert script["version"] == 1 and script["problems"] == [] and len(script["tree"]) == 10
        async with boss.put(
            centre.url + "api/scripts/billing", json={"source": script["source"]}, headers=CSRF
        ) as resp:
            assert resp.status == 403
        # a save needs the CSRF header like every state-changing request
        async with admin.put(centre.url + "api/scripts/billing", json={"source": script["source"]}) as resp:
            assert resp.status == 403
        async with admin.post(
            centre.url + "api/scripts/check", json={"source": "<script"}, headers=CSRF
        ) as resp:
            checked = await resp.json()
        assert not checked["ok"] and checked["problems"][0]["message"].startswith("not well-formed XML")
        async with agent.get(centre.url + "api/scripts") as resp:
            assert resp.status == 403
        async with agent.get(centre.url + "api/script-runs/active") as resp:
            assert resp.status == 403
        async with agent.get(centre.url + "api/callbacks/1") as resp:
            assert resp.status == 404
    finally:
        for session in (boss, admin, agent):
            await session.close()
