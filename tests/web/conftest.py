"""A real engine, service and SQLite store behind the web app, served on loopback by aiohttp.

There is no PBX here: a recording stand-in accepts originates and leaves the agent's phone ringing,
which is all the screen-pop and live-channel tests need.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from callserver.acd.metrics import live_book
from callserver.acd.model import AgentStatus
from callserver.acd.service import AcdService
from callserver.acd.views import AgentView, CallView
from callserver.app import build_engine
from callserver.config import Settings, parse_settings
from callserver.facts.bus import FactBus
from callserver.pbx.channels import ChannelNames
from callserver.pbx.events import ChannelSnapshot, InboundCall
from callserver.reports.service import Reports
from callserver.store.reports import ReportStore
from callserver.store.store import Store
from callserver.web import Role, WebDeps, WebUser, build_web_app, hash_password
from callserver.web.app import PARTS
from callserver.web.hub import LiveHub
from callserver.web.live import LiveSettings

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "callserver/web/schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
PASSWORD = "correct horse"
CSRF = {"X-Callserver": "1"}


@dataclass
class FakePbx:
    """Records the actions the ACD asks for; every originate is accepted and then rings forever."""

    actions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def originate(self, **kwargs: Any) -> None:
        self.actions.append(("originate", kwargs))

    async def hangup(self, channel: str) -> None:
        self.actions.append(("hangup", {"channel": channel}))

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        self.actions.append(("redirect", {"channel": channel}))

    async def setvar(self, channel: str, name: str, value: str) -> None:
        self.actions.append(("setvar", {"channel": channel, name: value}))

    async def getvar(self, channel: str, name: str) -> str | None:
        return None

    async def bridge(self, channel1: str, channel2: str) -> None:
        self.actions.append(("bridge", {"channel1": channel1, "channel2": channel2}))

    async def core_show_channels(self) -> list[ChannelSnapshot]:
        return []


def make_settings(tmp_path: Path) -> Settings:
    agents = [
        {
            "id": f"agent{i}",
            "name": f"Agent {i}",
            "login": f"agent{i}",
            "interface": f"PJSIP/{1000 + i}",
            "skills": {"support": 5},
            "password": PASSWORD,
        }
        for i in (1, 2)
    ]
    data = {
        "site": "test",
        "data_dir": str(tmp_path / "data"),
        "skills": ["support"],
        "agents": agents,
        "queues": [{"name": "support", "dnis": ["500"], "skills": ["support"], "ring_timeout": 60}],
        # numbers typed without a country code are French ones
        "customers": {"default_region": "FR"},
    }
    return parse_settings(data, "<web test settings>", env={})


@dataclass
class Env:
    deps: WebDeps
    server: TestServer
    clients: list[TestClient]

    @property
    def service(self) -> AcdService:
        return self.deps.service

    async def client(self, login: str | None = None) -> TestClient:
        client = TestClient(self.server)
        await client.start_server()
        self.clients.append(client)
        if login is not None:
            resp = await client.post("/api/login", json={"login": login, "password": PASSWORD}, headers=CSRF)
            assert resp.status == 200, await resp.text()
        return client

    def deps_hub(self) -> LiveHub:
        return self.server.app[PARTS].hub

    def agent(self, agent_id: str) -> AgentView:
        agent = self.service.agent(agent_id)
        assert agent is not None, f"no agent {agent_id}"
        return agent

    def call(self, call_id: str) -> CallView:
        call = self.service.call(call_id)
        assert call is not None, f"call {call_id} is not in progress"
        return call

    def set_status(self, agent_id: str, status: AgentStatus) -> None:
        self.service.set_status(agent_id, status)

    def call_arrives(self, call_id: str, caller_num: str = "+33140000001", caller_name: str = "") -> None:
        """A caller reaches the inbound script, which routes them to "support"."""
        call = InboundCall(call_id, f"PJSIP/trunk-{call_id}", caller_num, caller_name, "500", "inbound")
        self.service.inbound_call(call, "support")


def deps_factory(tmp_path: Path, store: Store, service: AcdService, bus: FactBus) -> WebDeps:
    ui = tmp_path / "agent_ui"
    ui.mkdir()
    (ui / "index.html").write_text("<!doctype html><title>agent</title>")
    (ui / "app.js").write_text("console.log('ui')")
    users = [WebUser("boss", "The Supervisor", Role.SUPERVISOR, hash_password(PASSWORD))]
    return WebDeps(
        settings=make_settings(tmp_path),
        store=store,
        service=service,
        bus=bus,
        clock=service.clock,
        ui_dir=ui,
        users=users,
        live=LiveSettings(ping_interval=0.3, heartbeat=5.0, max_frame=1024, max_errors=5),
        stream_buffer=16,
    )


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    settings = make_settings(tmp_path)
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'web.db'}")
    await store.sync_config(settings)
    bus = FactBus()
    engine = build_engine(settings)
    service = AcdService(
        engine,
        FakePbx(),
        channels=ChannelNames(),
        on_fact=bus.publish,
        clock=time.time,
    )
    await service.start()
    metrics = live_book([q.name for q in settings.queues], service_time=settings.web.service_target)
    bus.subscribe(metrics.apply)
    reports = Reports(ReportStore(store.engine, ZoneInfo(settings.reports.timezone)), settings)
    deps = dataclasses.replace(deps_factory(tmp_path, store, service, bus), metrics=metrics, reports=reports)
    server = TestServer(build_web_app(deps), host="127.0.0.1")
    await server.start_server()
    environment = Env(deps, server, [])
    try:
        yield environment
    finally:
        for client in environment.clients:
            await client.close()
        await server.close()
        await service.stop()
        await store.close()


async def receive(ws: ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    """The next server message, checked against the published schema."""
    msg = await ws.receive(timeout=timeout)
    assert msg.type is WSMsgType.TEXT, f"expected a text frame, got {msg.type}: {msg.data!r}"
    message = json.loads(msg.data)
    VALIDATOR.validate(message)
    return message


async def receive_until(
    ws: ClientWebSocketResponse, match: Callable[[dict[str, Any]], bool], timeout: float = 5.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read (validating each) until `match` holds; returns the match and everything before it."""
    seen: list[dict[str, Any]] = []
    while True:
        message = await receive(ws, timeout)
        if match(message):
            return message, seen
        seen.append(message)


async def receive_event(ws: ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    """The next message that is not a heartbeat."""
    return (await receive_until(ws, lambda m: m["type"] != "ping", timeout))[0]
