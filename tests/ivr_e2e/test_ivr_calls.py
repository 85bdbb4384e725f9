"""End to end over TCP: callers walk an IVR flow on the simulated Asterisk and reach a queue, a
mailbox or the end of the call; what they heard and what the server stored must agree.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from callserver.facts.model import CallRejected
from callserver.ivr.prompt_build import build_all_prompts
from callserver.sim import Outcome
from callserver.voicemail import VoicemailStatus

from .rig import ACCOUNT, BILLING_DNIS, CALLER, CLOSED, CUSTOMER, ivr_settings, running

pytestmark = pytest.mark.slow


async def test_caller_hears_balance_and_reaches_billing_linked_to_customer(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path)
    async with running(settings) as rig:
        handle = rig.sim.place_call(CALLER, BILLING_DNIS, digits=f"2{ACCOUNT}#", patience=10, talk_time=0.3)
        record = await handle.outcome(timeout=30)
        assert record.outcome is Outcome.COMPLETED, record
        # the balance prompt is the synthesised text with the amount, played by its Asterisk name
        said = await rig.synth.render(f"Hello {CUSTOMER}. Your balance is 42 euros 10.", language="en")
        assert said.path.is_file()
        name = rig.synth.asterisk_name(said.path)
        assert any(c.startswith(f"STREAM FILE {name} ") for c in rig.agi_commands), rig.agi_commands
        async with asyncio.timeout(10):
            await rig.service.wait_for(lambda: not rig.service.calls())
        await rig.writer.flush()
        row = await rig.store.call(record.uniqueid)
        customer = await rig.store.find_customer_by_account(ACCOUNT)
    assert row is not None and customer is not None
    assert row.queue == "billing" and row.outcome == "answered"
    assert row.customer_id == customer.id
    nodes = [p.node for p in rig.progress if p.call_id == record.uniqueid and not p.ended]
    assert nodes == ["office", "menu", "account", "find", "balance", "product", "billing_q"]
    assert rig.presence.where == {}


async def test_caller_hanging_up_in_menu_is_recorded_where_they_left(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path)
    async with running(settings) as rig:
        handle = rig.sim.place_call(CALLER, BILLING_DNIS, patience=10)
        async with asyncio.timeout(10):
            await rig.until(lambda: rig.presence.where.get(handle.record.uniqueid) == "menu")
        handle.hangup()
        await handle.outcome(timeout=10)
        async with asyncio.timeout(10):
            await rig.until(lambda: any(isinstance(f, CallRejected) for f in rig.facts))
        await rig.writer.flush()
        row = await rig.store.call(handle.record.uniqueid)
        events = await rig.store.call_events(handle.record.uniqueid)
    assert row is not None and row.outcome == "failed"
    assert any(e.payload.get("reason") == "hung up in IVR at menu" for e in events), events


async def test_after_hours_caller_leaves_voicemail_that_an_agent_is_given(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path)
    async with running(settings) as rig:
        rig.ivr_now[0] = CLOSED
        handle = rig.sim.place_call(CALLER, BILLING_DNIS, digits="1#", patience=10)
        record = await handle.outcome(timeout=20)
        assert record.outcome is Outcome.PBX_HANGUP, record
        async with asyncio.timeout(10):
            await rig.until(lambda: bool(rig.waiting))
        (vm,) = await rig.voicemail.store.by_call(record.uniqueid)
        assert str(vm.box) == "queue:billing" and vm.caller_num == CALLER
        assert vm.path == f"{rig.recordings_dir}/{record.uniqueid}-message.wav"
        assert any(c.startswith("RECORD FILE ") and " BEEP s=3" in c for c in rig.agi_commands)
        async with asyncio.timeout(10):
            assigned = await rig.voicemail.wait_for_status(vm.id, VoicemailStatus.ASSIGNED)
        assert assigned.agent_id in {"agent1", "agent2"}
        # the mailbox's new count is published once the assignment is stored, right after it
        async with asyncio.timeout(10):
            await rig.until(lambda: [w.new for w in rig.waiting if w.box == "queue:billing"][-1:] == [0])
        assert next(w.new for w in rig.waiting if w.box == "queue:billing") == 1  # announced first


async def test_build_all_prompts_synthesises_every_fixed_text(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path)
    report = await build_all_prompts(settings)
    assert report.ok, report.failed
    texts = {p.text for p in report.built}
    assert "For support, press 1. For billing, press 2." in texts
    assert not any("{" in t for t in texts)  # call-dependent texts wait for their caller
    again = await build_all_prompts(settings)
    assert again.cached == len(again.built) == len(report.built)


async def test_caller_hanging_up_while_typing_digits_is_one_info_line_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ivr_settings(tmp_path)
    caplog.set_level(logging.DEBUG)
    async with running(settings) as rig:
        handle = rig.sim.place_call(CALLER, BILLING_DNIS, digits="2", patience=10)
        # the menu prompt took the 2 (barge-in); the account node's GET DATA now waits for more keys
        async with asyncio.timeout(10):
            await rig.until(lambda: any(c.startswith("GET DATA") for c in rig.agi_commands))
        handle.hangup()
        await handle.outcome(timeout=10)
        async with asyncio.timeout(10):
            await rig.until(lambda: any(isinstance(f, CallRejected) for f in rig.facts))
    uniqueid = handle.record.uniqueid
    mine = [
        r
        for r in caplog.records
        if r.name.startswith("callserver") and not r.name.startswith("callserver.sim")
    ]
    assert [r.getMessage() for r in mine if r.levelno >= logging.ERROR] == []
    about = [r.getMessage() for r in mine if r.levelno == logging.INFO and uniqueid in r.getMessage()]
    assert [m for m in about if "IVR" in m] == [
        f"call {uniqueid} from {CALLER} to {BILLING_DNIS} rejected: hung up in IVR at account"
    ]
