"""Screen-pops over the whole path: what the IVR learnt reaches the agent's pop, and a voicemail
task's pop does not list the call that left the message as the customer's history."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callserver.acd.model import CallState
from callserver.sim import Outcome
from callserver.voicemail import VoicemailStatus
from callserver.web.app import PARTS

from .rig import ACCOUNT, BILLING_DNIS, CALLER, CLOSED, CUSTOMER, ivr_settings, running

pytestmark = pytest.mark.slow

KNOWN = "+33611111111"  # Alice Martin's number in the rig's customers file


async def test_the_pop_shows_language_menu_choice_account_typed_and_self_service(tmp_path: Path) -> None:
    async with running(ivr_settings(tmp_path)) as rig:
        assert rig.server is not None
        handle = rig.sim.place_call(CALLER, BILLING_DNIS, digits=f"2{ACCOUNT}#", patience=10, talk_time=5)
        async with asyncio.timeout(20):
            await rig.service.wait_for(
                lambda: any(c.state is CallState.CONNECTED for c in rig.service.calls())
            )
        entry = await rig.server.web_runner.app[PARTS].hub.pops.for_call(handle.record.uniqueid)
        handle.hangup()
    assert entry is not None
    pop = entry.data
    assert pop["language"] == "en"
    ivr = pop["ivr"]
    assert ivr["flow"] == "main" and ivr["outcome"] == "queue"
    assert ivr["choices"] == [{"menu": "menu", "key": "2", "to": "account"}]
    assert ivr["entered"] == {"account": ACCOUNT}
    assert ivr["self_service"] == [
        {"node": "find", "kind": "lookup", "result": "found"},
        {"node": "balance", "kind": "said", "result": "heard"},
    ]
    assert ivr["customer_found"] is True
    assert [c["name"] for c in pop["customers"]] == [] or pop["customers"][0]["name"] == CUSTOMER


async def test_a_voicemail_task_pop_names_agents_and_leaves_out_the_call_that_left_the_message(
    tmp_path: Path,
) -> None:
    async with running(ivr_settings(tmp_path)) as rig:
        assert rig.server is not None
        earlier = rig.sim.place_call(KNOWN, BILLING_DNIS, digits="1", patience=10, talk_time=0.3)
        assert (await earlier.outcome(timeout=20)).outcome is Outcome.COMPLETED
        async with asyncio.timeout(10):
            await rig.service.wait_for(lambda: not rig.service.calls())
        rig.ivr_now[0] = CLOSED
        handle = rig.sim.place_call(KNOWN, BILLING_DNIS, digits="1#", patience=10)
        record = await handle.outcome(timeout=20)
        (vm,) = await rig.voicemail.store.by_call(record.uniqueid)
        async with asyncio.timeout(10):
            await rig.voicemail.wait_for_status(vm.id, VoicemailStatus.ASSIGNED)
        await rig.writer.flush()
        entry = await rig.server.web_runner.app[PARTS].hub.pops.for_call(vm.task_id)
    assert entry is not None
    (customer,) = entry.data["customers"]
    assert customer["name"] == CUSTOMER
    history = [(h["call_id"], h["agent_name"]) for h in customer["history"]]
    assert record.uniqueid not in [call_id for call_id, _ in history]
    (agent,) = [name for call_id, name in history if call_id == earlier.record.uniqueid]
    assert agent in {"Agent 1", "Agent 2"}
    assert entry.data["ivr"]["choices"] == [{"menu": "closed_menu", "key": "1", "to": "message"}]
