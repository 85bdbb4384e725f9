"""Over real TCP, the server against a simulator that fails like Asterisk 22: a phone that goes away,
a PBX that restarts under its calls, an AMI link that is down while a call ends.

- an unreachable phone is not rung (the agent is neither rung nor paused), shows as unreachable to
  the supervisor, and takes calls again by itself once reachable; one already unreachable when the
  server starts is known from DeviceStateList;
- callers cut by a PBX restart are recorded failed with the reason, at the Shutdown, not abandoned;
  a caller cut with a network cause likewise;
- a call that ended while AMI was down ends when the PBX was last heard, not at the reconnect;
- an agent whose ringing leg ended while AMI was down, just after the offer, is free again a few
  seconds after the reconnect, not at the ring time-out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from callserver.acd.model import AgentStatus, CallState
from callserver.acd.resync import RESYNC_SETTLE
from callserver.app import CallServer, start_server
from callserver.config import Settings
from callserver.facts.model import CallOffered, Fact, OfferEnded
from callserver.sim import PbxSimulator
from callserver.sim.traffic import CallHandle

from ..helpers import fast_settings

pytestmark = pytest.mark.slow
PASSWORD = "correct horse"


def settings_for(tmp_path: Path, agents: int = 2) -> Settings:
    base = fast_settings(tmp_path, agents=agents)
    data = base.model_dump(mode="json")
    data["queues"][0]["max_wait"] = 60.0
    data["queues"][0]["ring_timeout"] = 5.0
    data["web_users"] = [{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}]
    return type(base).model_validate(data)


@asynccontextmanager
async def running(settings: Settings, sim: PbxSimulator) -> AsyncIterator[CallServer]:
    server = await start_server(settings)
    try:
        await until(server, lambda: server.service.resyncs > 0, 10)
        yield server
    finally:
        await server.stop()


@asynccontextmanager
async def simulator(settings: Settings) -> AsyncIterator[PbxSimulator]:
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    for agent in settings.agents:
        sim.set_phone(agent.interface or "", answers=True, answer_delay=0.05)
    try:
        yield sim
    finally:
        await sim.stop()


async def until(server: CallServer, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        await server.service.wait_for(predicate)


async def connected(server: CallServer, sim: PbxSimulator, number: str) -> tuple[CallHandle, str]:
    known = {c.id for c in server.service.calls()}
    handle = sim.place_call(number, "500", patience=60.0, talk_time=60.0)
    acd = server.service
    await until(
        server, lambda: any(c.state is CallState.CONNECTED and c.id not in known for c in acd.calls())
    )
    call = next(c for c in acd.calls() if c.id not in known)
    assert call.agent_id is not None
    await handle.channel.bridged.wait()
    return handle, call.agent_id


async def supervisor_agents(server: CallServer) -> dict[str, Any]:
    base = f"http://127.0.0.1:{server.web_port}"
    async with aiohttp.ClientSession() as http:
        login = {"login": "boss", "password": PASSWORD, "bearer": True}
        async with http.post(base + "/api/login", json=login, headers={"X-Callserver": "1"}) as resp:
            token = (await resp.json())["token"]
        async with http.get(base + "/api/agents", headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200
            body = await resp.json()
    return {a["id"]: a for a in body}


async def test_an_unreachable_phone_is_not_rung_and_comes_back_by_itself(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with simulator(settings) as sim, running(settings, sim) as server:
        acd = server.service
        sim.set_reachable("PJSIP/1001", False)
        await until(server, lambda: not acd.agent("agent1").phone_reachable)  # type: ignore[union-attr]
        assert (await supervisor_agents(server))["agent1"]["phone"] == "unreachable"
        first, agent = await connected(server, sim, "+33140000001")
        assert agent == "agent2"
        second = sim.place_call("+33140000002", "500", patience=60.0, talk_time=60.0)
        await until(server, lambda: len(acd.calls()) == 2)
        view = acd.agent("agent1")
        assert view is not None and view.status is AgentStatus.AVAILABLE and view.state.value == "idle"
        assert all(c.agent_id != "agent1" for c in acd.calls())
        # the phone is back: the waiting caller goes to agent1 without anybody doing anything
        sim.set_reachable("PJSIP/1001", True)
        await until(
            server,
            lambda: any(c.agent_id == "agent1" and c.state is CallState.CONNECTED for c in acd.calls()),
        )
        assert (await supervisor_agents(server))["agent1"]["phone"] == "reachable"
        first.hangup()
        second.hangup()
        await until(server, lambda: not acd.calls())


async def test_a_phone_already_unreachable_at_start_is_known_from_the_device_list(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    async with simulator(settings) as sim:
        sim.set_reachable("PJSIP/1002", False)
        async with running(settings, sim) as server:
            view = server.service.agent("agent2")
            assert view is not None and not view.phone_reachable
            _, agent = await connected(server, sim, "+33140000001")
            assert agent == "agent1"
            # on another phone (a remote login) what was said of the desk phone no longer holds
            moved = server.service.set_endpoint("agent2", "PJSIP/0612345678@trunk", remote=True)
            assert moved.phone_reachable


async def test_callers_cut_by_a_pbx_restart_failed_at_the_shutdown(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, agents=1)
    async with simulator(settings) as sim, running(settings, sim) as server:
        acd = server.service
        talking, agent = await connected(server, sim, "+33140000001")
        waiting = sim.place_call("+33140000002", "500", patience=60.0, talk_time=5.0)
        await until(server, lambda: len(acd.calls()) == 2)
        talking_id, waiting_id = talking.record.uniqueid, waiting.record.uniqueid
        before = acd.resyncs
        shutdown_at = time.time()
        await sim.restart_pbx(down_for=1.5)
        await until(server, lambda: acd.resyncs > before, 15)
        assert acd.calls() == [] and acd.agent(agent).state.value != "on_call"  # type: ignore[union-attr]
        await server.writer.flush()
        cut = await server.store.call(waiting_id)
        answered = await server.store.call(talking_id)
    assert cut is not None and answered is not None
    assert (cut.outcome, cut.end_reason, cut.end_estimated) == ("failed", "cut by the PBX restart", False)
    assert (answered.outcome, answered.end_reason) == ("answered", "cut by the PBX restart")
    for row in (cut, answered):
        assert row.ended_at is not None
        assert abs(row.ended_at.timestamp() - shutdown_at) < 1.0  # not the reconnect, 1.5 s later
    assert (await talking.outcome(5)).outcome.value == "pbx_cut"


async def test_a_waiting_caller_cut_by_the_network_failed(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, agents=1)
    async with simulator(settings) as sim, running(settings, sim) as server:
        server.service.set_status("agent1", AgentStatus.PAUSED, "lunch")
        caller = sim.place_call("+33140000002", "500", patience=60.0, talk_time=5.0)
        await until(server, lambda: len(server.service.calls()) == 1)
        assert sim.hangup_channel(caller.channel.name, cause=38)
        await until(server, lambda: not server.service.calls())
        await server.writer.flush()
        row = await server.store.call(caller.record.uniqueid)
    assert row is not None
    assert (row.outcome, row.end_reason) == ("failed", "cut by the network: Network out of order (cause 38)")


async def test_a_call_that_ended_while_ami_was_down_ends_when_the_pbx_was_last_heard(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, agents=1)
    async with simulator(settings) as sim, running(settings, sim) as server:
        acd = server.service
        caller, _agent = await connected(server, sim, "+33140000001")
        before = acd.resyncs
        outage = asyncio.create_task(sim.interrupt_ami(3.0))
        await until(server, lambda: not server.ami.connected, 5)
        cut_at = time.time()
        caller.hangup()  # the caller leaves while callserver cannot hear it
        await caller.outcome(5)
        hung_up_at = time.time()
        await outage
        await until(server, lambda: acd.resyncs > before, 15)
        reconnected_at = time.time()
        assert acd.calls() == []
        await server.writer.flush()
        row = await server.store.call(caller.record.uniqueid)
    assert row is not None and row.ended_at is not None
    assert (row.outcome, row.end_reason, row.end_estimated) == (
        "answered",
        "ended while the PBX link was down",
        True,
    )
    ended = row.ended_at.timestamp()
    ping = settings.ami.ping_interval
    assert cut_at - ping - 0.5 <= ended <= hung_up_at  # when the PBX was last heard, before the hangup
    assert reconnected_at - ended > 2.0  # the old way recorded the reconnect time


async def test_a_leg_that_ended_unseen_frees_its_agent_soon_after_the_reconnect(tmp_path: Path) -> None:
    """The agent's phone declined while AMI was down, moments after the offer: the listing at the
    reconnect is too soon after the originate to judge the leg, so a second look a little later
    does, long before the ring time-out would have given the agent back."""
    base = settings_for(tmp_path, agents=1)
    data = base.model_dump(mode="json")
    data["queues"][0]["ring_timeout"] = 60.0
    settings = type(base).model_validate(data)
    async with simulator(settings) as sim, running(settings, sim) as server:
        acd = server.service
        sim.set_phone("PJSIP/1001", answers=False)  # it rings until someone acts
        offers: list[CallOffered] = []
        ended: list[OfferEnded] = []
        offer_ended = asyncio.Event()

        def note(fact: Fact) -> None:
            if isinstance(fact, CallOffered):
                offers.append(fact)
            elif isinstance(fact, OfferEnded):
                ended.append(fact)
                offer_ended.set()

        legs: list[str] = []  # channels the PBX made for the agent's phone
        rung = asyncio.Event()

        def ringing(message: list[tuple[str, str]]) -> None:
            fields = dict(message)
            if fields.get("Event") == "Newchannel" and fields.get("Channel", "").startswith("PJSIP/1001-"):
                legs.append(fields["Uniqueid"])
                rung.set()

        server.bus.subscribe(note)
        sim.pbx.listeners.append(ringing)
        caller = sim.place_call("+33140000001", "500", patience=60.0, talk_time=5.0)
        async with asyncio.timeout(5):
            await rung.wait()
        (leg,) = legs
        before = acd.resyncs
        outage = asyncio.create_task(sim.interrupt_ami(0.5))
        await until(server, lambda: not server.ami.connected, 5)
        assert sim.hangup_channel(leg)  # the agent declines while callserver cannot hear it
        await outage
        await until(server, lambda: acd.resyncs > before, 15)
        reconnected = time.monotonic()
        async with asyncio.timeout(RESYNC_SETTLE + 3.0):
            await offer_ended.wait()
        assert [o.leg_id for o in offers] == [leg]
        assert (ended[0].leg_id, ended[0].agent_id) == (leg, "agent1")
        assert time.monotonic() - reconnected < RESYNC_SETTLE + 3.0  # not the 60 s ring time-out
        caller.hangup()
