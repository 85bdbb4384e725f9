"""Dialplan parsing, pattern matching and the executor's refusal to skip unknown applications."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from callserver.sim import PbxSimulator
from callserver.sim import dialplan as dp
from callserver.sim.traffic import Outcome
from tests.sim.conftest import DIALPLAN, make_settings

SAMPLE = """
[globals]
GREETING=hello ; a comment

[from-trunk]
include => shared
exten => _X.,1,NoOp(${EXTEN} from ${CALLERID(num)})
 same => n(again),Set(X=${GREETING})
 same => n,Goto(done,s,1)
exten => 100,1,NoOp(literal wins)

[shared]
exten => _NXX,1,NoOp(shared)
"""


def test_parser_reads_contexts_priorities_labels_globals_and_includes() -> None:
    plan = dp.parse(SAMPLE, "sample.conf")
    assert plan.globals == {"GREETING": "hello"}
    _ext, step = plan.find("from-trunk", "5001", 2) or (None, None)
    assert step is not None and step.app == "Set" and step.label == "again"
    assert plan.label_priority("from-trunk", "5001", "again") == 2
    assert plan.find("from-trunk", "100", 1)[1].data == "literal wins"  # type: ignore[index]
    assert plan.match_extension("shared", "234") is not None
    assert step.source == "sample.conf" and step.line == 8


@pytest.mark.parametrize(
    ("pattern", "exten", "ok"),
    [
        ("_X.", "5001", True),
        ("_X.", "5", False),
        ("_NXX", "234", True),
        ("_NXX", "134", False),
        ("_[1-5]X.", "512", True),
        ("_[1-5]X.", "612", False),
        ("s", "s", True),
        ("_[+0-9]X.", "+33140000001", True),
        ("_[+0-9]X.", "5001", True),
        ("_ZXX", "099", False),
    ],
)
def test_extension_patterns(pattern: str, exten: str, ok: bool) -> None:
    assert dp.match(pattern, exten) is ok


def test_substitution_is_nested_and_unknown_is_empty() -> None:
    values = {"A": "B", "B": "deep", "CALLERID(num)": "+1555"}
    assert dp.substitute("${${A}}-${CALLERID(num)}-${NOPE}", values.get) == "deep-+1555-"


def test_malformed_line_names_file_and_line() -> None:
    with pytest.raises(dp.DialplanError, match=r"bad\.conf:3: "):
        dp.parse("[ctx]\nexten => s,1,NoOp()\nthis is not dialplan\n", "bad.conf")
    with pytest.raises(dp.DialplanError, match=r"bad\.conf:2: bad priority"):
        dp.parse("[ctx]\nexten => s,x,NoOp()\n", "bad.conf")


def test_deployed_dialplan_parses() -> None:
    plan = dp.load([DIALPLAN])
    assert {"callserver-inbound", "callserver-hold", "callserver-agent"} <= set(plan.contexts)
    assert plan.globals["CALLSERVER_AGI"].startswith("agi://")


async def test_unknown_application_is_a_loud_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    conf = tmp_path / "extensions.conf"
    conf.write_text("[callserver-inbound]\nexten => _X.,1,Answer()\n same => n,Frobnicate(1)\n")
    plan = dp.load([conf])
    sim = PbxSimulator(make_settings(4573), ami_port=0, time_scale=0.01, dialplan=plan)
    await sim.start()
    try:
        with caplog.at_level(logging.ERROR, logger="callserver.sim"):
            call = sim.place_call("+15550001", "5001", patience=5, talk_time=1)
            record = await call.outcome(timeout=5)
        assert record.outcome is Outcome.PBX_HANGUP
        assert sim.dialplan_errors and f"{conf}:3" in sim.dialplan_errors[0]
        assert "Frobnicate" in caplog.text and "callserver-inbound" in caplog.text
    finally:
        await sim.stop()


async def test_playback_of_a_missing_sound_warns_sets_failed_and_the_dialplan_goes_on(tmp_path: Path) -> None:
    conf = tmp_path / "extensions.conf"
    conf.write_text(
        "[callserver-inbound]\nexten => _X.,1,Answer()\n"
        " same => n,Playback(press-1)\n"  # not an Asterisk core sound
        " same => n,Set(FIRST=${PLAYBACKSTATUS})\n"
        " same => n,Background(custom/choose-language)\n"
        " same => n,Set(SECOND=${BACKGROUNDSTATUS})\n"
        " same => n,Playback(vm-goodbye)\n"
        " same => n,Wait(100)\n"
    )
    sim = PbxSimulator(make_settings(4573, tmp_path), ami_port=0, time_scale=0.01, dialplan=dp.load([conf]))
    await sim.start()
    try:
        call = sim.place_call("+15550001", "5001", patience=0.5, talk_time=1)
        await call.outcome(timeout=5)  # the caller gives up during the final Wait
        channel = call.channel
        assert (channel.variables["FIRST"], channel.variables["SECOND"]) == ("FAILED", "FAILED")
        assert channel.variables["PLAYBACKSTATUS"] == "SUCCESS"  # vm-goodbye is a core sound
        assert [w.rsplit(": ", 1)[-1] for w in sim.warnings] == [
            "File press-1 does not exist in any format",
            "File custom/choose-language does not exist in any format",
        ]
        assert not sim.dialplan_errors
    finally:
        await sim.stop()
