"""The call search over real TCP: the server and the PBX simulator run real calls (an IVR, a phone
that rings out, a hold, a wrap-up), then a supervisor finds the calls over REST by number in
another form, by customer, agent, queue and outcome, pages through them, and reads a call's
timeline in the order things happened. Bad parameters are refused naming the parameter.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from callserver.acd.model import AgentState, AgentStatus, CallState
from callserver.app import CallServer, start_server
from callserver.config import parse_settings
from callserver.sim import PbxSimulator

from ..helpers import fast_settings

pytestmark = pytest.mark.slow

SUPERVISOR = ("super", "super-pass")
AGENT = ("agent2", "agent2-pass")
IVR_DNIS = "600"
CSRF = {"X-Callserver": "1"}
# national form as the trunk delivers it; the centre is in France
ALICE_NATIONAL = "0140000001"
ALICE_TYPED = "+33 1 40 00 00 01"


def _settings(tmp_path: Path) -> Any:
    agents = [
        {
            "id": f"agent{i}",
            "name": name,
            "login": f"agent{i}",
            "interface": f"PJSIP/{1000 + i}",
            "skills": {"support": 5},
            "password": f"agent{i}-pass",
        }
        for i, name in ((1, "Alice Martin"), (2, "Bruno Petit"))
    ]
    seed = tmp_path / "customers.csv"
    seed.write_text("name,phones,account\nJeanne Dupont,+33 1 40 00 00 01,ACC1001\n", encoding="utf-8")
    base = fast_settings(
        tmp_path,
        queues=[
            {
                "name": "support",
                "dnis": ["500"],
                "skills": ["support"],
                "max_wait": 60.0,
                "ring_timeout": 1.5,
                "wrapup": 30.0,
                "on_timeout": {"message": "vm-goodbye"},
            }
        ],
        customers={"seed_file": str(seed), "default_region": "FR"},
        web_users=[{"login": SUPERVISOR[0], "name": "Sue", "role": "supervisor", "password": SUPERVISOR[1]}],
    )
    flow = {
        "dnis": [IVR_DNIS],
        "language": "en",
        "start": "menu",
        "nodes": {
            "menu": {
                "type": "menu",
                "prompt": {"file": "beep"},
                "options": {"2": "queue"},
                "timeout": 2,
                "retries": 0,
                "fallback": "queue",
            },
            "queue": {"type": "queue", "queue": "support"},
        },
    }
    data = {**base.model_dump(mode="json"), "agents": agents, "ivr": {"flows": {"main": flow}}}
    return parse_settings(data, "<call search test>", env={})


@dataclass
class Rest:
    http: aiohttp.ClientSession
    base: str
    tokens: dict[str, str]

    async def login(self, who: tuple[str, str]) -> None:
        body = {"login": who[0], "password": who[1], "bearer": True}
        async with self.http.post(self.base + "/api/login", json=body, headers=CSRF) as resp:
            assert resp.status == 200, await resp.text()
            self.tokens[who[0]] = (await resp.json())["token"]

    def _auth(self, who: tuple[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who[0]]}", **CSRF}

    async def get(self, path: str, who: tuple[str, str] = SUPERVISOR, **params: str) -> tuple[int, Any]:
        async with self.http.get(self.base + path, params=params, headers=self._auth(who)) as resp:
            return resp.status, await resp.json()

    async def post(self, path: str, body: dict[str, Any], who: tuple[str, str]) -> tuple[int, Any]:
        async with self.http.post(self.base + path, json=body, headers=self._auth(who)) as resp:
            return resp.status, await resp.json()


@dataclass
class Day:
    server: CallServer
    sim: PbxSimulator
    rest: Rest
    ivr_call: str  # through the IVR: rang out at Alice, answered by Bruno, held, wrapped up
    direct_calls: list[str]  # straight to the queue, answered by Bruno


async def _until(server: CallServer, predicate: Any, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        await server.service.wait_for(predicate)


def _state(server: CallServer, agent_id: str) -> AgentState:
    agent = server.service.agent(agent_id)
    assert agent is not None
    return agent.state


def _held(server: CallServer, call_id: str) -> bool:
    call = server.service.call(call_id)
    return call is not None and call.on_hold


@pytest_asyncio.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    settings = _settings(tmp_path)
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)
    try:
        async with aiohttp.ClientSession() as http:
            await _until(server, lambda: server.service.resyncs > 0)
            rest = Rest(http, f"http://127.0.0.1:{server.web_port}", {})
            await rest.login(SUPERVISOR)
            await rest.login(AGENT)
            yield Day(server, sim, rest, *await _calls(server, sim, rest))
    finally:
        await server.stop()
        await sim.stop()


async def _calls(server: CallServer, sim: PbxSimulator, rest: Rest) -> tuple[str, list[str]]:
    service = server.service
    sim.set_phone("PJSIP/1001", answers=False)  # Alice's phone rings out
    sim.set_phone("PJSIP/1002", answers=True, answer_delay=0.2)
    service.set_status("agent1", AgentStatus.AVAILABLE)
    handle = sim.place_call(ALICE_NATIONAL, IVR_DNIS, patience=120, talk_time=600, digits="2")
    await _until(server, lambda: _state(server, "agent1") is AgentState.RINGING)
    call_id = handle.record.uniqueid
    await _until(server, lambda: _state(server, "agent1") is not AgentState.RINGING)
    service.set_status("agent1", AgentStatus.LOGGED_OUT)
    service.set_status("agent2", AgentStatus.AVAILABLE)

    def talking(cid: str) -> bool:
        call = service.call(cid)
        return call is not None and call.state is CallState.CONNECTED

    await _until(server, lambda: talking(call_id))
    status, _ = await rest.post(f"/api/calls/{call_id}/hold", {}, AGENT)
    assert status == 200
    await _until(server, lambda: _held(server, call_id))
    status, _ = await rest.post(f"/api/calls/{call_id}/resume", {}, AGENT)
    assert status == 200
    await _until(server, lambda: not _held(server, call_id))
    call = service.call(call_id)
    assert call is not None and sim.hangup_channel(call.channel)
    await _until(server, lambda: _state(server, "agent2") is AgentState.WRAPUP)
    status, body = await rest.post(
        f"/api/calls/{call_id}/wrapup", {"outcome": "escalated", "note": "Line fault reported."}, AGENT
    )
    assert status == 200, body
    await _until(server, lambda: _state(server, "agent2") is AgentState.IDLE)
    direct: list[str] = []
    for number in ("+33140000002", "+33140000003"):
        other = sim.place_call(number, "500", patience=120, talk_time=0.5)
        await _until(server, lambda h=other: talking(h.record.uniqueid))
        direct.append(other.record.uniqueid)
        await _until(server, lambda h=other: service.call(h.record.uniqueid) is None)
        await _until(server, lambda: _state(server, "agent2") is AgentState.WRAPUP)
        status, body = await rest.post(
            f"/api/calls/{other.record.uniqueid}/wrapup", {"outcome": "resolved", "note": ""}, AGENT
        )
        assert status == 200, body
        await _until(server, lambda: _state(server, "agent2") is AgentState.IDLE)
    await server.writer.flush()
    return call_id, direct


async def test_supervisor_finds_calls_by_every_filter_and_pages_through_them(day: Day) -> None:
    rest, ivr_call, direct = day.rest, day.ivr_call, day.direct_calls
    status, everything = await rest.get("/api/calls")
    assert status == 200
    assert [c["id"] for c in everything["calls"]] == [direct[1], direct[0], ivr_call]
    status, found = await rest.get("/api/calls", number=ALICE_TYPED)
    assert status == 200
    assert [c["id"] for c in found["calls"]] == [ivr_call]
    call = found["calls"][0]
    assert (call["caller_num"], call["caller_e164"]) == (ALICE_NATIONAL, "+33140000001")
    assert (call["customer_name"], call["agent_name"], call["outcome"]) == (
        "Jeanne Dupont",
        "Bruno Petit",
        "answered",
    )
    assert call["wrapup_outcome"] == "escalated" and call["offers"] == 2
    for params, expected in (
        ({"customer": "ACC1001"}, [ivr_call]),
        ({"customer": "dupont"}, [ivr_call]),
        ({"agent": "agent1"}, [ivr_call]),  # rang out: offered counts
        ({"agent": "agent2"}, [direct[1], direct[0], ivr_call]),
        ({"queue": "support", "outcome": "resolved"}, [direct[1], direct[0]]),
        ({"outcome": "answered", "number": "01 40 00 00 02"}, [direct[0]]),
    ):
        status, page = await rest.get("/api/calls", **params)
        assert status == 200, page
        assert [c["id"] for c in page["calls"]] == expected, params
    today = everything["calls"][0]["arrived_at"][:10]
    status, page = await rest.get("/api/calls", **{"from": today, "to": today})
    assert [c["id"] for c in page["calls"]] == [direct[1], direct[0], ivr_call]
    status, page = await rest.get("/api/calls", **{"from": "2001-01-01", "to": "2001-01-31"})
    assert page["calls"] == []
    # one call per page: the cursor walks all three, then says there is no more
    seen: list[str] = []
    params = {"limit": "1"}
    while True:
        status, page = await rest.get("/api/calls", **params)
        assert status == 200
        seen += [c["id"] for c in page["calls"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": "1", "cursor": page["next_cursor"]}
    assert seen == [direct[1], direct[0], ivr_call]


async def test_the_timeline_tells_the_call_in_order(day: Day) -> None:
    status, body = await day.rest.get(f"/api/calls/{day.ivr_call}/timeline")
    assert status == 200, body
    entries = body["entries"]
    kinds = [e["kind"] for e in entries]
    # the IVR first: each node at the time it was reached, the way out, the path summed up
    before_queue = kinds[: kinds.index("queued")]
    assert set(before_queue) <= {"ivr_node", "ivr_left", "ivr"} and "ivr" in kinds, kinds
    assert [e["detail"]["node"] for e in entries if e["kind"] == "ivr_node"] == ["menu", "queue"]
    (left,) = [e for e in entries if e["kind"] == "ivr_left"]
    assert left["detail"]["outcome"] == "queue"
    summary = entries[kinds.index("ivr")]
    assert summary["detail"]["path"] == ["menu", "queue"]
    assert summary["detail"]["choices"] == [{"menu": "menu", "key": "2", "to": "queue"}]
    rna = entries[kinds.index("ring_no_answer")]
    assert (rna["agent_id"], rna["agent_name"]) == ("agent1", "Alice Martin")
    assert 1.0 <= rna["detail"]["rang"] <= 3.0
    answered = entries[kinds.index("answered")]
    assert answered["agent_name"] == "Bruno Petit" and answered["detail"]["wait"] > rna["detail"]["rang"]
    order = [
        "queued",
        "offered",
        "ring_no_answer",
        "answered",
        "held",
        "resumed",
        "ended",
        "wrapup_started",
        "wrapped_up",
        "wrapup_ended",
    ]
    positions = [kinds.index(k) for k in order]
    assert positions == sorted(positions), kinds
    wrapped = entries[kinds.index("wrapped_up")]
    assert (wrapped["detail"]["code"], wrapped["detail"]["note"]) == ("escalated", "Line fault reported.")
    assert kinds.index("wrapped_up") > kinds.index("ended")
    assert entries[kinds.index("resumed")]["detail"]["held"] >= 0
    ended = entries[kinds.index("ended")]
    # the simulator's caller hangs up at once: the talk time is there, however short
    assert ended["detail"]["outcome"] == "answered" and ended["detail"]["talk"] is not None
    assert ended["detail"]["ended_by"] == "caller"
    # the wrap-up's end comes from the agent's state history (the idle state names no call)
    assert kinds[-1] == "wrapup_ended" and entries[-1]["agent_id"] == "agent2"
    # in time order; the end of the wrap-up (stamped when the agent went idle) may read the clock
    # a moment before the saved code it follows
    times = [e["t"] for e in entries]
    assert all(later >= earlier - 0.05 for earlier, later in itertools.pairwise(times)), times
    assert body["call"]["id"] == day.ivr_call and body["voicemails"] == []


async def test_bad_parameters_are_refused_naming_them_and_agents_may_not_search(day: Day) -> None:
    rest = day.rest
    for params, name in (
        ({"from": "2026-13-45"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01T00:00+14:00"}, "from"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"number": "call me"}, "number"),
        ({"agent": "no such!"}, "agent"),
        ({"queue": "x" * 65}, "queue"),
    ):
        status, body = await rest.get("/api/calls", **params)
        assert status == 400, (params, body)
        assert body["parameter"] == name and f"'{name}'" in body["error"], body
    status, body = await rest.get("/api/calls/nope.1/timeline")
    assert status == 404
    status, _ = await rest.get("/api/calls", who=AGENT)
    assert status == 403
    status, _ = await rest.get(f"/api/calls/{day.ivr_call}/timeline", who=AGENT)
    assert status == 403
