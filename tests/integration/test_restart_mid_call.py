"""A callserver process stopped (cleanly, or with `kill -9`) and started again in the middle of calls
in every state: the new process takes each call back where it was.

On the simulator, over TCP, with the server as a child process: one call waiting, one ringing an
agent, one connected, one on hold (its agent's leg parked), one in consultation (parked agent leg
bridged to a colleague's consultation leg), and two that end while no server runs (one talking, one
waiting). After the restart every agent is busy with what the PBX says and nothing else (no second
call on a phone), the calls can be handled on (resumed, the consultation cancelled, the ringing
phone answered), the two that ended unseen are closed saying so, and once the others end every
call has a complete row with an outcome and every offer an end.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from callserver.config import Settings
from callserver.sim import PbxSimulator
from callserver.sim.messages import Message
from callserver.sim.traffic import CallHandle
from callserver.store import Store
from callserver.store.records import CallRecord, OfferRecord

from ..helpers import fast_settings, free_port
from .server_process import ServerProcess

pytestmark = pytest.mark.slow
PASSWORD = "correct horse"
BOSS = ("boss", PASSWORD)
CALLER = {"patience": 300.0, "talk_time": 300.0}


def who(agent: str) -> tuple[str, str]:
    return (agent, PASSWORD)


@dataclass
class Recorder:
    """Every AMI event the simulator emits, with a way to wait for one."""

    messages: list[dict[str, str]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, msg: Message) -> None:
        self.messages.append(dict(msg))
        self.changed.set()

    async def wait(
        self, match: Callable[[dict[str, str]], bool], start: int = 0, timeout: float = 10
    ) -> None:
        async with asyncio.timeout(timeout):
            while not any(match(m) for m in self.messages[start:]):
                self.changed.clear()
                await self.changed.wait()


def restart_settings(tmp_path: Path) -> tuple[Settings, Path]:
    base = fast_settings(tmp_path, agents=6)
    data = base.model_dump(mode="json")
    data["web"]["port"] = free_port()
    data["database"] = {"url": f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}"}
    for agent in data["agents"]:
        agent["password"] = PASSWORD
        agent["start_available"] = False
    data["queues"][0].update(ring_timeout=120.0, max_wait=600.0, wrapup=0.0)
    # a queue nobody serves: its caller waits, untouched, until they give up
    data["skills"].append("sales")
    data["queues"].append({**data["queues"][0], "name": "sales", "dnis": ["600"], "skills": ["sales"]})
    data["web_users"] = [{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}]
    settings = type(base).model_validate(data)
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")), encoding="utf-8")
    return settings, config


@dataclass
class Centre:
    sim: PbxSimulator
    server: ServerProcess
    http: aiohttp.ClientSession
    events: Recorder

    async def available(self, agent: str) -> None:
        status, body = await self.server.post(
            self.http, who(agent), f"/api/agents/{agent}/status", {"status": "available"}
        )
        assert status == 200, body

    async def connected(self, agent: str) -> CallHandle:
        """Make `agent` available and give them a new caller; returns once they talk."""
        await self.available(agent)
        handle = self.sim.place_call(f"+3314000{agent[-1]}001", "500", **CALLER)
        async with asyncio.timeout(10):
            await handle.channel.bridged.wait()
        return handle

    async def agents(self) -> dict[str, dict[str, Any]]:
        return {a["id"]: a for a in await self.server.get(self.http, BOSS, "/api/agents")}

    def phone_channels(self, agent_number: int) -> list[str]:
        prefix = f"PJSIP/{1000 + agent_number}-"
        return [
            m["Channel"]
            for m in self.events.messages
            if m.get("Event") == "Newchannel" and m["Channel"].startswith(prefix)
        ]


@pytest.fixture
async def centre(tmp_path: Path) -> AsyncIterator[Centre]:
    settings, config = restart_settings(tmp_path)
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    events = Recorder()
    sim.pbx.listeners.append(events)
    for agent in settings.agents:
        sim.set_phone(agent.interface or "", answers=True, answer_delay=0.05)
    sim.set_phone("PJSIP/1005", answers=True, answer_delay=600.0)  # rings until picked up
    server = ServerProcess(config, tmp_path / "server.log", settings.web.port)
    http = aiohttp.ClientSession()
    try:
        await server.start()
        yield Centre(sim, server, http, events)
    finally:
        await http.close()
        await server.close()
        await sim.stop()


async def every_state(c: Centre) -> dict[str, CallHandle]:
    """connected (agent1), on hold (agent2), consulting (agent3 with agent4), ringing (agent5), waiting,
    and two to end while no server runs: talking to agent6, and waiting."""
    calls = {"left talking": await c.connected("agent6")}
    # queued long before the stop, so its facts are written whatever the stop
    mark = len(c.events.messages)
    calls["left waiting"] = c.sim.place_call("+33140008001", "600", **CALLER)
    await c.events.wait(
        lambda m: (
            m.get("Event") == "MusicOnHoldStart"
            and m.get("Uniqueid") == calls["left waiting"].record.uniqueid
        ),
        mark,
    )
    calls["connected"] = await c.connected("agent1")
    calls["held"] = await c.connected("agent2")
    status, body = await c.server.post(
        c.http, who("agent2"), f"/api/calls/{calls['held'].record.uniqueid}/hold"
    )
    assert status == 200, body
    calls["consulting"] = await c.connected("agent3")
    await c.available("agent4")
    mark = len(c.events.messages)
    consult = f"/api/calls/{calls['consulting'].record.uniqueid}/consult"
    status, body = await c.server.post(c.http, who("agent3"), consult, {"kind": "agent", "target": "agent4"})
    assert status == 200, body
    await c.events.wait(
        lambda m: m.get("Event") == "BridgeEnter" and m.get("Channel", "").startswith("PJSIP/1004-"), mark
    )
    await c.available("agent5")
    mark = len(c.events.messages)
    calls["ringing"] = c.sim.place_call("+33140005001", "500", **CALLER)
    await c.events.wait(
        lambda m: (
            m.get("Event") == "Newstate"
            and m.get("ChannelStateDesc") == "Ringing"
            and m.get("Channel", "").startswith("PJSIP/1005-")
        ),
        mark,
    )
    mark = len(c.events.messages)
    calls["waiting"] = c.sim.place_call("+33140006001", "500", **CALLER)
    await c.events.wait(
        lambda m: (
            m.get("Event") == "MusicOnHoldStart" and m.get("Uniqueid") == calls["waiting"].record.uniqueid
        ),
        mark,
    )
    return calls


async def end_while_no_server_runs(calls: dict[str, CallHandle]) -> None:
    for name in ("left talking", "left waiting"):
        calls[name].hangup()
        await calls[name].outcome(10)


async def check_taken_back(c: Centre, calls: dict[str, CallHandle]) -> None:
    ids = {name: handle.record.uniqueid for name, handle in calls.items()}
    agents = await c.agents()
    assert {a: (agents[a]["state"], agents[a]["call_id"]) for a in agents} == {
        "agent1": ("on_call", ids["connected"]),
        "agent2": ("on_call", ids["held"]),
        "agent3": ("on_call", ids["consulting"]),
        "agent4": ("on_call", ids["consulting"]),
        "agent5": ("ringing", ids["ringing"]),
        "agent6": ("idle", None),
    }
    waiting = {w["call_id"]: w["state"] for w in await c.server.get(c.http, BOSS, "/api/calls/waiting")}
    assert waiting == {ids["ringing"]: "offering", ids["waiting"]: "waiting"}


async def check_nobody_rung_twice(c: Centre, calls: dict[str, CallHandle]) -> None:
    """Everyone available again: the waiting callers must still not reach anybody's busy phone."""
    before = {n: c.phone_channels(n) for n in range(1, 6)}
    for n in range(1, 6):
        await c.available(f"agent{n}")
    mark = len(c.events.messages)
    calls["late"] = c.sim.place_call("+33140007001", "500", **CALLER)
    await c.events.wait(
        lambda m: m.get("Event") == "MusicOnHoldStart" and m.get("Uniqueid") == calls["late"].record.uniqueid,
        mark,
    )
    await c.agents()  # one more round trip to the server: it has had every chance to offer
    assert {n: c.phone_channels(n) for n in range(1, 6)} == before


async def carry_on(c: Centre, calls: dict[str, CallHandle]) -> None:
    """The adopted calls are handled as if nothing had happened, then everybody hangs up."""
    ids = {name: handle.record.uniqueid for name, handle in calls.items()}
    status, body = await c.server.post(c.http, who("agent2"), f"/api/calls/{ids['held']}/resume")
    assert status == 200, body
    status, body = await c.server.post(
        c.http, who("agent3"), f"/api/calls/{ids['consulting']}/consult/cancel"
    )
    assert status == 200, body
    (ringing_leg,) = c.phone_channels(5)
    assert c.sim.pick_up(ringing_leg)
    async with asyncio.timeout(10):
        await calls["ringing"].channel.bridged.wait()
    mark = len(c.server.lines)
    for handle in calls.values():
        handle.hangup()
    for name, handle in calls.items():
        await handle.outcome(10)
        await c.server.wait_line(f"call {ids[name]} ended", start=0)
    assert mark <= len(c.server.lines)


def check_rows(
    rows: list[CallRecord], offers: dict[str, list[OfferRecord]], calls: dict[str, CallHandle]
) -> None:
    by_id = {r.id: r for r in rows}
    ids = {name: handle.record.uniqueid for name, handle in calls.items()}
    assert set(by_id) == set(ids.values()), "one row per call, none lost, none invented"
    for row in rows:
        assert row.outcome is not None and row.ended_at is not None and row.queued_at is not None, row
        assert row.ended_at >= row.arrived_at
        for offer in offers[row.id]:
            assert offer.ended_at is not None and offer.result is not None, offer
    stopped = "ended while callserver was stopped"
    assert {name: (by_id[ids[name]].end_reason, by_id[ids[name]].end_estimated) for name in ids} == {
        name: (stopped, True) if name.startswith("left") else (None, False) for name in ids
    }
    expected = {
        "left talking": ("answered", "agent6"),
        "left waiting": ("unknown", None),
        "connected": ("answered", "agent1"),
        "held": ("answered", "agent2"),
        "consulting": ("answered", "agent3"),
        "ringing": ("answered", "agent5"),
        "waiting": ("abandoned", None),
        "late": ("abandoned", None),
    }
    assert {name: (by_id[i].outcome, by_id[i].agent_id) for name, i in ids.items()} == expected
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for row in rows:
        for offer in offers[row.id]:
            end = row.ended_at if offer.result == "answered" else offer.ended_at
            assert end is not None
            spans.setdefault(offer.agent_id, []).append((offer.offered_at, end))
    for agent, items in spans.items():
        for (_, end1), (start2, _) in itertools.pairwise(sorted(items)):
            assert start2 >= end1, f"{agent} was offered a call while busy"


@pytest.mark.parametrize("how", ["clean stop", "kill -9"])
async def test_a_restarted_server_takes_every_call_back_where_it_was(
    centre: Centre, how: str, tmp_path: Path
) -> None:
    c = centre
    calls = await every_state(c)
    if how == "kill -9":
        assert await c.server.kill() == -9
    else:
        assert await c.server.stop() == 0
    await end_while_no_server_runs(calls)
    await c.server.start()
    await check_taken_back(c, calls)
    await check_nobody_rung_twice(c, calls)
    await carry_on(c, calls)
    assert await c.server.stop() == 0
    settings, _ = restart_settings(tmp_path)
    store = await Store.open(settings.database_url())
    try:
        rows = await store.calls(limit=100)
        offers = {row.id: await store.offers(row.id) for row in rows}
    finally:
        await store.close()
    check_rows(rows, offers, calls)
