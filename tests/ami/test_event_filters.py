"""Events nothing reads are left out at the PBX: the link asks for it at every login, the
simulator applies it as Asterisk does, and a PBX that refuses keeps the link working."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from callserver.ami.adapter import AmiLink
from callserver.ami.filters import UNUSED_EVENTS, filter_actions
from callserver.ami.translator import SUBSCRIPTIONS, AmiTranslator
from callserver.config import AmiConfig
from callserver.pbx.dialplan import Context
from callserver.pbx.events import (
    BridgeEntered,
    ChannelHungUp,
    HoldMusicStarted,
    OriginateResult,
    PbxConnected,
)
from callserver.sim import PbxSimulator
from tests.ami.fake_ami import FakeAmi
from tests.ami.test_link import Recorder
from tests.ami.traces import ami_logs, messages, traces_dir
from tests.sim.conftest import make_settings
from tests.sim.helpers import FakeAgiServer, hold_script

TRACES = traces_dir()


def test_no_event_is_both_read_and_filtered_out() -> None:
    assert not set(UNUSED_EVENTS) & set(SUBSCRIPTIONS)
    with pytest.raises(ValueError, match="DialEnd"):
        filter_actions(("DialBegin", "DialEnd"))


@pytest.mark.skipif(TRACES is None, reason="the Asterisk 22 transcripts (../shared/ami-traces) are absent")
def test_every_filtered_event_is_one_asterisk_sends_and_the_translator_drops() -> None:
    assert TRACES is not None
    seen: set[str] = set()
    translator = AmiTranslator()
    for path in ami_logs(TRACES):
        for frame in messages(path):
            name = frame.headers.get("Event", "")
            if name in UNUSED_EVENTS:
                seen.add(name)
                assert translator.translate(frame.headers) is None
    assert seen == set(UNUSED_EVENTS)


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    agi = FakeAgiServer(hold_script)
    await agi.start()
    simulator = PbxSimulator(make_settings(agi.port), ami_host="127.0.0.1", ami_port=0, time_scale=0.01)
    await simulator.start()
    yield simulator
    await simulator.stop()
    await agi.stop()


async def test_the_link_leaves_out_unused_events_before_it_is_up(sim: PbxSimulator) -> None:
    recorder = Recorder()
    link = AmiLink(AmiConfig(port=sim.ami_port, secret=sim.settings.ami.secret), recorder)
    await link.start()
    try:
        await recorder.next(PbxConnected)
        assert sim.ami is not None
        (session,) = sim.ami.sessions
        assert {f.name for f in session.filters.exclude} == set(UNUSED_EVENTS)
        assert not session.filters.include
        # what callserver reads still comes: an agent leg rung, answered and bridged with the caller
        sim.set_phone("PJSIP/1001", answer_delay=0.05)
        call = sim.place_call("+15550001", "5001", patience=30, talk_time=0.2)
        await recorder.next(HoldMusicStarted)
        await link.originate(
            channel="PJSIP/1001",
            context=Context.AGENT_BRIDGE,
            exten="s",
            channel_id="agent-leg-1",
            timeout=5.0,
            caller_id='"C" <+15550001>',
            variables={"CS_CALLER": call.channel.name},
        )
        result = await recorder.next(OriginateResult)
        assert isinstance(result, OriginateResult) and result.success
        await recorder.next(BridgeEntered)
        await recorder.next(ChannelHungUp)
    finally:
        await link.stop()


async def test_a_pbx_refusing_filters_still_serves_and_it_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeAmi()
    fake.errors["Filter"] = "Permission denied"
    await fake.start()
    recorder = Recorder()
    link = AmiLink(
        AmiConfig(port=fake.port, action_timeout=0.5, reconnect_min=0.05, reconnect_max=0.1), recorder
    )
    caplog.set_level(logging.WARNING, "callserver.ami.adapter")
    await link.start()
    try:
        await recorder.next(PbxConnected)
        assert link.connected
        fake.drop()
        await recorder.next(PbxConnected)  # logged in again, filters refused again
        await link.command("core show version")
    finally:
        await link.stop()
        await fake.close()
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and "Permission denied" in refusals[0].getMessage()
