"""Translator behaviour on unusual or broken messages (no transcripts needed)."""

from __future__ import annotations

import logging

import pytest

from callserver.ami.translator import AmiTranslator
from callserver.pbx.events import ChannelHungUp, OriginateResult

HANGUP = {
    "Event": "Hangup",
    "Channel": "PJSIP/trunk-00000000",
    "Uniqueid": "1795431085.0",
    "Linkedid": "1795431085.0",
    "Cause": "16",
    "Cause-txt": "Normal Clearing",
}


def test_originate_response_is_read_as_an_event_despite_its_response_header() -> None:
    message = {
        "Event": "OriginateResponse",
        "Response": "Failure",
        "ActionID": "a1",
        "Channel": "PJSIP/agent2",
        "Reason": "0",
        "Uniqueid": "<unknown>",
    }
    assert AmiTranslator().translate(message) == OriginateResult(
        action_id="a1", uniqueid="", channel="PJSIP/agent2", success=False, reason=0
    )


def test_unsubscribed_events_are_ignored_silently(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        assert AmiTranslator().translate({"Event": "VarSet", "Variable": "X"}) is None
    assert caplog.records == []


def test_malformed_message_is_skipped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    translator = AmiTranslator()
    bad = {**HANGUP, "Cause": "sixteen"}
    with caplog.at_level(logging.WARNING):
        assert translator.translate(bad) is None
        assert translator.translate(bad) is None
        assert translator.translate({**HANGUP, "Channel": ""}) is None
        assert translator.translate({"Response": "Success"}) is None
    texts = [r.getMessage() for r in caplog.records]
    assert len(texts) == 3
    assert "non-numeric Cause 'sixteen'" in texts[0] and "1795431085.0" in texts[0]
    assert "missing Channel" in texts[1]
    assert "without Event" in texts[2]
    assert translator.translate(HANGUP) == ChannelHungUp(
        uniqueid="1795431085.0",
        linkedid="1795431085.0",
        channel="PJSIP/trunk-00000000",
        cause=16,
        cause_text="Normal Clearing",
    )
