"""The simulator dialling out and keeping persistent lines, over AMI on loopback, as Asterisk 22 does:
called numbers answer as people or machines (or not at all, busy, invalid), AMD() decides and the
`CampaignAmd` user event says so, and the AMI `Bridge` action leaves both channels to continue at
their next priority (s12), so an agent's line survives the customer hanging up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callserver.config import ListenConfig, QueueConfig, Settings, SimOutbound, SimulatorConfig
from callserver.sim import PbxSimulator
from tests.sim.conftest import DIALPLAN, SCALE
from tests.sim.helpers import AmiClient, FakeAgiServer

AMD_ARGS = "2500,1500,800,5000,100,50,3,256,5000"


@pytest.fixture
async def outsim(agi: FakeAgiServer) -> AsyncIterator[PbxSimulator]:
    settings = Settings(
        data_dir=Path("data"),
        agi=ListenConfig(port=agi.port),
        queues=[QueueConfig(name="support", dnis=["5001"])],
        simulator=SimulatorConfig(dialplan=[DIALPLAN], seed=7, outbound=SimOutbound(enabled=True)),
    )
    simulator = PbxSimulator(settings, ami_host="127.0.0.1", ami_port=0, time_scale=SCALE)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def oami(outsim: PbxSimulator) -> AsyncIterator[AmiClient]:
    client = AmiClient()
    assert (await client.login(outsim.ami_port))["Response"] == "Success"
    yield client
    await client.close()


def dial(ami: AmiClient, number: str, attempt: str, amd: str = AMD_ARGS, timeout_ms: int = 25000) -> str:
    return ami.send(
        "Originate",
        ("Channel", f"PJSIP/{number}@trunk"),
        ("Context", "callserver-campaign"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", str(timeout_ms)),
        ("CallerID", '"Acme" <+12025550100>'),
        ("Variable", f"CS_ATTEMPT={attempt}"),
        ("Variable", f"CS_AMD={amd}"),
        ("ChannelId", attempt),
        ("Async", "true"),
    )


async def open_line(ami: AmiClient, line_id: str) -> dict[str, str]:
    ami.send(
        "Originate",
        ("Channel", "PJSIP/1001"),
        ("Context", "callserver-line"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", "5000"),
        ("Variable", "CS_AGENT=agent1"),
        ("ChannelId", line_id),
        ("Async", "true"),
    )
    return await ami.event("OriginateResponse", Uniqueid=line_id)


async def test_a_person_answers_and_amd_reports_human_in_the_user_event(
    outsim: PbxSimulator, oami: AmiClient
) -> None:
    outsim.set_called("+12125550001", kind="person", answer_after=2.0, amd_says="HUMAN", amd_delay=1.0)
    dial(oami, "+12125550001", "att-1")
    ringing = await oami.event("Newstate", Uniqueid="att-1", ChannelStateDesc="Ringing")
    ok = await oami.event("OriginateResponse", Uniqueid="att-1")
    assert ringing["Channel"].startswith("PJSIP/trunk-") and (ok["Response"], ok["Reason"]) == (
        "Success",
        "4",
    )
    amd = await oami.event("UserEvent", Uniqueid="att-1")
    assert (amd["UserEvent"], amd["Status"], amd["Cause"]) == ("CampaignAmd", "HUMAN", "HUMAN-800-800")
    assert amd["Privilege"] == "user,all" and amd["Context"] == "callserver-campaign"
    channel = outsim.channel("att-1")
    assert channel is not None and channel.variables["AMDSTATUS"] == "HUMAN"


async def test_amd_takes_a_machine_for_a_machine_and_gives_up_past_its_analysis_time(
    outsim: PbxSimulator, oami: AmiClient
) -> None:
    outsim.set_called("+12125550002", kind="machine", answer_after=1.0, amd_says="MACHINE", amd_delay=3.0)
    outsim.set_called("+12125550003", kind="person", answer_after=1.0, amd_says="HUMAN", amd_delay=9.0)
    dial(oami, "+12125550002", "att-m")
    dial(oami, "+12125550003", "att-slow")
    machine = await oami.event("UserEvent", Uniqueid="att-m")
    slow = await oami.event("UserEvent", Uniqueid="att-slow")
    assert (machine["Status"], machine["Cause"]) == ("MACHINE", "LONGGREETING-1500-1500")
    assert (slow["Status"], slow["Cause"]) == ("NOTSURE", "TOOLONG-5000")


async def test_a_machine_hears_the_message_after_its_beep(outsim: PbxSimulator, oami: AmiClient) -> None:
    outsim.set_called("+12125550004", kind="machine", answer_after=1.0, amd_says="MACHINE", amd_delay=2.0)
    dial(oami, "+12125550004", "att-msg")
    await oami.event("UserEvent", Uniqueid="att-msg")
    await oami.action("Setvar", ("Channel", "att-msg"), ("Variable", "CS_MESSAGE"), ("Value", "vm-goodbye"))
    redirect = await oami.action(
        "Redirect", ("Channel", "att-msg"), ("Context", "callserver-campaign-machine"), ("Exten", "s")
    )
    assert redirect["Response"] == "Success"
    hangup = await oami.event("Hangup", Uniqueid="att-msg", timeout=10)
    assert hangup["Context"] == "callserver-campaign-machine"
    channel_vars = [m for m in oami.events("Hangup") if m.get("Uniqueid") == "att-msg"]
    assert len(channel_vars) == 1


async def test_busy_invalid_and_unanswered_numbers_fail_as_asterisk_reports_them(
    outsim: PbxSimulator, oami: AmiClient
) -> None:
    outsim.set_called("+12125550005", kind="busy", answer_after=0.5)
    outsim.set_called("+12125550006", kind="invalid", answer_after=0.5)
    outsim.set_called("+12125550007", kind="nobody")
    dial(oami, "+12125550005", "att-busy")
    dial(oami, "+12125550006", "att-bad")
    dial(oami, "+12125550007", "att-none", timeout_ms=2000)
    busy = await oami.event("OriginateResponse", Uniqueid="att-busy")
    bad = await oami.event("OriginateResponse", Uniqueid="att-bad")
    none = await oami.event("OriginateResponse", Uniqueid="att-none")
    assert [(r["Response"], r["Reason"]) for r in (busy, bad, none)] == [
        ("Failure", "0"),
        ("Failure", "0"),
        ("Failure", "3"),
    ]
    assert (await oami.event("DialEnd", DestUniqueid="att-busy"))["DialStatus"] == "BUSY"
    causes = [(await oami.event("Hangup", Uniqueid=u))["Cause"] for u in ("att-busy", "att-bad", "att-none")]
    assert causes == ["17", "1", "19"]


async def test_the_bridge_action_is_as_strict_as_asterisk(outsim: PbxSimulator, oami: AmiClient) -> None:
    await open_line(oami, "line-1")
    missing = await oami.action("Bridge", ("Channel1", "line-1"))
    unknown1 = await oami.action("Bridge", ("Channel1", "PJSIP/trunk-deadbeef"), ("Channel2", "line-1"))
    unknown2 = await oami.action("Bridge", ("Channel1", "line-1"), ("Channel2", "PJSIP/agent1-deadbeef"))
    itself = await oami.action("Bridge", ("Channel1", "line-1"), ("Channel2", "line-1"))
    assert [r["Response"] for r in (missing, unknown1, unknown2, itself)] == ["Error"] * 4
    assert missing["Message"] == "Missing channel parameter in request"
    assert unknown1["Message"] == "Channel1 does not exist: PJSIP/trunk-deadbeef"
    assert unknown2["Message"] == "Channel2 does not exist: PJSIP/agent1-deadbeef"
    line = outsim.channel("line-1")
    assert line is not None and itself["Message"] == f"Unable to add Channel2 to bridge: {line.name}"


async def test_a_persistent_line_survives_each_customer_hanging_up_after_an_ami_bridge(
    outsim: PbxSimulator, oami: AmiClient
) -> None:
    outsim.set_phone("PJSIP/1001", answer_delay=0.05, answers=True)
    ok = await open_line(oami, "line-1")
    assert ok["Response"] == "Success"
    for n in (1, 2):
        attempt = f"att-{n}"
        number = f"+1212555001{n}"
        outsim.set_called(number, kind="person", answer_after=0.5, talk=1.0, patience=60.0)
        dial(oami, number, f"att-{n}", amd="")
        await oami.event("OriginateResponse", Uniqueid=f"att-{n}")
        start = len(oami.messages)
        await oami.action("Setvar", ("Channel", f"att-{n}"), ("Variable", "CS_CONNECTED"), ("Value", "1"))
        bridged = await oami.action("Bridge", ("Channel1", f"att-{n}"), ("Channel2", ok["Channel"]))
        assert (bridged["Response"], bridged["Message"]) == ("Success", "Channels have been bridged")
        line_in = await oami.wait(
            lambda d: d.get("Event") == "BridgeEnter" and d.get("Uniqueid") == "line-1", start=start
        )
        assert (line_in["Context"], line_in["Priority"]) == ("callserver-line", "4")  # next priority (s12)
        gone = await oami.wait(
            lambda d, a=attempt: d.get("Event") == "Hangup" and d.get("Uniqueid") == a, start=start
        )
        assert gone["Context"] == "callserver-campaign"
        await oami.wait(
            lambda d: d.get("Event") == "BridgeLeave" and d.get("Uniqueid") == "line-1", start=start
        )
        line = outsim.channel("line-1")
        assert line is not None and not line.hanging_up
    assert not [m for m in oami.events("Hangup") if m.get("Uniqueid") == "line-1"]
    line = outsim.channel("line-1")
    assert line is not None and (line.context, line.application) == ("callserver-line", "Wait")
