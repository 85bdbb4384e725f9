"""The translator against every message a real Asterisk 22 sent in the recorded transcripts."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import pytest

from callserver.ami.translator import SUBSCRIPTIONS, AmiTranslator
from callserver.pbx.events import (
    BridgeEntered,
    ChannelCreated,
    ChannelHungUp,
    ChannelSnapshot,
    DialEnded,
    DtmfReceived,
    OriginateResult,
    PbxEvent,
)
from tests.ami.traces import ami_logs, messages, traces_dir

TRACES = traces_dir()
pytestmark = pytest.mark.skipif(
    TRACES is None,
    reason="AMI TRANSCRIPTS NOT FOUND: set CALLSERVER_TRACES or check out ../shared/ami-traces",
)


def _translate(name: str) -> list[PbxEvent]:
    assert TRACES is not None
    translator = AmiTranslator()
    out = []
    for frame in messages(TRACES / name):
        event = translator.translate(frame.headers) if frame.kind == "event" else None
        if event is not None:
            out.append(event)
    return out


def _all_logs() -> list[Path]:
    return ami_logs(TRACES) if TRACES else []


@pytest.mark.parametrize("path", _all_logs(), ids=lambda p: p.name)
def test_every_recorded_message_translates_without_complaint(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    translator = AmiTranslator()
    frames = messages(path)
    assert frames, f"no messages parsed from {path.name}"
    with caplog.at_level(logging.WARNING, logger="callserver.ami"):
        events = [translator.translate(f.headers) for f in frames if f.kind == "event"]
    assert all(not f.bad_lines for f in frames)
    assert caplog.records == []
    subscribed = sum(1 for f in frames if f.headers.get("Event") in SUBSCRIPTIONS)
    assert sum(e is not None for e in events) == subscribed


def test_s9_agent_leg_answers_and_joins_the_caller() -> None:
    events = _translate("s9_acd_answered.ami.log")
    caller = "1795431085.0"
    created = [e for e in events if isinstance(e, ChannelCreated) and e.uniqueid == caller]
    assert created == [
        ChannelCreated(
            uniqueid=caller,
            linkedid=caller,
            channel="PJSIP/trunk-00000000",
            state="Ring",
            caller_num="+15550001",
            caller_name="Caller 1",
            context="from-trunk",
            exten="500",
        )
    ]
    originate = [e for e in events if isinstance(e, OriginateResult)]
    assert originate[0] == OriginateResult(
        action_id="s9-2",
        uniqueid="acd-s9a-agent1",
        channel="PJSIP/agent1-00000001",
        success=True,
        reason=4,
    )
    entered = [e for e in events if isinstance(e, BridgeEntered)]
    first_bridge = entered[0].bridge_id
    assert {e.uniqueid for e in entered if e.bridge_id == first_bridge} == {
        caller,
        "acd-s9a-agent1",
    }
    # the agent leg takes the caller's Linkedid when it enters the bridge
    assert all(e.linkedid == caller for e in entered if e.bridge_id == first_bridge)
    hungup = {e.uniqueid: e for e in events if isinstance(e, ChannelHungUp)}
    assert hungup[caller].channel == "PJSIP/trunk-00000000"
    assert hungup["acd-s9a-agent1"].cause == 16


def test_s10_unanswered_agent_leg_reports_failure_reasons() -> None:
    events = _translate("s10_acd_noanswer.ami.log")
    results = {e.uniqueid: e for e in events if isinstance(e, OriginateResult)}
    assert results["acd-s10-agent2"].success is False
    assert results["acd-s10-agent2"].reason == 3
    assert results["acd-s10-agent2"].channel == "PJSIP/agent2"  # the dial string, not a channel
    assert results["acd-s10-agent2-486"].reason == 0
    assert (results["acd-s10-local-busy"].reason, results["acd-s10-local-cong"].reason) == (5, 8)
    assert results["acd-s10-agent3"].success and results["acd-s10-agent3"].reason == 4
    busy = [e for e in events if isinstance(e, DialEnded) and e.dest_uniqueid.endswith("486")]
    assert busy[0].status == "BUSY"
    assert busy[0].uniqueid == ""  # an originated leg has no dialling channel


def test_s11_agent_leg_hung_up_by_its_channel_id() -> None:
    assert TRACES is not None
    sent = [f.headers for f in messages(TRACES / "s11_acd_caller_abandon.ami.log", tag="SENT")]
    assert {"Action": "Hangup", "Channel": "acd-s11a-agent1"}.items() <= next(
        h for h in sent if h.get("Action") == "Hangup"
    ).items()
    events = _translate("s11_acd_caller_abandon.ami.log")
    hangups = [e for e in events if isinstance(e, ChannelHungUp) and e.uniqueid == "acd-s11a-agent1"]
    assert len(hangups) == 1
    assert hangups[0].channel.startswith("PJSIP/agent1-")


def test_s1_empty_core_show_channels_and_s2_snapshots() -> None:
    assert TRACES is not None
    s1 = messages(TRACES / "s1_status_actions.ami.log")
    complete = [f.headers for f in s1 if f.headers.get("Event") == "CoreShowChannelsComplete"]
    assert complete[0]["ListItems"] == "0"
    snaps = [e for e in _translate("s2_queue_answered.ami.log") if isinstance(e, ChannelSnapshot)]
    caller = next(s for s in snaps if s.channel == "PJSIP/trunk-00000000")
    assert (caller.application, caller.duration, caller.priority) == ("Queue", 3, 4)
    assert caller.bridge_id == "91847c9c-6e4d-49f4-89c7-891a007cbbf0"
    command = next(f.headers for f in s1 if f.headers.get("Message") == "Command output follows")
    assert command["Output"].startswith("Asterisk 22.10.1")


def test_s12_dtmf_digits_are_read() -> None:
    digits = [e for e in _translate("s12_ami_bridge_transfer.ami.log") if isinstance(e, DtmfReceived)]
    assert digits[0].digit == "*"
    assert {d.direction for d in digits} <= {"Received", "Sent"}


def test_s8_load_counts_match_the_recorded_counts() -> None:
    assert TRACES is not None
    expected = json.loads((TRACES / "s8_load.counts.json").read_text())["event_counts"]
    counts = Counter(type(e).__name__ for e in _translate("s8_load.ami.log.gz"))
    assert counts["ChannelCreated"] == expected["Newchannel"]
    assert counts["ChannelStateChanged"] == expected["Newstate"]
    assert counts["ChannelHungUp"] == expected["Hangup"]
    assert counts["BridgeEntered"] == expected["BridgeEnter"]
    assert counts["BridgeLeft"] == expected["BridgeLeave"]
    assert counts["HoldMusicStarted"] == expected["MusicOnHoldStart"]
    assert counts["DialEnded"] == expected["DialEnd"]
