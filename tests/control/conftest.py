"""The server and the PBX simulator over real loopback TCP, with agents and a supervisor logged in
to the web API, for call-control tests; `Rig` waits on what the engine or the simulator reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from callserver.acd.model import CallState
from callserver.acd.views import AgentView, CallView
from callserver.app import CallServer, start_server
from callserver.sim import PbxSimulator
from callserver.sim.messages import Message

from ..helpers import fast_settings

PASSWORD = "correct horse"
CSRF = {"X-Callserver": "1"}
CUSTOMER_NUMBER = "+33140000001"
OUTSIDE = "+33199000042"
SUPERVISOR_PHONE = "PJSIP/9003"


@dataclass
class Recorder:
    """Every AMI message the simulator emits, with a way to wait for one."""

    messages: list[dict[str, str]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, msg: Message) -> None:
        self.messages.append(dict(msg))
        self.changed.set()

    async def wait(self, match: Callable[[dict[str, str]], bool], start: int = 0) -> dict[str, str]:
        async with asyncio.timeout(5):
            while True:
                found = next((m for m in self.messages[start:] if match(m)), None)
                if found is not None:
                    return found
                self.changed.clear()
                await self.changed.wait()


@dataclass
class Rig:
    sim: PbxSimulator
    server: CallServer
    http: aiohttp.ClientSession
    base: str
    tokens: dict[str, str]
    events: Recorder

    def call(self, call_id: str) -> CallView:
        """The live call as the ACD shows it (an assertion error once it has ended)."""
        call = self.server.service.call(call_id)
        assert call is not None, f"call {call_id} is not in progress"
        return call

    def agent(self, agent_id: str) -> AgentView:
        agent = self.server.service.agent(agent_id)
        assert agent is not None, f"no agent {agent_id}"
        return agent

    async def until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            await self.server.service.wait_for(predicate)

    async def post(self, who: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **CSRF}
        async with self.http.post(self.base + path, json=body or {}, headers=headers) as resp:
            return resp.status, await resp.json()

    async def get(self, who: str, path: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with self.http.get(self.base + path, headers=headers) as resp:
            return resp.status, await resp.json()

    async def connected_call(self, number: str = CUSTOMER_NUMBER) -> tuple[str, str, str]:
        """Place a call and wait until an agent talks with it: (call id, agent id, agent leg id)."""
        acd = self.server.service
        known = {c.id for c in acd.calls()}
        self.sim.place_call(number, "500", patience=60.0, talk_time=60.0)
        await self.until(
            lambda: any(c.state is CallState.CONNECTED and c.id not in known for c in acd.calls())
        )
        call = next(c for c in acd.calls() if c.id not in known)
        assert call.agent_id is not None and call.leg_id is not None
        await self.events.wait(lambda m: m.get("Event") == "BridgeEnter" and m.get("Uniqueid") == call.leg_id)
        return call.id, call.agent_id, call.leg_id

    def bridged_with(self, call_id: str) -> set[str]:
        """Uniqueids of the channels in the caller's bridge (empty when not bridged)."""
        caller = self.sim.channel(self.call(call_id).channel)
        if caller is None or caller.bridge is None:
            return set()
        return {c.uniqueid for c in caller.bridge.channels if c is not caller}


@asynccontextmanager
async def rig_with(tmp_path: Path, **queue: Any) -> AsyncIterator[Rig]:
    """The rig below with `queue` settings added to its one queue (wrap-up, outcome list...);
    `outcome_lists=`, `acd=` and `web=` go to the top level and those sections instead."""
    seed = tmp_path / "customers.csv"
    seed.write_text(f"name,phones\nAda Lovelace,{CUSTOMER_NUMBER}\n", encoding="utf-8")
    base = fast_settings(tmp_path, agents=3)
    data = base.model_dump(mode="json")
    for agent in data["agents"]:
        agent["password"] = PASSWORD
    data["queues"][0]["wrapup"] = 30.0
    data["queues"][0]["max_wait"] = 30.0
    if "outcome_lists" in queue:
        data["outcomes"] = queue.pop("outcome_lists")
    data["acd"].update(queue.pop("acd", {}))
    data["web"].update(queue.pop("web", {}))
    data["queues"][0].update(queue)
    data["web_users"] = [{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}]
    data["customers"] = {"seed_file": str(seed)}
    settings = type(base).model_validate(data)
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    events = Recorder()
    sim.pbx.listeners.append(events)
    for agent in settings.agents:
        sim.set_phone(agent.interface or "", answers=True, answer_delay=0.05)
    sim.set_phone(SUPERVISOR_PHONE, answers=True, answer_delay=0.05)
    sim.set_phone(f"PJSIP/{OUTSIDE}@trunk", answers=True, answer_delay=0.05)
    server = await start_server(settings)
    http = aiohttp.ClientSession()
    try:
        await asyncio.wait_for(server.service.wait_for(lambda: server.service.resyncs > 0), 10)
        base_url = f"http://127.0.0.1:{server.web_port}"
        tokens = {}
        for login in ("agent1", "agent2", "agent3", "boss"):
            async with http.post(
                base_url + "/api/login",
                json={"login": login, "password": PASSWORD, "bearer": True},
                headers=CSRF,
            ) as resp:
                assert resp.status == 200, await resp.text()
                tokens[login] = (await resp.json())["token"]
        yield Rig(sim, server, http, base_url, tokens, events)
    finally:
        await http.close()
        await server.stop()
        await sim.stop()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with rig_with(tmp_path) as running:
        yield running
