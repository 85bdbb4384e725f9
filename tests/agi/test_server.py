"""FastAGI server over loopback: the test plays Asterisk's side of the socket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from callserver.agi.server import (
    AgiError,
    AgiHangup,
    AgiResponse,
    AgiSession,
    FastAgiServer,
    inbound_call,
)
from callserver.pbx.events import InboundCall
from tests.ami.traces import traces_dir

WAIT = 3.0

S9_ENV_FALLBACK = {
    "agi_network": "yes",
    "agi_network_script": "inbound",
    "agi_request": "agi://127.0.0.1:4573/inbound",
    "agi_channel": "PJSIP/trunk-00000000",
    "agi_uniqueid": "1795431085.0",
    "agi_callerid": "+15550001",
    "agi_calleridname": "Caller 1",
    "agi_dnid": "500",
    "agi_context": "from-trunk",
    "agi_extension": "500",
    "agi_priority": "3",
    "agi_accountcode": "",
}


def s9_env() -> dict[str, str]:
    """The first session's agi_ headers as recorded in s9 (inline copy if traces are absent)."""
    directory = traces_dir()
    if directory is None:
        return dict(S9_ENV_FALLBACK)
    env: dict[str, str] = {}
    for line in (directory / "s9_acd_answered.agi.log").read_text().splitlines():
        if line.startswith("agi_"):
            key, _, value = line.partition(": ")
            env[key] = value
        elif env and line == "":
            return env
    return env


def headers(env: dict[str, str]) -> bytes:
    return "".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n"


Handler = Callable[[AgiSession], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[FastAgiServer]]]:
    servers: list[FastAgiServer] = []

    async def start(handler: Handler, header_timeout: float = 1.0) -> FastAgiServer:
        server = FastAgiServer("127.0.0.1", 0, handler, header_timeout=header_timeout)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


class Asterisk:
    """The PBX end of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> Asterisk:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def expect(self, command: str, *reply: str) -> None:
        async with asyncio.timeout(WAIT):
            assert (await self.reader.readline()).decode().rstrip("\n") == command
        self.writer.write("".join(f"{line}\n" for line in reply).encode())

    async def closed_by_server(self) -> bool:
        async with asyncio.timeout(WAIT):
            return await self.reader.read() == b""

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def test_inbound_session_reads_env_and_round_trips_commands(serve) -> None:
    seen: dict[str, object] = {}

    async def handler(session: AgiSession) -> None:
        seen["call"] = inbound_call(session)
        await session.set_variable("CS_QUEUE", "support")
        seen["caller"] = await session.get_variable("CS_CALLER")
        seen["unset"] = await session.get_variable("NOPE")
        seen["digit"] = await session.wait_for_digit(5000)
        seen["data"] = await session.get_data("beep", 4000, 1)
        seen["stream"] = await session.command('STREAM FILE beep "1"')

    server = await serve(handler)
    pbx = await Asterisk.connect(server.port)
    pbx.writer.write(headers(s9_env()))
    await pbx.expect('SET VARIABLE CS_QUEUE "support"', "200 result=1")
    await pbx.expect("GET VARIABLE CS_CALLER", "200 result=1 (PJSIP/trunk-00000021)")
    await pbx.expect("GET VARIABLE NOPE", "200 result=0")
    await pbx.expect("WAIT FOR DIGIT 5000", "200 result=49")
    await pbx.expect("GET DATA beep 4000 1", "200 result= (timeout)")
    await pbx.expect('STREAM FILE beep "1"', "200 result=0 endpos=3404")
    assert await pbx.closed_by_server()  # returning closes: the channel resumes its dialplan
    await pbx.close()
    assert seen["call"] == InboundCall(
        uniqueid="1795431085.0",
        channel="PJSIP/trunk-00000000",
        caller_num="+15550001",
        caller_name="Caller 1",
        dnis="500",
        script="inbound",
    )
    assert (seen["caller"], seen["unset"], seen["digit"], seen["data"]) == (
        "PJSIP/trunk-00000021",
        None,
        "1",
        "",
    )
    assert seen["stream"] == AgiResponse(200, "0", "endpos=3404")


async def test_early_close_and_slow_client_do_not_block_other_sessions(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    served: asyncio.Queue[str] = asyncio.Queue()

    async def handler(session: AgiSession) -> None:
        served.put_nowait(session.uniqueid)

    server = await serve(handler, header_timeout=0.3)
    with caplog.at_level(logging.WARNING, logger="callserver.agi"):
        probe = await Asterisk.connect(server.port)  # a health check: half the headers, then gone
        probe.writer.write(b"agi_network: yes\nagi_channel: PJSIP/trunk-1\n")
        await probe.close()
        loris = await Asterisk.connect(server.port)  # stalls before the blank line
        loris.writer.write(b"agi_network: yes\n")
        good = await Asterisk.connect(server.port)
        good.writer.write(headers(s9_env()))
        async with asyncio.timeout(0.2):  # well before the slow client's header timeout
            assert await served.get() == "1795431085.0"
        assert await good.closed_by_server()
        assert await loris.closed_by_server()
        await good.close()
        await loris.close()
    logged = " | ".join(r.getMessage() for r in caplog.records)
    assert "before the blank line" in logged
    assert "no complete agi_ headers within 0.3 s" in logged
    assert "127.0.0.1:" in logged
    assert served.empty()


async def test_garbage_headers_are_dropped_without_calling_the_handler(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[AgiSession] = []

    async def handler(session: AgiSession) -> None:
        calls.append(session)

    server = await serve(handler)
    with caplog.at_level(logging.WARNING, logger="callserver.agi"):
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00\xff\xfe\n\n", b"\n"):
            client = await Asterisk.connect(server.port)
            client.writer.write(junk)
            assert await client.closed_by_server()
            await client.close()
    assert calls == []
    assert "not an agi_ header" in caplog.text


async def test_hangup_from_asterisk_raises_agi_hangup(serve) -> None:
    outcome: asyncio.Queue[str] = asyncio.Queue()

    async def handler(session: AgiSession) -> None:
        try:
            await session.stream_file("tt-monkeys", "#")
        except AgiHangup:
            outcome.put_nowait("hangup")
        try:
            await session.verbose("never sent")
        except AgiHangup:
            outcome.put_nowait("still hung up")

    server = await serve(handler)
    pbx = await Asterisk.connect(server.port)
    pbx.writer.write(headers(s9_env()))
    await pbx.expect('STREAM FILE tt-monkeys "#"', "HANGUP")
    assert await pbx.closed_by_server()  # nothing else was written
    await pbx.close()
    assert [outcome.get_nowait(), outcome.get_nowait()] == ["hangup", "still hung up"]


async def test_script_hangup_then_asterisk_hangup_line(serve) -> None:
    outcome: asyncio.Queue[str] = asyncio.Queue()

    async def handler(session: AgiSession) -> None:
        await session.hangup()
        outcome.put_nowait("hung up")
        with pytest.raises(AgiHangup):
            await session.command("GET VARIABLE X")
        outcome.put_nowait("saw HANGUP")

    server = await serve(handler)
    pbx = await Asterisk.connect(server.port)
    pbx.writer.write(headers(s9_env()))
    await pbx.expect("HANGUP", "200 result=1", "HANGUP")
    await pbx.expect("GET VARIABLE X")
    assert await pbx.closed_by_server()
    await pbx.close()
    assert [outcome.get_nowait(), outcome.get_nowait()] == ["hung up", "saw HANGUP"]


async def test_error_replies_raise_agi_error_with_the_text(serve) -> None:
    errors: asyncio.Queue[AgiError] = asyncio.Queue()

    async def handler(session: AgiSession) -> None:
        for line in ("FOO BAR", "GET DATA", "ANSWER"):
            try:
                await session.command(line)
            except AgiError as err:
                errors.put_nowait(err)

    server = await serve(handler)
    pbx = await Asterisk.connect(server.port)
    pbx.writer.write(headers(s9_env()))
    await pbx.expect("FOO BAR", "510 Invalid or unknown command")
    await pbx.expect(
        "GET DATA",
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
        "520 End of proper usage.",
    )
    await pbx.expect("ANSWER", "511 Command Not Permitted on a dead channel")
    assert await pbx.closed_by_server()
    await pbx.close()
    got = [errors.get_nowait() for _ in range(3)]
    assert [e.code for e in got] == [510, 520, 511]
    assert got[0].text == "Invalid or unknown command"
    assert "Usage: GET DATA" in got[1].text


async def test_stop_ends_a_running_session(serve) -> None:
    started = asyncio.Event()

    async def handler(session: AgiSession) -> None:
        started.set()
        await session.command("WAIT FOR DIGIT -1")  # never answered

    server = await serve(handler)
    pbx = await Asterisk.connect(server.port)
    pbx.writer.write(headers(s9_env()))
    async with asyncio.timeout(WAIT):
        await started.wait()
    await pbx.expect("WAIT FOR DIGIT -1")
    await server.stop()
    assert await pbx.closed_by_server()
    await pbx.close()
