"""The report routes over real HTTP: the catalogue, JSON and CSV with the same content, roles,
and a 400 naming the parameter at fault."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from callserver.acd.service import AcdService
from callserver.app import build_engine
from callserver.facts.bus import FactBus
from callserver.pbx.channels import ChannelNames
from callserver.store.store import Store
from callserver.web import build_web_app
from callserver.web.openapi import openapi_document
from tests.reports.helpers import filled, settings
from tests.reports.scenario import morning
from tests.reports.test_tables import DAY
from tests.web.conftest import CSRF, PASSWORD, FakePbx, deps_factory, make_settings


@dataclasses.dataclass
class Served:
    server: TestServer
    clients: list[TestClient]

    async def client(self, login: str | None) -> TestClient:
        client = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        if login is not None:
            resp = await client.post("/api/login", json={"login": login, "password": PASSWORD}, headers=CSRF)
            assert resp.status == 200, await resp.text()
        return client


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    web_settings = make_settings(tmp_path)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'reports.db'}")
    await store.sync_config(web_settings)
    bus = FactBus()
    service = AcdService(
        build_engine(web_settings), FakePbx(), channels=ChannelNames(), on_fact=bus.publish, clock=time.time
    )
    await service.start()
    reports = await filled(store, morning(), settings())
    deps = dataclasses.replace(deps_factory(tmp_path, store, service, bus), reports=reports)
    test_server = TestServer(build_web_app(deps), host="127.0.0.1")
    await test_server.start_server()
    here = Served(test_server, [])
    try:
        yield here
    finally:
        for client in here.clients:
            await client.close()
        await test_server.close()
        await service.stop()
        await store.close()


async def test_catalogue_lists_the_standard_reports_with_their_figures(served: Served) -> None:
    boss = await served.client("boss")
    resp = await boss.get("/api/reports")
    assert resp.status == 200
    listing = {r["name"]: r for r in await resp.json()}
    assert {"queue_intervals", "agent_intervals", "skill_intervals", "dnis_intervals"} <= set(listing)
    queue = listing["queue_intervals"]
    assert queue["dimension"] == "queue"
    assert {"key": "service_level", "label": "Service level", "unit": "ratio"} in queue["figures"]
    assert queue["intervals"] == ["15m", "30m", "60m", "day", "week", "month"]


async def test_csv_download_is_the_json_answer_row_for_row(served: Served) -> None:
    boss = await served.client("boss")
    query = f"/api/reports/queue_intervals?from={DAY}&to={DAY}&interval=30m&queue=sales&queue=support"
    as_json = await boss.get(query)
    assert as_json.status == 200
    answer = await as_json.json()
    as_csv = await boss.get(query + "&format=csv")
    assert as_csv.status == 200
    assert as_csv.content_type == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(await as_csv.text())))
    assert answer["report"]["interval"] == "30m" and answer["report"]["timezone"] == "Europe/Paris"
    keys = [c["key"] for c in answer["columns"]]
    assert lines[0] == keys
    assert len(answer["rows"]) == len(lines) - 1 >= 10
    for line, row in zip(lines[1:], answer["rows"], strict=True):
        expected = [
            "" if row[k] is None else row[k] if isinstance(row[k], str) else json.dumps(row[k]) for k in keys
        ]
        assert line == expected


async def test_agents_may_not_read_reports(served: Served) -> None:
    agent = await served.client("agent1")
    assert (await agent.get("/api/reports")).status == 403
    assert (await agent.get(f"/api/reports/queue_intervals?from={DAY}&to={DAY}")).status == 403
    anonymous = await served.client(None)
    assert (await anonymous.get("/api/reports")).status == 401


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("to=2025-12-01", "from"),
        ("from=2025-12-01&to=2025-12-40", "to"),
        ("from=2025-12-02&to=2025-12-01", "to"),
        ("from=2025-12-01&to=2025-12-01&interval=7m", "interval"),
        ("from=2025-12-01&to=2025-12-01&format=xml", "format"),
        ("from=2025-12-01&to=2025-12-01&agent=a1", "agent"),
        ("from=1.12.2025&to=2025-12-01", "from"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_it(served: Served, query: str, parameter: str) -> None:
    boss = await served.client("boss")
    resp = await boss.get(f"/api/reports/queue_intervals?{query}")
    body = await resp.json()
    assert resp.status == 400
    assert body["parameter"] == parameter
    assert f"'{parameter}'" in body["error"]


async def test_an_unknown_report_is_a_404(served: Served) -> None:
    boss = await served.client("boss")
    resp = await boss.get(f"/api/reports/nothing_here?from={DAY}&to={DAY}")
    assert resp.status == 404


def test_both_routes_are_in_the_openapi_document() -> None:
    paths = openapi_document(reports=True)["paths"]
    assert "/api/reports" not in openapi_document()["paths"]  # described only where served
    names = {p["name"] for p in paths["/api/reports/{report}"]["parameters"]}
    assert {"report", "from", "to", "interval", "format"} <= names
    assert "get" in paths["/api/reports"]
