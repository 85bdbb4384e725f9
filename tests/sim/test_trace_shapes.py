"""The simulator's messages have the header names, order and spelling of the real Asterisk 22
transcripts in ../shared/ami-traces (every shape we emit must exist in a recording)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from callserver.sim import PbxSimulator
from tests.sim.helpers import AmiClient, FakeAgiServer

TRACES = Path(__file__).resolve().parents[3] / "shared" / "ami-traces"
FILES = [
    "s9_acd_answered",
    "s10_acd_noanswer",
    "s11_acd_caller_abandon",
    "s4_originate",
    "s2_queue_answered",
    "s1_status_actions",
    "s12_ami_bridge_transfer",
    "s5_queue_members_redirect_hangup",
    "s7_fastagi",
]
CHECKED = {
    "Newchannel",
    "Newstate",
    "Hangup",
    "HangupRequest",
    "SoftHangupRequest",
    "OriginateResponse",
    "BridgeCreate",
    "BridgeEnter",
    "BridgeLeave",
    "BridgeDestroy",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
    "AGIExecStart",
    "AGIExecEnd",
    "SuccessfulAuth",
    "RequestBadFormat",
    "DTMFBegin",
    "DTMFEnd",
    "Response:Success",
    "Response:Error",
    "Response:Goodbye",
    "CoreShowChannel",
    "CoreShowChannelsComplete",
    "DialBegin",
    "DialState",
    "DialEnd",
    "NewCallerid",
    "NewConnectedLine",
    "FullyBooted",
}


def received(name: str) -> list[list[tuple[str, str]]]:
    path = TRACES / f"{name}.ami.log"
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    out, tag, lines = [], "", []
    for raw in data.decode().split("\r\n"):
        if raw.startswith("# +"):
            tag = raw.split()[-1]
            continue
        if raw == "":
            if tag == "RECV" and lines:
                out.append(
                    [tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "") for line in lines]
                )
            lines = []
            continue
        lines.append(raw)
    return out  # type: ignore[return-value]


def shape(msg: list[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(k for k, _ in msg)


def key(msg: list[tuple[str, str]]) -> str:
    d = dict(msg)
    return d.get("Event") or f"Response:{d.get('Response')}"


@pytest.fixture(scope="module")
def trace_shapes() -> dict[str, set[tuple[str, ...]]]:
    if not TRACES.is_dir():
        pytest.skip("transcripts not available")
    shapes: dict[str, set[tuple[str, ...]]] = {}
    for name in FILES:
        for msg in received(name):
            shapes.setdefault(key(msg), set()).add(shape(msg))
    return shapes


async def test_emitted_shapes_match_transcripts(
    sim: PbxSimulator, ami: AmiClient, trace_shapes: dict[str, set[tuple[str, ...]]]
) -> None:
    sim.set_phone("PJSIP/1001", answer_delay=0.05)
    sim.set_phone("PJSIP/1002", answers=False)
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=0.3, caller_name="Caller 1")
    await ami.event("MusicOnHoldStart")
    await ami.action("CoreShowChannels")
    await ami.event("CoreShowChannelsComplete")
    ami.send(
        "Originate",
        ("Channel", "PJSIP/1002"),
        ("Context", "callserver-agent-bridge"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", "100"),
        ("CallerID", '"Caller 1" <+15550001>'),
        ("ChannelId", "a2"),
        ("Variable", f"CS_CALLER={call.channel.name}"),
        ("Async", "true"),
    )
    await ami.event("OriginateResponse", Uniqueid="a2")
    ami.send(
        "Originate",
        ("Channel", "PJSIP/1001"),
        ("Context", "callserver-agent-bridge"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", "5000"),
        ("CallerID", '"Caller 1" <+15550001>'),
        ("ChannelId", "a1"),
        ("Variable", f"CS_CALLER={call.channel.name}"),
        ("Async", "true"),
    )
    await ami.event("BridgeEnter", Uniqueid="a1")
    await ami.action("CoreShowChannels")
    await ami.event("CoreShowChannel", Uniqueid="a1")
    await call.outcome(timeout=5)
    await ami.event("Hangup", Uniqueid="a1")
    await ami.action("NoSuchAction")
    await ami.event("RequestBadFormat")
    seen: set[str] = set()
    for msg in ami.messages:
        k = key(msg)
        if k not in CHECKED:
            continue
        seen.add(k)
        assert shape(msg) in trace_shapes[k], f"{k} shape {shape(msg)} not in the transcripts"
    assert {"Newchannel", "Hangup", "OriginateResponse", "BridgeEnter", "CoreShowChannel"} <= seen
    assert {"AGIExecEnd", "BridgeLeave", "SoftHangupRequest", "RequestBadFormat"} <= seen


def agi_env_keys(name: str) -> list[str]:
    """The agi_* header names of the first FastAGI connection in a recorded `.agi.log`."""
    keys: list[str] = []
    for line in (TRACES / f"{name}.agi.log").read_text().splitlines():
        if line.startswith("agi_"):
            keys.append(line.split(":", 1)[0])
        elif keys and not line.startswith("# +"):
            break
    return keys


async def test_agi_environment_matches_transcript(
    sim: PbxSimulator, ami: AmiClient, agi: FakeAgiServer
) -> None:
    if not TRACES.is_dir():
        pytest.skip("transcripts not available")
    sim.place_call("+15550001", "5001", patience=30, talk_time=1, caller_name="Caller 1")
    await ami.event("MusicOnHoldStart")
    ours = [line.split(":", 1)[0] for line in agi.raw_envs[0].splitlines() if line]
    assert ours == agi_env_keys("s9_acd_answered")
    assert agi.raw_envs[0].endswith("\n\n") and "agi_accountcode: \n" in agi.raw_envs[0]
