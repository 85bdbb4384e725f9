"""The `voicemail` AGI script behind [callserver-voicemail]: the caller hears the intro, records after
the beep, and the message lands in the mailbox named by CS_VOICEMAIL, then reaches an agent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callserver.voicemail import VoicemailStatus

from ..ivr_e2e.rig import CALLER, ivr_settings, running

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent


async def test_caller_sent_to_a_queue_mailbox_leaves_a_message_an_agent_gets(tmp_path: Path) -> None:
    settings = ivr_settings(
        tmp_path, extra_dialplan=[HERE / "extensions_test.conf"], entry_context="test-to-voicemail"
    )
    async with running(settings) as rig:
        handle = rig.sim.place_call(CALLER, "700", digits="#", patience=10)
        record = await handle.outcome(timeout=20)
        async with asyncio.timeout(10):
            await rig.until(lambda: bool(rig.waiting))
        (vm,) = await rig.voicemail.store.by_call(record.uniqueid)
        assert str(vm.box) == "queue:billing"
        assert vm.path == f"{rig.recordings_dir}/{record.uniqueid}-record.wav"
        assert any(c.startswith("STREAM FILE vm-intro ") for c in rig.agi_commands)
        async with asyncio.timeout(10):
            assigned = await rig.voicemail.wait_for_status(vm.id, VoicemailStatus.ASSIGNED)
        assert assigned.agent_id is not None
