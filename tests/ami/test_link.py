"""AmiLink over real loopback TCP against a scripted fake AMI server."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from callserver.ami.adapter import AmiActionError, AmiActionTimeout, AmiLink, AmiUnavailable
from callserver.config import AmiConfig
from callserver.pbx.events import (
    ChannelCreated,
    ChannelSnapshot,
    OriginateResult,
    PbxConnected,
    PbxDisconnected,
    PbxEvent,
)
from tests.ami.fake_ami import NEWCHANNEL, FakeAmi

WAIT = 3.0


class Recorder:
    """Collects the link's events; tests await the next one of a given type."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[PbxEvent] = asyncio.Queue()

    def __call__(self, event: PbxEvent) -> None:
        self.queue.put_nowait(event)

    async def next(self, kind: type[PbxEvent]) -> PbxEvent:
        async with asyncio.timeout(WAIT):
            while not isinstance(event := await self.queue.get(), kind):
                pass
        return event


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def make_link() -> AsyncIterator[Callable[..., tuple[AmiLink, Recorder]]]:
    links: list[AmiLink] = []

    def make(port: int, **overrides: float | str) -> tuple[AmiLink, Recorder]:
        settings: dict[str, float | str | int] = {
            "port": port,
            "ping_interval": 5.0,
            "action_timeout": 0.5,
            "reconnect_min": 0.05,
            "reconnect_max": 0.4,
        }
        settings.update(overrides)
        recorder = Recorder()
        link = AmiLink(AmiConfig.model_validate(settings), recorder)
        links.append(link)
        return link, recorder

    yield make
    for link in links:
        await link.stop()


async def test_logs_in_and_runs_actions(fake: FakeAmi, make_link) -> None:
    link, events = make_link(fake.port)
    await link.start()
    assert link.connected
    assert await events.next(PbxConnected) == PbxConnected(reconnect=False)
    assert fake.actions[0]["Username"] == "callserver"

    assert await link.command("core show version") == "line one\nline two"
    assert await link.getvar("PJSIP/trunk-00000000", "CS_QUEUE") == "support"
    assert await link.getvar("PJSIP/trunk-00000000", "UNSET") is None
    [snapshot] = await link.core_show_channels()
    assert isinstance(snapshot, ChannelSnapshot)
    assert (snapshot.uniqueid, snapshot.duration, snapshot.context) == (
        "1795431085.0",
        65,
        "callserver-hold",
    )
    await link.originate(
        channel="PJSIP/agent1",
        context="callserver-agent",
        exten="s",
        channel_id="cs-agent1-1",
        timeout=15,
        caller_id='"Caller 1" <+15550001>',
        variables={"CS_CALLER": "PJSIP/trunk-00000000", "CS_QUEUE": "support"},
    )
    sent = fake.actions[-1]
    assert sent["Async"] == "true" and sent["Timeout"] == "15000"
    assert sent["ChannelId"] == "cs-agent1-1"
    assert sent["Variable"].split("\n") == ["CS_CALLER=PJSIP/trunk-00000000", "CS_QUEUE=support"]

    fake.push(NEWCHANNEL)
    created = await events.next(ChannelCreated)
    assert created.uniqueid == "1795431085.0"  # type: ignore[union-attr]
    fake.push(
        b"Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: x\r\nResponse: Success\r\n"
        b"Channel: PJSIP/agent1-00000001\r\nReason: 4\r\nUniqueid: cs-agent1-1\r\n\r\n"
    )
    result = await events.next(OriginateResult)
    assert result == OriginateResult("x", "cs-agent1-1", "PJSIP/agent1-00000001", True, 4)


async def test_ping_watchdog_closes_a_silent_link_and_reconnects(fake: FakeAmi, make_link) -> None:
    link, events = make_link(fake.port, ping_interval=0.05, action_timeout=0.1)
    await link.start()
    await events.next(PbxConnected)
    fake.answer_pings = False  # the socket stays open but nothing answers: half-open
    down = await events.next(PbxDisconnected)
    assert "Ping" in down.reason  # type: ignore[union-attr]
    fake.answer_pings = True
    assert await events.next(PbxConnected) == PbxConnected(reconnect=True)
    assert link.connected


async def test_server_drop_gives_disconnected_then_reconnected(fake: FakeAmi, make_link) -> None:
    link, events = make_link(fake.port)
    await link.start()
    await events.next(PbxConnected)
    fake.drop()
    down = await events.next(PbxDisconnected)
    assert "closed" in down.reason  # type: ignore[union-attr]
    assert await events.next(PbxConnected) == PbxConnected(reconnect=True)
    assert fake.logins.qsize() == 2


async def test_failed_logins_back_off_exponentially_up_to_the_maximum(make_link) -> None:
    fake = FakeAmi(secret="other")
    await fake.start()
    try:
        link, _ = make_link(fake.port, reconnect_min=0.05, reconnect_max=0.2)
        await link.start()
        assert not link.connected
        times = []
        async with asyncio.timeout(WAIT):
            for _ in range(5):
                times.append(await fake.logins.get())
        gaps = [b - a for a, b in itertools.pairwise(times)]
        for gap, expected in zip(gaps, [0.05, 0.1, 0.2, 0.2], strict=True):
            assert expected * 0.9 <= gap < expected + 0.15
    finally:
        await link.stop()
        await fake.close()


async def test_action_error_carries_the_ami_message(fake: FakeAmi, make_link) -> None:
    fake.errors["Redirect"] = "Channel does not exist: PJSIP/trunk-deadbeef"
    link, _ = make_link(fake.port)
    await link.start()
    with pytest.raises(AmiActionError) as caught:
        await link.redirect("PJSIP/trunk-deadbeef", "callserver-message", "s")
    assert caught.value.action == "Redirect"
    assert caught.value.message == "Channel does not exist: PJSIP/trunk-deadbeef"


async def test_unanswered_action_times_out_and_the_link_stays(fake: FakeAmi, make_link) -> None:
    fake.silent.add("Hangup")
    link, _ = make_link(fake.port, action_timeout=0.1)
    await link.start()
    with pytest.raises(AmiActionTimeout):
        await link.hangup("cs-agent1-1")
    assert link.connected
    await link.setvar("PJSIP/trunk-00000000", "CS_QUEUE", "support")


async def test_actions_while_disconnected_fail_at_once_and_are_never_resent(make_link) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    link, events = make_link(port)
    await link.start()
    assert not link.connected
    async with asyncio.timeout(0.05):
        with pytest.raises(AmiUnavailable):
            await link.hangup("PJSIP/agent1-00000001")
    fake = FakeAmi()
    await fake.start(port)
    try:
        await events.next(PbxConnected)
        await link.command("core show version")
        sent = [a["Action"] for a in fake.actions]
        assert [a for a in sent if a != "Filter"] == ["Login", "Command"]
        assert sent.index("Command") > sent.index("Filter")  # filters set before the link is up
    finally:
        await link.stop()
        await fake.close()


async def test_garbage_is_logged_and_the_link_survives(
    fake: FakeAmi, make_link, caplog: pytest.LogCaptureFixture
) -> None:
    link, events = make_link(fake.port)
    await link.start()
    with caplog.at_level(logging.WARNING, logger="callserver.ami"):
        fake.push(b"\x00\xff\xfe\x80\x81 junk\r\nno colon here\r\n\r\n")
        fake.push(b"Neither: event nor response\r\n\r\n")
        fake.push(NEWCHANNEL)
        await events.next(ChannelCreated)
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "without 'Key: value'" in messages
    assert "neither Event nor Response" in messages
    assert link.connected
    assert await link.command("x") == "line one\nline two"
