"""The server and the PBX simulator over real loopback TCP for outbound campaigns: agents logged in
on phones that answer, a supervisor, the simulator dialling out to called parties each test sets
(`set_called`), and helpers that wait on what the campaign service, the ACD or the store say."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from callserver.acd.model import AgentStatus
from callserver.app import CallServer, start_server
from callserver.campaigns.model import AgentSlot
from callserver.config import Settings
from callserver.facts.model import Fact
from callserver.sim import PbxSimulator
from callserver.store.campaigns import CampaignStore

from ..helpers import fast_settings

PASSWORD = "correct horse"
CSRF = {"X-Callserver": "1"}
NY = "+1212555"


def settings_for(tmp_path: Path, agents: int = 2, **outbound: Any) -> Settings:
    base = fast_settings(tmp_path, agents=agents)
    data = base.model_dump(mode="json")
    for agent in data["agents"]:
        agent["password"] = PASSWORD
    data["web_users"] = [{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}]
    data["simulator"]["outbound"] = {"enabled": True, **outbound}
    data["queues"][0]["wrapup"] = 0.0
    data["queues"][0]["max_wait"] = 60.0
    data["queues"][0]["ring_timeout"] = 5.0
    return type(base).model_validate(data)


def campaign(name: str = "spring", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "mode": "progressive",
        "rule_set": "none",
        "caller_id": "+12025550100",
        "caller_name": "Acme",
        "ring_timeout": 8,
        "min_predictive_agents": 1,
    }
    body.update(extra)
    return body


def csv_of(rows: list[tuple[str, ...]], header: str = "ref,name,phone") -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


@dataclass
class Outbound:
    sim: PbxSimulator
    server: CallServer
    http: aiohttp.ClientSession
    base: str
    tokens: dict[str, str]
    facts: list[Fact] = field(default_factory=list)

    @property
    def campaigns(self) -> Any:
        assert self.server.campaigns is not None
        return self.server.campaigns

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self.campaigns.wait_for(predicate)

    async def acd_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait on the ACD's changes (agents, calls, persistent lines as the ACD learns them)."""
        async with asyncio.timeout(timeout):
            await self.server.service.wait_for(predicate)

    async def request(
        self, who: str, method: str, path: str, body: Any = None, *, text: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **CSRF}
        kwargs: dict[str, Any] = {"headers": headers}
        if text is not None:
            kwargs["data"] = text.encode()
            headers["Content-Type"] = "text/csv"
        elif body is not None:
            kwargs["json"] = body
        async with self.http.request(method, self.base + path, **kwargs) as resp:
            raw = await resp.read()
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype and "ndjson" not in ctype:
                return resp.status, json.loads(raw)
            return resp.status, raw.decode()

    async def post(self, who: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.request(who, "POST", path, body if body is not None else {})

    async def get(self, who: str, path: str) -> tuple[int, Any]:
        return await self.request(who, "GET", path)

    async def create(self, body: dict[str, Any]) -> None:
        status, data = await self.post("boss", "/api/campaigns", body)
        assert status == 201, data

    async def import_list(self, name: str, list_name: str, text: str, **params: str) -> tuple[int, Any]:
        query = "&".join(
            f"{k}={v}" for k, v in {"list": list_name, "phone": "phone", "id": "ref", **params}.items()
        )
        return await self.request("boss", "POST", f"/api/campaigns/{name}/lists?{query}", text=text)

    def slot(self, name: str, agent_id: str) -> AgentSlot:
        agent = self.campaigns.entry(name).engine.agents.get(agent_id)
        return agent.slot if agent is not None else AgentSlot.OFF

    def of(self, kind: type) -> list[Any]:
        return [f for f in self.facts if isinstance(f, kind)]

    async def stored(self) -> None:
        await self.server.writer.flush()

    def store(self) -> CampaignStore:
        return CampaignStore(self.server.store)


@asynccontextmanager
async def coding(rig: Outbound, outcome: str = "sale") -> AsyncIterator[list[str]]:
    """Agents who code every campaign call they finish, through the REST API, while in the block;
    yields the attempts coded."""
    coded: list[str] = []

    def waiting() -> list[tuple[str, str]]:
        out = []
        for entry in rig.campaigns.entries.values():
            for agent in entry.engine.agents.values():
                if agent.slot is AgentSlot.WRAPUP and agent.attempt_id is not None:
                    out.append((agent.id, agent.attempt_id))
        return out

    async def work() -> None:
        while True:
            await rig.campaigns.wait_for(lambda: bool(waiting()))
            for agent_id, attempt_id in waiting():
                login = next(a.login for a in rig.server.settings.agents if a.id == agent_id)
                status, answer = await rig.post(
                    login, "/api/campaign-desk/wrapup", {"attempt_id": attempt_id, "outcome": outcome}
                )
                if status == 200:
                    coded.append(attempt_id)
                else:
                    print("wrap-up refused", agent_id, attempt_id, status, answer)

    task = asyncio.create_task(work())
    try:
        yield coded
    finally:
        task.cancel()
        (outcome_of_task,) = await asyncio.gather(task, return_exceptions=True)
        if not isinstance(outcome_of_task, asyncio.CancelledError):
            raise AssertionError(f"the coding agents stopped: {outcome_of_task!r}")


@asynccontextmanager
async def running(
    settings: Settings, *, clock: Callable[[], float] | None = None, agents_on: bool = True
) -> AsyncIterator[Outbound]:
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    for agent in settings.agents:
        sim.set_phone(agent.interface or "", answers=True, answer_delay=0.05)
    kwargs: dict[str, Any] = {} if clock is None else {"campaign_clock": clock}
    server = await start_server(settings, **kwargs)
    facts: list[Fact] = []
    server.bus.subscribe(facts.append)
    http = aiohttp.ClientSession()
    try:
        await asyncio.wait_for(server.service.wait_for(lambda: server.service.resyncs > 0), 10)
        base = f"http://127.0.0.1:{server.web_port}"
        tokens = {}
        for login in [a.login for a in settings.agents] + ["boss"]:
            async with http.post(
                base + "/api/login", json={"login": login, "password": PASSWORD, "bearer": True}, headers=CSRF
            ) as resp:
                assert resp.status == 200, await resp.text()
                tokens[login] = (await resp.json())["token"]
        if not agents_on:
            for agent in settings.agents:
                server.service.set_status(agent.id, AgentStatus.LOGGED_OUT)
        yield Outbound(sim, server, http, base, tokens, facts)
    finally:
        await http.close()
        await server.stop()
        await sim.stop()


@pytest.fixture
async def outbound(tmp_path: Path) -> AsyncIterator[Outbound]:
    async with running(settings_for(tmp_path)) as rig:
        yield rig
