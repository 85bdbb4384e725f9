"""The PBX's own life as the translator reads it: device states and the login's FullyBooted from
the real Asterisk 22 transcripts; ContactStatus and Shutdown (no transcript has them) in the shape
res_pjsip and main/asterisk.c write them (Asterisk 22 documentation: both are class system)."""

from __future__ import annotations

import logging

import pytest

from callserver.ami.translator import AmiTranslator
from callserver.pbx.events import ContactStatusChanged, DeviceStateChanged, PbxBooted, PbxShutdown
from tests.ami.traces import messages, traces_dir

TRACES = traces_dir()


@pytest.mark.skipif(TRACES is None, reason="AMI TRANSCRIPTS NOT FOUND: check out ../shared/ami-traces")
def test_device_states_and_the_login_uptime_from_the_transcripts() -> None:
    assert TRACES is not None
    translator = AmiTranslator()
    s2 = [translator.translate(f.headers) for f in messages(TRACES / "s2_queue_answered.ami.log")]
    states = [e for e in s2 if isinstance(e, DeviceStateChanged)]
    assert DeviceStateChanged(device="PJSIP/agent3", state="RINGING") in states
    assert DeviceStateChanged(device="PJSIP/trunk", state="INUSE") in states
    s1 = [translator.translate(f.headers) for f in messages(TRACES / "s1_status_actions.ami.log")]
    assert [e for e in s1 if isinstance(e, PbxBooted)] == [PbxBooted(uptime=2.0)]


def test_contact_status_as_res_pjsip_sends_it() -> None:
    message = {
        "Event": "ContactStatus",
        "Privilege": "system,all",
        "URI": "sip:1001@192.0.2.10:5060",
        "ContactStatus": "Unreachable",
        "AOR": "1001",
        "EndpointName": "1001",
        "RoundtripUsec": "0",
    }
    assert AmiTranslator().translate(message) == ContactStatusChanged(
        endpoint="1001", aor="1001", uri="sip:1001@192.0.2.10:5060", status="Unreachable"
    )


def test_shutdown_as_asterisk_sends_it_before_stopping() -> None:
    translator = AmiTranslator()
    restart = {"Event": "Shutdown", "Privilege": "system,all", "Shutdown": "Uncleanly", "Restart": "True"}
    stop = {"Event": "Shutdown", "Privilege": "system,all", "Shutdown": "Cleanly", "Restart": "False"}
    assert translator.translate(restart) == PbxShutdown(restart=True, clean=False)
    assert translator.translate(stop) == PbxShutdown(restart=False, clean=True)


def test_an_unreadable_shutdown_is_skipped_and_said_once(caplog: pytest.LogCaptureFixture) -> None:
    translator = AmiTranslator()
    with caplog.at_level(logging.WARNING):
        bad = {"Event": "Shutdown", "Shutdown": "Uncleanly", "Restart": "Maybe"}
        assert translator.translate(bad) is None
        assert translator.translate(bad) is None
    assert len(caplog.records) == 1
    assert "Restart is 'Maybe', not True or False" in caplog.records[0].getMessage()
