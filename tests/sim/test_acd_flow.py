"""The own-ACD call flow of the s9/s10/s11 transcripts, driven over AMI and FastAGI on loopback."""

from __future__ import annotations

import asyncio

from callserver.sim import Outcome, PbxSimulator
from tests.sim.helpers import AmiClient, FakeAgiServer


def originate(ami: AmiClient, interface: str, caller: str, *extra: tuple[str, str]) -> str:
    return ami.send(
        "Originate",
        ("Channel", interface),
        ("Context", "callserver-agent-bridge"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", "5000"),
        ("CallerID", '"Caller 1" <+15550001>'),
        ("Variable", f"CS_CALLER={caller}"),
        *extra,
        ("Async", "true"),
    )


async def test_caller_reaches_fastagi_then_hears_music(
    sim: PbxSimulator, ami: AmiClient, agi: FakeAgiServer
) -> None:
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=1, caller_name="Caller 1")
    moh = await ami.event("MusicOnHoldStart")
    assert moh["Channel"] == call.channel.name and moh["Context"] == "callserver-hold"
    assert moh["Class"] == "default"
    env = agi.envs[0]
    assert env["agi_network_script"] == "inbound"
    assert env["agi_request"] == f"agi://127.0.0.1:{agi.port}/inbound"
    assert env["agi_channel"] == call.channel.name and env["agi_callerid"] == "+15550001"
    assert env["agi_dnid"] == "5001" and env["agi_context"] == "callserver-inbound"
    assert env["agi_priority"] == "4" and env["agi_version"] == "22.10.1"
    assert agi.conversations[0].lines[1] == "200 result=1"
    assert call.channel.variables["CS_QUEUE"] == "support"


async def test_core_show_channels_lists_waiting_caller(sim: PbxSimulator, ami: AmiClient) -> None:
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=1)
    await ami.event("MusicOnHoldStart")
    start = len(ami.messages)
    await ami.action("CoreShowChannels")
    item = await ami.wait(lambda d: d.get("Event") == "CoreShowChannel", start=start)
    assert item["Channel"] == call.channel.name and item["Context"] == "callserver-hold"
    assert item["Application"] == "MusicOnHold" and item["ApplicationData"] == "default"
    assert item["Exten"] == "s" and item["Priority"] == "2" and item["BridgeId"] == ""
    assert item["CallerIDNum"] == "+15550001" and item["Duration"].startswith("00:00:")


async def test_agent_leg_bridges_caller_and_caller_hangup_ends_both(
    sim: PbxSimulator, ami: AmiClient
) -> None:
    sim.set_phone("PJSIP/1001", answer_delay=0.05)
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=0.3)
    await ami.event("MusicOnHoldStart")
    originate(ami, "PJSIP/1001", call.channel.name, ("ChannelId", "agent-leg-1"))
    ok = await ami.event("OriginateResponse")
    assert ok["Response"] == "Success" and ok["Reason"] == "4" and ok["Uniqueid"] == "agent-leg-1"
    enter_caller = await ami.event("BridgeEnter", Channel=call.channel.name)
    enter_agent = await ami.event("BridgeEnter", Uniqueid="agent-leg-1")
    assert enter_caller["BridgeUniqueid"] == enter_agent["BridgeUniqueid"]
    assert enter_agent["Linkedid"] == call.channel.uniqueid
    assert enter_caller["Priority"] == "3"
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.COMPLETED
    assert record.agent_channel == ok["Channel"]
    hangup_caller = await ami.event("Hangup", Channel=call.channel.name)
    hangup_agent = await ami.event("Hangup", Uniqueid="agent-leg-1")
    assert hangup_caller["Cause"] == "16" and hangup_agent["Cause"] == "16"
    await ami.event("BridgeDestroy")


async def test_agent_hangup_ends_caller_through_bridge_x(sim: PbxSimulator, ami: AmiClient) -> None:
    sim.set_phone("PJSIP/1001", answer_delay=0.05)
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=30)
    await ami.event("MusicOnHoldStart")
    originate(ami, "PJSIP/1001", call.channel.name, ("ChannelId", "agent-leg-2"))
    await ami.event("BridgeEnter", Uniqueid="agent-leg-2")
    assert sim.hangup_channel("agent-leg-2")
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.AGENT_ENDED
    caller_hangup = await ami.event("Hangup", Channel=call.channel.name)  # the last event
    assert caller_hangup["Cause"] == "16"
    names = [m.get("Event") for m in map(dict, ami.messages)]
    tail = names[names.index("HangupRequest") :]
    assert [
        n
        for n in tail
        if n in ("HangupRequest", "BridgeLeave", "SoftHangupRequest", "BridgeDestroy", "Hangup")
    ] == [
        "HangupRequest",
        "BridgeLeave",
        "SoftHangupRequest",
        "BridgeLeave",
        "BridgeDestroy",
        "Hangup",
        "Hangup",
    ]


async def test_unanswered_agent_leg_fails_with_reason_3(sim: PbxSimulator, ami: AmiClient) -> None:
    sim.set_phone("PJSIP/1002", answers=False)
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=1)
    await ami.event("MusicOnHoldStart")
    ami.send(
        "Originate",
        ("Channel", "PJSIP/1002"),
        ("Context", "callserver-agent-bridge"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", "200"),
        ("Variable", f"CS_CALLER={call.channel.name}"),
        ("Async", "true"),
    )
    failed = await ami.event("OriginateResponse")
    assert failed["Response"] == "Failure" and failed["Reason"] == "3"
    assert failed["Channel"] == "PJSIP/1002" and failed["Uniqueid"] == "<unknown>"
    hangup = await ami.event("Hangup", Cause="19")
    assert hangup["Cause-txt"] == "User alerting, no answer" and hangup["TechCause"] == "480"
    assert not ami.events("DialEnd")


async def test_unknown_endpoint_fails_with_reason_0(ami: AmiClient) -> None:
    ami.send(
        "Originate",
        ("Channel", "PJSIP/nosuchendpoint"),
        ("Context", "callserver-agent-bridge"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("ChannelId", "nosuch"),
        ("Async", "true"),
    )
    failed = await ami.event("OriginateResponse")
    assert (failed["Response"], failed["Reason"], failed["Uniqueid"]) == ("Failure", "0", "nosuch")
    assert not ami.events("Newchannel")


async def test_ringing_leg_hung_up_by_channel_id(sim: PbxSimulator, ami: AmiClient) -> None:
    sim.set_phone("PJSIP/1003", answer_delay=30)
    originate(ami, "PJSIP/1003", "PJSIP/trunk-deadbeef", ("ChannelId", "ring-1"))
    await ami.event("Newstate", Uniqueid="ring-1", ChannelState="5")
    first = await ami.action("Hangup", ("Channel", "ring-1"))
    assert first["Message"] == "Channel Hungup"
    failed = await ami.event("OriginateResponse")
    assert failed["Response"] == "Failure" and failed["Reason"] == "0"
    assert (await ami.event("Hangup", Uniqueid="ring-1"))["Cause"] == "0"
    assert (await ami.event("DialEnd", DestUniqueid="ring-1"))["DialStatus"] == "NOANSWER"
    again = await ami.action("Hangup", ("Channel", "ring-1"))
    assert again["Response"] == "Error" and again["Message"] == "No such channel"


async def test_impatient_caller_abandons_like_s11(sim: PbxSimulator, ami: AmiClient) -> None:
    call = sim.place_call("+15550001", "5001", patience=0.2, talk_time=1)
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.ABANDONED and record.agent_channel is None
    mine = [dict(m) for m in ami.messages if dict(m).get("Channel") == call.channel.name]
    names = [d["Event"] for d in mine]
    assert names[-4:] == ["HangupRequest", "MusicOnHoldStop", "SoftHangupRequest", "Hangup"]
    assert mine[-2]["Cause"] == "16" and mine[-1]["Cause"] == "0"


async def test_calls_survive_dropped_ami_connections(sim: PbxSimulator, ami: AmiClient) -> None:
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=1)
    await ami.event("MusicOnHoldStart")
    sim.drop_ami_clients()
    await ami.closed.wait()
    again = AmiClient()
    try:
        await again.login(sim.ami_port)
        start = len(again.messages)
        await again.action("CoreShowChannels")
        item = await again.wait(lambda d: d.get("Event") == "CoreShowChannel", start=start)
        assert item["Channel"] == call.channel.name and item["Application"] == "MusicOnHold"
    finally:
        await again.close()


async def test_unreachable_fastagi_sends_caller_to_unavailable(agi: FakeAgiServer) -> None:
    from tests.sim.conftest import make_settings

    settings = make_settings(agi.port)
    simulator = PbxSimulator(settings, ami_port=0, time_scale=0.01, agi_port=1)
    await simulator.start()
    try:
        call = simulator.place_call("+15550001", "5001", patience=30, talk_time=1)
        record = await call.outcome(timeout=5)
        assert record.outcome is Outcome.PBX_HANGUP
        assert call.channel.variables["AGISTATUS"] == "FAILURE"
        assert call.channel.context == "callserver-unavailable"
    finally:
        await simulator.stop()


async def test_redirect_to_message_context_plays_and_hangs_up(sim: PbxSimulator, ami: AmiClient) -> None:
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=1)
    await ami.event("MusicOnHoldStart")
    name = call.channel.name
    setvar = await ami.action(
        "Setvar", ("Channel", name), ("Variable", "CS_MESSAGE"), ("Value", "vm-goodbye")
    )
    assert setvar["Message"] == "Variable Set"
    getvar = await ami.action("Getvar", ("Channel", name), ("Variable", "CS_MESSAGE"))
    assert (getvar["Variable"], getvar["Value"]) == ("CS_MESSAGE", "vm-goodbye")
    moved = await ami.action(
        "Redirect",
        ("Channel", name),
        ("Context", "callserver-message"),
        ("Exten", "s"),
        ("Priority", "1"),
    )
    assert moved["Message"] == "Redirect successful"
    await ami.event("MusicOnHoldStop", Channel=name)
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.PBX_HANGUP
    hangup = await ami.event("Hangup", Channel=name)
    assert hangup["Context"] == "callserver-message" and hangup["Cause"] == "16"
    missing = await ami.action(
        "Redirect", ("Channel", "PJSIP/trunk-deadbeef"), ("Context", "x"), ("Exten", "s")
    )
    assert missing["Message"] == "Channel does not exist: PJSIP/trunk-deadbeef"


async def test_bridge_action_joins_waiting_caller_and_agent_leg(sim: PbxSimulator, ami: AmiClient) -> None:
    sim.set_phone("PJSIP/1001", answer_delay=0.01)
    call = sim.place_call("+15550001", "5001", patience=30, talk_time=0.3)
    await ami.event("MusicOnHoldStart")
    ami.send(
        "Originate",
        ("Channel", "PJSIP/1001"),
        ("Application", "Wait"),
        ("Data", "30"),
        ("ChannelId", "wait-1"),
        ("Async", "true"),
    )
    ok = await ami.event("OriginateResponse")
    assert ok["Reason"] == "4" and ok["Application"] == "Wait"
    bad = await ami.action("Bridge", ("Channel1", "PJSIP/trunk-deadbeef"), ("Channel2", "wait-1"))
    assert bad["Message"] == "Channel1 does not exist: PJSIP/trunk-deadbeef"
    # Bridge matches by name prefix, as Asterisk does
    joined = await ami.action("Bridge", ("Channel1", call.channel.name), ("Channel2", ok["Channel"][:-3]))
    assert joined["Message"] == "Channels have been bridged"
    await ami.event("BridgeEnter", Uniqueid="wait-1")
    record = await call.outcome(timeout=5)
    assert record.outcome is Outcome.COMPLETED and record.agent_channel == ok["Channel"]
    await ami.event("Hangup", Uniqueid="wait-1")


async def test_configured_traffic_is_reproducible_and_recorded(agi: FakeAgiServer) -> None:
    from tests.sim.conftest import make_settings

    settings = make_settings(agi.port)
    callers = settings.simulator.callers.model_copy(
        update={"rate_per_minute": 600.0, "max_calls": 3, "patience": (5.0, 10.0)}
    )
    simulator_cfg = settings.simulator.model_copy(update={"callers": callers})
    settings = settings.model_copy(update={"simulator": simulator_cfg})
    simulator = PbxSimulator(settings, ami_port=0, time_scale=0.01)
    await simulator.start()
    try:
        simulator.start_traffic()
        async with asyncio.timeout(5):
            await simulator.wait_finished(3)
        assert simulator.counters["abandoned"] == 3
        assert [r.dnis for r in simulator.records] == ["5001"] * 3
        assert all(0.05 <= r.patience <= 0.1 for r in simulator.records)
    finally:
        await simulator.stop()
