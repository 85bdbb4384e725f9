"""What a stock Asterisk 22 refuses, shown over TCP with the simulator, and how the project copes:
a prompt that is no core sound plays only once `callserver prompts build` made it, and a voicemail
that cannot be recorded creates nothing (the caller hears an apology and goes on)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callserver.acd.model import AgentStatus
from callserver.app import start_server
from callserver.config import Settings
from callserver.ivr.prompt_build import build_all_prompts
from callserver.sim import Outcome, PbxSimulator

from ..helpers import fast_settings
from ..ivr_e2e.rig import CALLER, CLOSED, ivr_settings, running

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
TEST_DIALPLAN = HERE.parent / "voicemail" / "extensions_test.conf"


async def test_remote_agent_cannot_accept_while_the_accept_prompt_is_not_built(tmp_path: Path) -> None:
    settings = fast_settings(
        tmp_path,
        agents=[
            {"id": "homer", "name": "Homer", "login": "homer", "number": "+33612345678",
             "skills": {"support": 5}, "start_available": True},
        ],
        acd={"no_answer_resume": 30, "accept_timeout": 1.0},
    )  # fmt: skip
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)  # no `callserver prompts build` was run
    try:
        async with asyncio.timeout(10):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        sim.set_phone("PJSIP/+33612345678@trunk", answer_delay=0.1, answers=True, keys="1")
        handle = sim.place_call("+33140000001", "500", patience=3, talk_time=0.5)
        record = await handle.outcome(timeout=15)
        assert record.outcome is Outcome.ABANDONED and record.agent_channel is None
        assert any("File callserver/en/press-1 does not exist" in w for w in sim.warnings), sim.warnings
        homer = server.service.agent("homer")
        assert homer.status is AgentStatus.PAUSED  # as on the real PBX: the leg "left", the agent paused
    finally:
        await server.stop()
        await sim.stop()


async def test_server_creates_the_recordings_folder_at_start(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    folder = settings.data_dir / "recordings"
    assert not folder.exists()
    server = await start_server(settings)
    try:
        assert folder.is_dir()
    finally:
        await server.stop()


def _unrecordable(
    tmp_path: Path, extra_dialplan: list[Path] | None = None, entry_context: str | None = None
) -> Settings:
    """IVR settings whose recordings folder cannot exist: its parent is a plain file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    settings = ivr_settings(tmp_path, extra_dialplan=extra_dialplan, entry_context=entry_context)
    voicemail = settings.voicemail.model_copy(update={"recordings_dir": blocker / "recordings"})
    return settings.model_copy(update={"voicemail": voicemail})


async def test_ivr_caller_whose_message_cannot_be_recorded_hears_apology_and_reaches_the_queue(
    tmp_path: Path,
) -> None:
    settings = _unrecordable(tmp_path)
    assert (await build_all_prompts(settings)).ok
    async with running(settings) as rig:
        rig.ivr_now[0] = CLOSED
        handle = rig.sim.place_call(CALLER, "600", digits="1#", patience=10, talk_time=0.3)
        record = await handle.outcome(timeout=20)
        assert record.outcome is Outcome.COMPLETED, record  # an agent of the mailbox's queue took it
        assert any(w.endswith("(writefile)") or "unable to open" in w for w in rig.sim.warnings)
        assert any(c.startswith("STREAM FILE callserver/en/voicemail-failed ") for c in rig.agi_commands)
        assert await rig.voicemail.store.by_call(record.uniqueid) == []
        assert rig.server is not None and rig.server.recording_failures is not None
        assert rig.server.recording_failures.by_box == {"queue:billing": 1}
        async with asyncio.timeout(10):
            await rig.service.wait_for(lambda: not rig.service.calls())
        await rig.writer.flush()
        row = await rig.store.call(record.uniqueid)
    assert row is not None and row.queue == "billing" and row.outcome == "answered"


async def test_caller_sent_to_a_mailbox_that_cannot_record_gets_no_message_and_hears_goodbye(
    tmp_path: Path,
) -> None:
    settings = _unrecordable(tmp_path, extra_dialplan=[TEST_DIALPLAN], entry_context="test-to-voicemail")
    assert (await build_all_prompts(settings)).ok
    async with running(settings) as rig:
        handle = rig.sim.place_call(CALLER, "700", digits="#", patience=10)
        record = await handle.outcome(timeout=20)
        assert record.outcome is Outcome.PBX_HANGUP
        played = [c.split()[2] for c in rig.agi_commands if c.startswith("STREAM FILE ")]
        assert played == ["vm-intro", "callserver/en/voicemail-failed", "vm-goodbye"]
        assert await rig.voicemail.store.by_call(record.uniqueid) == []
        assert rig.server is not None and rig.server.recording_failures is not None
        assert rig.server.recording_failures.total == 1
    assert rig.waiting == []  # no message waiting was ever announced
