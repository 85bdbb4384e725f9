"""AMI session behaviour against Asterisk 22's replies (s1 transcript)."""

from __future__ import annotations

import asyncio
import socket

from callserver.sim import PbxSimulator, run_simulator
from tests.sim.conftest import make_settings
from tests.sim.helpers import AmiClient, FakeAgiServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_login_sends_banner_and_fully_booted(sim: PbxSimulator) -> None:
    client = AmiClient()
    try:
        reply = await client.login(sim.ami_port)
        assert client.banner == "Asterisk Call Manager/11.0.0\r\n"
        assert reply == {"Response": "Success", "ActionID": "t-1", "Message": "Authentication accepted"}
        booted = await client.event("FullyBooted")
        assert booted["Privilege"] == "system,all" and booted["Status"] == "Fully Booted"
    finally:
        await client.close()


async def test_ping_and_unknown_action_answer_like_asterisk(ami: AmiClient) -> None:
    pong = await ami.action("Ping")
    assert pong["Ping"] == "Pong" and "Timestamp" in pong
    bad = await ami.action("NoSuchAction")
    assert bad["Response"] == "Error"
    assert bad["Message"] == (
        "Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands."
    )


async def test_bad_secret_is_refused_and_connection_closed(sim: PbxSimulator) -> None:
    client = AmiClient()
    try:
        reply = await client.login(sim.ami_port, secret="wrong")
        assert reply["Response"] == "Error" and reply["Message"] == "Authentication failed"
        await client.closed.wait()
    finally:
        await client.close()


async def test_actions_before_login_are_denied(sim: PbxSimulator) -> None:
    client = AmiClient()
    try:
        await client.connect(sim.ami_port)
        reply = await client.action("Ping")
        assert reply == {"Response": "Error", "ActionID": "t-1", "Message": "Permission denied"}
    finally:
        await client.close()


async def test_empty_core_show_channels_and_logoff(ami: AmiClient) -> None:
    start = len(ami.messages)
    reply = await ami.action("CoreShowChannels")
    assert reply["EventList"] == "start" and reply["Message"] == "Channels will follow"
    done = await ami.wait(lambda d: d.get("Event") == "CoreShowChannelsComplete", start=start)
    assert done["ListItems"] == "0" and done["EventList"] == "Complete"
    bye = await ami.action("Logoff")
    assert bye["Response"] == "Goodbye" and bye["Message"] == "Thanks for all the fish."
    await ami.closed.wait()


async def test_events_off_silences_the_session(sim: PbxSimulator, ami: AmiClient) -> None:
    reply = await ami.action("Events", ("EventMask", "off"))
    assert reply["Events"] == "Off"
    call = sim.place_call("+15550001", "5001", patience=0.05, talk_time=1)
    await call.outcome(timeout=5)
    pong = await ami.action("Ping")
    assert pong["Ping"] == "Pong"
    assert not ami.events("Newchannel")


async def test_run_simulator_serves_until_stopped(agi: FakeAgiServer) -> None:
    settings = make_settings(agi.port)
    settings = settings.model_copy(update={"ami": settings.ami.model_copy(update={"port": free_port()})})
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_simulator(settings, stop, ready=ready))
    client = AmiClient()
    try:
        async with asyncio.timeout(5):
            await ready.wait()
        reply = await client.login(settings.ami.port)
        assert reply["Response"] == "Success"
    finally:
        await client.close()
        stop.set()
        await task


async def test_events_of_one_loop_turn_go_out_in_one_write_in_their_order(
    sim: PbxSimulator, ami: AmiClient
) -> None:
    """A hang-up emits a dozen events at once: one send for them all, not one each."""
    await ami.event("FullyBooted")
    (session,) = sim.ami.sessions if sim.ami is not None else ()
    writes: list[bytes] = []
    real_write = session.writer.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        writes.append(bytes(data))
        real_write(data)

    session.writer.write = counted  # type: ignore[method-assign]
    names = [f"UserEvent{i}" for i in range(6)]
    for name in names:
        sim.pbx.emit([("Event", name), ("Privilege", "user,all")])
    await ami.event("UserEvent5")
    assert len(writes) == 1
    got = [dict(msg).get("Event", "") for msg in ami.messages]
    got = [name for name in got if name.startswith("UserEvent")]
    assert got == names
