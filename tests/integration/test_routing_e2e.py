"""Skills routing end to end over TCP: the server and the PBX simulator, a few scripted callers.

Each test places its own calls and checks what callers and agents experienced and what was stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from callserver.acd.model import AgentStatus
from callserver.acd.views import AgentView, CallView
from callserver.app import CallServer, start_server
from callserver.config import Settings
from callserver.ivr.prompt_build import build_all_prompts
from callserver.sim import Outcome, PbxSimulator

from ..helpers import fast_settings

pytestmark = pytest.mark.slow

BILLING_FR_VIP = (
    'billing >= 5 and (call.language != "fr" or french >= 6) and (not customer.vip or billing >= 7)'
)


def _agent(ident: str, skills: dict[str, int], **extra: Any) -> dict[str, Any]:
    agent: dict[str, Any] = {"id": ident, "name": ident.title(), "login": ident, "skills": skills}
    agent["start_available"] = True
    agent.update(extra)
    return agent


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[PbxSimulator, CallServer]]:
    # as after `callserver prompts build`: the remote agents' accept prompt is in the sounds folder
    assert (await build_all_prompts(settings)).ok
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)
    try:
        async with asyncio.timeout(10):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        yield sim, server
    finally:
        await server.stop()
        await sim.stop()


async def test_french_speaking_vip_caller_reaches_a_french_agent(tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "name,phones,account,language,vip,notes\nMarc Lambert,+33140000002,ACC1002,fr,yes,Premium\n",
        encoding="utf-8",
    )
    settings = fast_settings(
        tmp_path,
        skills=["french", "english", "billing"],
        # the English agent becomes free first, so longest-idle alone would pick her
        agents=[
            _agent("eve", {"english": 9, "billing": 9}, interface="PJSIP/1001"),
            _agent("noel", {"french": 4, "billing": 9}, interface="PJSIP/1002"),
            _agent("rene", {"french": 8, "billing": 8}, interface="PJSIP/1003"),
        ],
        queues=[
            {
                "name": "billing",
                "dnis": ["500", "0140000500"],
                "dnis_data": {"0140000500": {"language": "fr"}},
                "steps": [{"after": 0, "require": BILLING_FR_VIP}],
                "max_wait": 10,
                "ring_timeout": 2,
            }
        ],
        customers={"seed_file": str(customers)},
    )
    async with running(settings) as (sim, server):
        for interface in ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003"):
            sim.set_phone(interface, answer_delay=0.05, answers=True)
        vip = await sim.place_call("+33140000002", "0140000500", patience=20, talk_time=0.5).outcome(15)
        assert vip.outcome is Outcome.COMPLETED
        assert vip.agent_channel is not None and vip.agent_channel.startswith("PJSIP/1003-")
        # an English caller with no customer record may go to anyone with billing >= 5: longest idle
        english = await sim.place_call("+447700900999", "500", patience=20, talk_time=0.5).outcome(15)
        assert english.agent_channel is not None and english.agent_channel.startswith("PJSIP/1001-")
        await server.writer.flush()
        row = await server.store.call(vip.uniqueid)
        assert row is not None and row.agent_id == "rene" and row.outcome == "answered"
        assert row.customer_id is not None


def _remote_settings(tmp_path: Path) -> Settings:
    return fast_settings(
        tmp_path,
        skills=["support"],
        agents=[
            # the remote agent is free first, so every call is offered to her first
            _agent("homer", {"support": 5}, number="+33612345678"),
            _agent("olga", {"support": 5}, interface="PJSIP/1002"),
        ],
        acd={"no_answer_resume": 30, "accept_timeout": 1.0},
    )


async def test_remote_agent_accepts_with_1_before_the_caller_is_bridged(tmp_path: Path) -> None:
    settings = _remote_settings(tmp_path)
    async with running(settings) as (sim, server):
        sim.set_phone("PJSIP/+33612345678@trunk", answer_delay=0.1, answers=True, keys="1")
        record = await sim.place_call("+33140000001", "500", patience=20, talk_time=0.5).outcome(15)
        assert record.outcome is Outcome.COMPLETED
        assert record.agent_channel is not None and record.agent_channel.startswith("PJSIP/trunk-")
        await server.writer.flush()
        row = await server.store.call(record.uniqueid)
        assert row is not None and row.agent_id == "homer"


async def test_remote_agent_silence_counts_as_no_answer_and_the_call_goes_on(tmp_path: Path) -> None:
    settings = _remote_settings(tmp_path)
    async with running(settings) as (sim, server):
        # whoever picks up at home presses nothing (a voicemail, a child)
        sim.set_phone("PJSIP/+33612345678@trunk", answer_delay=0.1, answers=True, keys="")
        sim.set_phone("PJSIP/1002", answer_delay=0.1, answers=True)
        record = await sim.place_call("+33140000001", "500", patience=20, talk_time=0.5).outcome(20)
        assert record.outcome is Outcome.COMPLETED
        assert record.agent_channel is not None and record.agent_channel.startswith("PJSIP/1002-")
        homer = server.service.agent("homer")
        assert homer is not None
        assert (homer.status, homer.reason) == (AgentStatus.PAUSED, "no answer")
        await server.writer.flush()
        offers = await server.store.offers(record.uniqueid)
        assert [(o.agent_id, o.result) for o in offers] == [("homer", "no_answer"), ("olga", "answered")]


async def test_callback_keeps_the_callers_place(tmp_path: Path) -> None:
    settings = fast_settings(
        tmp_path,
        agents=[_agent("solo", {"support": 5}, interface="PJSIP/1001")],
        queues=[
            {
                "name": "support",
                "dnis": ["500"],
                "skills": ["support"],
                "max_wait": 30,
                "ring_timeout": 2,
                "callback_key": "*",
            }
        ],
    )
    async with running(settings) as (sim, server):
        sim.set_phone("PJSIP/1001", answer_delay=0.05, answers=True)
        acd = server.service
        # the only agent is busy on a first call while two more callers queue
        busy = sim.place_call("+33140000009", "500", patience=30, talk_time=2.0)
        async with asyncio.timeout(10):
            await acd.wait_for(lambda: _state(acd.agent("solo")) == "on_call")
        first = sim.place_call("+33140000001", "500", patience=30, talk_time=0.5)
        async with asyncio.timeout(10):
            await acd.wait_for(lambda: len(acd.calls()) == 2)
        second = sim.place_call("+33140000002", "500", patience=30, talk_time=0.5)
        async with asyncio.timeout(10):
            await acd.wait_for(lambda: len(acd.calls()) == 3)
        first.press("*")
        first_record = await first.outcome(10)
        assert first_record.outcome is Outcome.PBX_HANGUP  # told they will be called back, hung up
        call = acd.call(first_record.uniqueid)
        assert call is not None
        assert call.kind.value == "callback"
        await busy.outcome(15)
        # the callback is served before the caller who arrived later: the agent dials the customer
        async with asyncio.timeout(15):
            await acd.wait_for(lambda: _state(acd.call(first_record.uniqueid)) == "connected")
        assert _state(acd.call(second.record.uniqueid)) == "waiting"
        call = acd.call(first_record.uniqueid)
        assert call is not None
        assert call.leg_id is not None and sim.hangup_channel(call.leg_id)  # the agent ends the callback
        second_record = await second.outcome(20)
        assert second_record.outcome is Outcome.COMPLETED
        await server.writer.flush()
        cb_row = await server.store.call(first_record.uniqueid)
        second_row = await server.store.call(second_record.uniqueid)
        assert cb_row is not None and cb_row.outcome == "answered" and cb_row.agent_id == "solo"
        assert second_row is not None and second_row.answered_at is not None
        assert cb_row.answered_at is not None and cb_row.answered_at < second_row.answered_at


def _state(view: AgentView | CallView | None) -> str | None:
    """The state of an agent or call as the ACD shows it now (None when gone)."""
    return view.state.value if view is not None else None
