"""Fuzz the FastAGI session reader: header blocks and replies taken from the recorded transcripts and
broken, in process (the header reader and the command/reply exchange) and against a running server
over TCP, where the inbound, agent and voicemail scripts and the IVR answer them."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callserver.agi.headers import BadHeaders, read_env
from callserver.agi.session import AgiError, AgiHangup, AgiResponse, AgiSession
from tests.ami.traces import traces_dir

from .budget import fuzz_settings, ran
from .mutations import NASTY_TEXT, mutated_lines
from .server import FuzzServer

# huge generated frames and blocks: a failure must be reported, not turned into a warning about its size
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Generating overly large repr")]

_RECORD = re.compile(r"^# \+[0-9.]+ ([A-Z]+)$")


def _transcripts() -> tuple[list[list[str]], list[str]]:
    """(header blocks, replies) Asterisk sent in the recorded FastAGI conversations."""
    directory = traces_dir()
    assert directory is not None, "the FastAGI transcripts (../shared/ami-traces) are needed as seeds"
    blocks: list[list[str]] = []
    replies: list[str] = []
    for path in sorted(directory.glob("*.agi.log")):
        tag, block = "", []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            record = _RECORD.match(line)
            if record:
                tag = record[1]
                continue
            if tag != "RECV":
                continue
            if line.startswith("agi_"):
                block.append(line)
            elif block and not line:
                blocks.append(block)
                block = []
            elif line:
                replies.append(line)
    assert blocks and replies
    return blocks, replies


BLOCKS, REPLIES = _transcripts()
SCRIPTS = ["inbound", "agent", "voicemail", "nope", ""]
HEADERS = mutated_lines(BLOCKS).map(
    lambda lines: "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n\n"
)
REPLY = st.sampled_from(REPLIES) | mutated_lines([[r] for r in REPLIES]).map(" ".join) | NASTY_TEXT
GARBAGE = st.binary(max_size=300)


class _Writer:
    """Enough of a StreamWriter for AgiSession: what it writes is kept, nothing goes anywhere."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def _run(loop: asyncio.AbstractEventLoop, make: Callable[[], Awaitable[Any]]) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(5):  # everything is fed before the reader starts: no wait is right
            return await make()

    return loop.run_until_complete(bounded())


def test_header_reader_takes_only_what_asterisk_sends() -> None:
    loop = asyncio.new_event_loop()
    try:

        @fuzz_settings(short=400, long=20_000)
        @given(data=HEADERS | GARBAGE)
        def check(data: bytes) -> None:
            ran("FastAGI header reader (in process)")

            async def read() -> dict[str, str] | None:
                reader = asyncio.StreamReader(limit=8192)
                reader.feed_data(data)
                reader.feed_eof()
                try:
                    return await read_env(reader)
                except BadHeaders:
                    return None

            env = _run(loop, read)
            if env is not None:
                assert env["agi_channel"] and env["agi_uniqueid"]
                assert all(key.startswith("agi_") for key in env)
                assert not any(re.search(r"[\x00-\x08\x0a-\x1f\x7f]", v) for v in env.values())

        check()
    finally:
        loop.close()


def test_replies_give_a_response_or_an_agi_exception() -> None:
    loop = asyncio.new_event_loop()
    calls: list[Callable[[AgiSession], Awaitable[Any]]] = [
        lambda s: s.command("ANSWER"),
        lambda s: s.get_variable("CS_VOICEMAIL"),
        lambda s: s.stream_file("beep", "0123456789*#"),
        lambda s: s.wait_for_digit(5000),
        lambda s: s.get_data("beep", 6000, 3),
        lambda s: s.command('RECORD FILE /x/y wav "#" 1000 BEEP'),
    ]
    try:

        @fuzz_settings(short=400, long=20_000)
        @given(replies=st.lists(REPLY, min_size=0, max_size=6), which=st.sampled_from(calls))
        def check(replies: list[str], which: Callable[[AgiSession], Awaitable[Any]]) -> None:
            ran("FastAGI reply reader (in process)")

            async def exchange() -> object:
                reader = asyncio.StreamReader(limit=8192)
                reader.feed_data("".join(f"{r}\n" for r in replies).encode("utf-8", "surrogateescape"))
                reader.feed_eof()
                session = AgiSession(reader, _Writer(), {"agi_channel": "PJSIP/x"}, "fuzz")  # type: ignore[arg-type]
                try:
                    return await which(session)
                except (AgiError, AgiHangup) as err:
                    return err

            outcome = _run(loop, exchange)
            assert outcome is None or isinstance(outcome, AgiResponse | AgiError | AgiHangup | str)

        check()
    finally:
        loop.close()


@fuzz_settings(short=25, long=2_500)
@given(
    headers=HEADERS,
    script=st.sampled_from(SCRIPTS),
    dnis=st.sampled_from(["500", "600", "999", ""]),
    replies=st.lists(REPLY, max_size=8),
)
def test_server_survives_hostile_fastagi_peers(
    server: FuzzServer, headers: bytes, script: str, dnis: str, replies: list[str]
) -> None:
    ran("FastAGI sessions against the server (over TCP)")
    # steer part of the block to real scripts and numbers so the handlers, not only the reader, run
    block = headers.replace(b"agi_network_script: inbound", f"agi_network_script: {script}".encode())
    block = re.sub(rb"agi_dnid: [^\n]*", f"agi_dnid: {dnis}".encode(), block)
    with socket.create_connection(("127.0.0.1", server.agi_port), timeout=5) as sock:
        sock.sendall(block)
        sock.settimeout(1)
        for reply in replies:
            try:
                if not sock.recv(65536):
                    break
                sock.sendall(reply.encode("utf-8", "surrogateescape") + b"\n")
            except (TimeoutError, ConnectionError):
                break
    assert server.alive()


def test_server_still_serves_a_real_call_after_the_fuzz(server: FuzzServer) -> None:
    block = "".join(f"{line}\n" for line in BLOCKS[0]) + "\n"
    commands = []
    with socket.create_connection(("127.0.0.1", server.agi_port), timeout=5) as sock:
        sock.sendall(block.encode())
        reader = sock.makefile("rb")
        while line := reader.readline():
            commands.append(line.decode().strip())
            sock.sendall(b"200 result=1\n")
        reader.close()
    assert commands[-1].startswith("SET VARIABLE CS_QUEUE "), commands  # queued as usual, then closed
