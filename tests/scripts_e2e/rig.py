"""A billing centre running the shipped billing script, over real loopback TCP: the server, the PBX
simulator, an HTTP client per person. Shared by the script tests over TCP and the browser tests.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from callserver.acd.model import AgentStatus
from callserver.app import CallServer, start_server
from callserver.config import Settings, parse_settings
from callserver.facts.model import Fact
from callserver.sim import PbxSimulator
from callserver.sim.traffic import CallHandle

from ..helpers import ROOT, fast_settings

TIMEZONE = "Europe/Paris"
BILLING_DNIS = "500"
CSRF = {"X-Callserver": "1"}
SUPERVISOR = ("super", "super-pass")
ADMIN = ("admin", "admin-pass")
JEANNE = {"name": "Jeanne Dupont", "phone": "+33140000001", "account": "100101", "postcode": "75011"}
SEED = """name,phones,account,language,vip,notes,balance,postcode
Jeanne Dupont,+33140000001,100101,fr,no,Prefers email follow-up,42.10,75011
Marc Lambert,+33140000002,100102,fr,yes,,-12.50,75015
"""


def today() -> date:
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def callback_day() -> date:
    """A day the billing script's date question accepts (tomorrow to 14 days on)."""
    return today() + timedelta(days=3)


def billing_settings(tmp_path: Path, **extra: Any) -> Settings:
    """Two billing agents (logged out at start), the billing queue and script, a supervisor, an admin."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(ROOT / "config" / "scripts" / "billing.xml", scripts / "billing.xml")
    seed = tmp_path / "customers.csv"
    seed.write_text(SEED, encoding="utf-8")
    agents = [
        {
            "id": f"agent{i}",
            "name": name,
            "login": f"agent{i}",
            "interface": f"PJSIP/{1000 + i}",
            "skills": {"billing": level},
            "password": f"agent{i}-pass",
        }
        for i, name, level in ((1, "Alice Martin", 7), (2, "Bruno Petit", 5))
    ]
    base = fast_settings(
        tmp_path,
        agents=agents,
        skills=["billing"],
        queues=[
            {
                "name": "billing",
                "dnis": [BILLING_DNIS],
                "skills": ["billing"],
                "max_wait": 120.0,
                "ring_timeout": 5.0,
                "wrapup": 60.0,
                "on_timeout": {"message": "vm-goodbye"},
            }
        ],
        web_users=[
            {"login": SUPERVISOR[0], "name": "Sue", "role": "supervisor", "password": SUPERVISOR[1]},
            {"login": ADMIN[0], "name": "Ada", "role": "admin", "password": ADMIN[1]},
        ],
    )
    data = {
        **base.model_dump(mode="json"),
        "agents": agents,
        "customers": {
            "seed_file": str(seed),
            "fields": {
                "balance": {"type": "amount"},
                "payment_plan": {"type": "text", "writable": True},
                "postcode": {"type": "text", "label": "Postcode"},
            },
        },
        "scripts": {
            "dir": str(scripts),
            "queues": {"billing": "billing"},
            "timezone": TIMEZONE,
            "callback_time": "09:00",
            "web": {"factor": "postcode", "identify": {"billing": "required"}},
        },
        **extra,
    }
    data["simulator"]["callers"]["dnis"] = [BILLING_DNIS]
    return parse_settings(data, "<billing test>", env={})


@dataclass
class Centre:
    server: CallServer
    sim: PbxSimulator
    http: aiohttp.ClientSession
    facts: list[Fact] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.web_port}/"

    def call(self, number: str, *, talk_time: float = 120.0) -> CallHandle:
        return self.sim.place_call(number, BILLING_DNIS, patience=60.0, talk_time=talk_time)

    def set_status(self, agent_id: str, status: AgentStatus) -> None:
        self.server.service.set_status(agent_id, status)

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self.server.service.wait_for(predicate)

    async def until_fact(self, match: Callable[[Fact], bool], timeout: float = 10.0) -> Fact:
        async with asyncio.timeout(timeout):
            while True:
                found = next((f for f in self.facts if match(f)), None)
                if found is not None:
                    return found
                self.changed.clear()
                await self.changed.wait()

    async def login(self, login: str, password: str) -> aiohttp.ClientSession:
        """A separate cookie jar per person (unsafe: the server is on 127.0.0.1)."""
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with session.post(
            self.url + "api/login", json={"login": login, "password": password}, headers=CSRF
        ) as resp:
            assert resp.status == 200, await resp.text()
        return session

    def _seen(self, fact: Fact) -> None:
        self.facts.append(fact)
        self.changed.set()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Centre]:
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    centre = Centre(server, sim, http)
    server.bus.subscribe(centre._seen)
    try:
        async with asyncio.timeout(10):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        for agent in ("PJSIP/1001", "PJSIP/1002"):
            sim.set_phone(agent, answer_delay=0.2, answers=True)
        yield centre
    finally:
        await http.close()
        await server.stop()
        await sim.stop()
