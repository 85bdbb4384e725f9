"""The simulator fails like Asterisk 22 when a phone goes away and when it restarts.

A phone that stops answering qualify: ContactStatus (class system) and DeviceStateChange (class
call), an Originate to it fails at once with Reason 0 and no channel, DeviceStateList says
UNAVAILABLE; when it is back, all of that reverses. `core restart now`: Shutdown (class system),
then the link drops and every channel is gone without a Hangup; AMI listens again with a fresh
uptime.
"""

from __future__ import annotations

import pytest

from callserver.sim import Outcome, PbxSimulator
from tests.sim.helpers import AmiClient
from tests.sim.test_trace_shapes import TRACES, key, received, shape


def originate(ami: AmiClient, channel: str, channel_id: str) -> None:
    ami.send(
        "Originate",
        ("Channel", channel),
        ("Context", "callserver-agent-refused"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", "5000"),
        ("ChannelId", channel_id),
        ("Async", "true"),
    )


async def test_a_phone_that_goes_away_is_reported_and_cannot_be_rung(
    sim: PbxSimulator, ami: AmiClient
) -> None:
    sim.endpoints.add("1001", 5070)
    sim.set_phone("PJSIP/1001", answer_delay=0.01)
    sim.set_reachable("PJSIP/1001", False)
    contact = await ami.event("ContactStatus")
    assert contact == {
        "Event": "ContactStatus",
        "Privilege": "system,all",
        "URI": "sip:1001@127.0.0.1:5070",
        "ContactStatus": "Unreachable",
        "AOR": "1001",
        "EndpointName": "1001",
        "RoundtripUsec": "0",
    }
    device = await ami.event("DeviceStateChange", Device="PJSIP/1001")
    assert device["State"] == "UNAVAILABLE" and device["Privilege"] == "call,all"
    originate(ami, "PJSIP/1001", "gone-1")
    failed = await ami.event("OriginateResponse", Uniqueid="gone-1")
    assert (failed["Response"], failed["Reason"], failed["Channel"]) == ("Failure", "0", "PJSIP/1001")
    assert not [e for e in ami.events("Newchannel") if e["Channel"].startswith("PJSIP/1001-")]
    listing = await ami.action("DeviceStateList")
    assert (listing["EventList"], listing["Message"]) == ("start", "Device State Changes will follow")
    done = await ami.event("DeviceStateListComplete")
    items = [m for m in ami.events("DeviceStateChange") if m.get("ActionID") == listing["ActionID"]]
    assert {m["Device"]: m["State"] for m in items}["PJSIP/1001"] == "UNAVAILABLE"
    assert all("Privilege" not in m for m in items) and done["ListItems"] == str(len(items))
    # back again
    sim.set_reachable("PJSIP/1001", True)
    back = await ami.event("ContactStatus", ContactStatus="Reachable")
    assert back["RoundtripUsec"] != "0"
    assert (await ami.event("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE"))[
        "Privilege"
    ] == "call,all"
    originate(ami, "PJSIP/1001", "back-1")
    assert (await ami.event("OriginateResponse", Uniqueid="back-1"))["Response"] == "Success"


async def test_device_state_change_has_the_recorded_shape(sim: PbxSimulator, ami: AmiClient) -> None:
    if not TRACES.is_dir():
        pytest.skip("transcripts not available")
    recorded = {shape(m) for m in received("s2_queue_answered") if key(m) == "DeviceStateChange"}
    sim.set_reachable("PJSIP/1002", False)
    emitted = await ami.event("DeviceStateChange", Device="PJSIP/1002")
    assert tuple(emitted) in recorded


async def test_a_manager_user_without_the_system_class_gets_no_contact_status(
    sim: PbxSimulator, ami: AmiClient
) -> None:
    sim.manager_user = type(sim.manager_user)(read=frozenset({"call", "dtmf"}))
    assert sim.ami is not None
    sim.ami.user = sim.manager_user
    sim.set_reachable("PJSIP/1003", False)
    await ami.event("DeviceStateChange", Device="PJSIP/1003")
    assert ami.events("ContactStatus") == []


async def test_a_pbx_restart_says_shutdown_then_drops_every_call_without_a_hangup(
    sim: PbxSimulator, ami: AmiClient
) -> None:
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=1)
    await ami.event("MusicOnHoldStart")
    await sim.restart_pbx(down_for=0.05)
    shutdown = await ami.event("Shutdown")
    assert shutdown == {
        "Event": "Shutdown",
        "Privilege": "system,all",
        "Shutdown": "Uncleanly",
        "Restart": "True",
    }
    await ami.closed.wait()
    assert ami.events("Hangup") == []
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.PBX_CUT and record.heard_music
    again = AmiClient()
    assert (await again.login(sim.ami_port))["Response"] == "Success"
    booted = await again.event("FullyBooted")
    assert int(booted["Uptime"]) <= 1
    await again.action("CoreShowChannels")
    assert (await again.event("CoreShowChannelsComplete"))["ListItems"] == "0"
    await again.close()
