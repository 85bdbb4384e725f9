"""The server and the PBX simulator over real loopback TCP for the export tests: two agents in two
queues, a supervisor, web logins, and Prometheus configured as the test asks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from callserver.acd.model import CallState
from callserver.app import CallServer, start_server
from callserver.config import Settings
from callserver.sim import PbxSimulator

from ..helpers import fast_settings

PASSWORD = "correct horse"
CSRF = {"X-Callserver": "1"}
TOKEN = "a-metrics-token-of-some-length"


def settings_for(tmp_path: Path, prometheus: dict[str, Any] | None = None) -> Settings:
    base = fast_settings(tmp_path, agents=2)
    data = base.model_dump(mode="json")
    for agent in data["agents"]:
        agent["password"] = PASSWORD
    sales = dict(data["queues"][0], name="sales", dnis=["600"])
    data["queues"].append(sales)
    data["web_users"] = [{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}]
    data["prometheus"] = prometheus
    return Settings.model_validate(data)


@dataclass
class Rig:
    sim: PbxSimulator
    server: CallServer
    http: aiohttp.ClientSession
    base: str
    tokens: dict[str, str]

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self.server.service.wait_for(predicate)

    async def post(self, who: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **CSRF}
        async with self.http.post(self.base + path, json=body or {}, headers=headers) as resp:
            return resp.status, await resp.json()

    async def text(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        async with self.http.get(url, headers=headers or {}) as resp:
            return resp.status, await resp.text()

    async def connected_call(self, number: str, dnis: str = "500") -> tuple[str, str]:
        """Place a long call and wait until an agent talks with it: (call id, agent id)."""
        acd = self.server.service
        known = {c.id for c in acd.calls()}
        self.sim.place_call(number, dnis, patience=60.0, talk_time=60.0)
        await self.until(
            lambda: any(c.state is CallState.CONNECTED and c.id not in known for c in acd.calls())
        )
        call = next(c for c in acd.calls() if c.id not in known)
        assert call.agent_id is not None
        return call.id, call.agent_id


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Rig]:
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    for agent in settings.agents:
        sim.set_phone(agent.interface or "", answers=True, answer_delay=0.05)
    server = await start_server(settings)
    http = aiohttp.ClientSession()
    try:
        await asyncio.wait_for(server.service.wait_for(lambda: server.service.resyncs > 0), 10)
        base = f"http://127.0.0.1:{server.web_port}"
        tokens = {}
        for login in ("agent1", "agent2", "boss"):
            async with http.post(
                base + "/api/login", json={"login": login, "password": PASSWORD, "bearer": True}, headers=CSRF
            ) as resp:
                assert resp.status == 200, await resp.text()
                tokens[login] = (await resp.json())["token"]
        yield Rig(sim, server, http, base, tokens)
    finally:
        await http.close()
        await server.stop()
        await sim.stop()
