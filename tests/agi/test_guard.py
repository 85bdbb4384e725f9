"""FastAGI against hostile peers over loopback: addresses outside the allowlist, peers that stop
answering, peers that answer garbage, more sessions than the server has room for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from callserver.agi.commands import reply_budget
from callserver.agi.server import AgiSession, AgiTimeout, FastAgiServer
from tests.agi.test_server import Asterisk, headers, s9_env

WAIT = 5.0
Handler = Callable[[AgiSession], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[FastAgiServer]]]:
    servers: list[FastAgiServer] = []

    async def start(handler: Handler, **options: Any) -> FastAgiServer:
        server = FastAgiServer("127.0.0.1", 0, handler, **options)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


async def connect_from(source: str, port: int) -> Asterisk:
    """A client bound to another loopback address (Linux answers the whole of 127.0.0.0/8)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    return Asterisk(reader, writer)


async def test_peer_outside_the_allowlist_is_refused_with_one_log_line(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    handled: list[str] = []

    async def handler(session: AgiSession) -> None:
        handled.append(session.uniqueid)
        await session.set_variable("CS_QUEUE", "support")

    server = await serve(handler, allowed_peers=["127.0.0.1"])
    with caplog.at_level(logging.WARNING, logger="callserver.agi"):
        for _ in range(20):
            stranger = await connect_from("127.0.0.2", server.port)
            stranger.writer.write(headers(s9_env()))
            assert await stranger.closed_by_server()
            await stranger.close()
        pbx = await connect_from("127.0.0.1", server.port)
        pbx.writer.write(headers(s9_env()))
        await pbx.expect('SET VARIABLE CS_QUEUE "support"', "200 result=1")
        assert await pbx.closed_by_server()
        await pbx.close()
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    print(f"20 connections from 127.0.0.2: {server.refused} refused, {len(refusals)} log line(s)")
    assert handled == ["1795431085.0"]  # only the allowlisted PBX got a session
    assert server.refused == 20
    assert len(refusals) == 1
    assert "127.0.0.2" in refusals[0].getMessage()


async def test_peer_that_never_answers_a_command_is_closed_after_the_deadline(serve) -> None:
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def handler(session: AgiSession) -> None:
        try:
            await session.set_variable("CS_QUEUE", "support")
        except BaseException as err:
            outcome.set_result(err)
            raise

    server = await serve(handler, reply_timeout=0.3)
    hung = await Asterisk.connect(server.port)
    hung.writer.write(headers(s9_env()))
    async with asyncio.timeout(WAIT):
        assert (await hung.reader.readline()).startswith(b"SET VARIABLE")
        # nothing is answered: the server must give up on its own
        assert await hung.reader.read() == b""
        error = await outcome
    await hung.close()
    assert isinstance(error, AgiTimeout)
    assert server.sessions == 0


def test_every_command_has_a_deadline_long_enough_for_what_it_waits_for() -> None:
    assert reply_budget("SET VARIABLE X 1", 10, 300) == 10
    assert reply_budget("ANSWER", 10, 300) == 10
    assert reply_budget("WAIT FOR DIGIT 8000", 10, 300) == 318
    assert reply_budget("WAIT FOR DIGIT -1", 10, 300) == 310
    assert reply_budget('RECORD FILE /r/x wav "#" 120000 BEEP s=5', 10, 300) == 430
    assert reply_budget("GET DATA beep 4000 3", 10, 300) == 322
    assert reply_budget('STREAM FILE press-1 "0123456789"', 10, 300) == 310


async def test_peer_answering_garbage_is_one_warning_without_raw_bytes(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(session: AgiSession) -> None:
        await session.set_variable("CS_QUEUE", "support")
        await session.set_variable("CS_NEXT", "hold")

    server = await serve(handler)
    with caplog.at_level(logging.DEBUG, logger="callserver"):
        for _ in range(10):
            peer = await Asterisk.connect(server.port)
            peer.writer.write(headers(s9_env()))
            await peer.expect('SET VARIABLE CS_QUEUE "support"', "\x1b[31mHTTP/1.1 200 OK\x00\xff")
            assert await peer.closed_by_server()  # nothing more is sent to a peer that talks nonsense
            await peer.close()
    ours = [r for r in caplog.records if r.name.startswith("callserver")]
    assert [r.levelname for r in ours if r.levelno >= logging.WARNING] == ["WARNING"]
    assert all(r.exc_info is None for r in ours)
    text = "\n".join(r.getMessage() for r in ours)
    assert "\x1b" not in text and "\x00" not in text
    assert "HTTP/1.1" in text  # escaped, but still there for whoever reads the log


async def test_when_full_the_session_stuck_longest_makes_way_for_a_new_call(serve) -> None:
    served: asyncio.Queue[str] = asyncio.Queue()

    async def handler(session: AgiSession) -> None:
        await session.set_variable("CS_QUEUE", "support")
        served.put_nowait(session.env.get("agi_arg_1", ""))

    server = await serve(handler, max_sessions=3, reply_timeout=30, stall_after=0.3)
    stuck = []
    for _ in range(3):
        peer = await Asterisk.connect(server.port)
        peer.writer.write(headers(s9_env()))
        assert (await peer.reader.readline()).startswith(b"SET VARIABLE")
        stuck.append(peer)
    assert server.sessions == 3
    # the server is full: this one waits in the backlog until the oldest stuck session is cut off
    real = await Asterisk.connect(server.port)
    real.writer.write(headers({**s9_env(), "agi_arg_1": "real"}))
    await real.expect('SET VARIABLE CS_QUEUE "support"', "200 result=1")
    async with asyncio.timeout(WAIT):
        assert await served.get() == "real"
    assert await stuck[0].closed_by_server()
    assert server.evicted == 1
    assert await real.closed_by_server()
    for peer in [*stuck, real]:
        await peer.close()


async def test_many_bad_peers_give_a_bounded_number_of_log_lines(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(session: AgiSession) -> None:
        raise AssertionError("garbage must never reach a handler")

    server = await serve(handler, header_timeout=0.5)
    junk = [
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x00\xff\xfe\n\n",
        b"\n",
        b"agi_x: 1\n",
        b"agi_" + b"a" * 9000 + b"\n",
    ]
    with caplog.at_level(logging.INFO, logger="callserver.agi"):
        for i in range(300):
            peer = await Asterisk.connect(server.port)
            peer.writer.write(junk[i % len(junk)])
            if i % len(junk) == 3:
                peer.writer.write_eof()  # closes before the blank line
            assert await peer.closed_by_server()
            await peer.close()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    print(f"300 malformed FastAGI header blocks: {len(lines)} warning line(s)")
    assert len(lines) <= 5  # one per kind of trouble from this address
    assert all("\x00" not in line for line in lines)


async def test_files_under_the_sounds_directory_are_named_without_a_server_path(serve, tmp_path) -> None:
    sounds = tmp_path / "asterisk" / "sounds"

    async def handler(session: AgiSession) -> None:
        await session.stream_file(f"{sounds}/callserver/en/3f2a", "12")
        await session.command(f'RECORD FILE {sounds}/callserver/recordings/17-record wav "#" 120000 BEEP')
        await session.stream_file("vm-goodbye")

    server = await serve(handler, sounds_dir=str(sounds))
    pbx = await Asterisk.connect(server.port)
    pbx.writer.write(headers(s9_env()))
    await pbx.expect('STREAM FILE callserver/en/3f2a "12"', "200 result=0 endpos=100")
    await pbx.expect(
        'RECORD FILE callserver/recordings/17-record wav "#" 120000 BEEP', "200 result=0 endpos=9"
    )
    await pbx.expect('STREAM FILE vm-goodbye ""', "200 result=0 endpos=100")
    assert await pbx.closed_by_server()
    await pbx.close()
    # a peer outside the allowlist hears nothing at all, paths or otherwise
    refusing = await serve(handler, allowed_peers=["127.0.0.1"], sounds_dir=str(sounds))
    stranger = await connect_from("127.0.0.2", refusing.port)
    stranger.writer.write(headers(s9_env()))
    async with asyncio.timeout(WAIT):
        assert await stranger.reader.read() == b""
    await stranger.close()
