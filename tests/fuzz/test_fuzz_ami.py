"""Fuzz the AMI wire parser and the translator with the recorded Asterisk transcripts as seeds, in
process (many inputs) and through a running server's real read path (garbage pushed down its link)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callserver.ami.translator import AmiTranslator
from callserver.ami.wire import parse_lines
from callserver.pbx.events import PbxEvent
from tests.ami.traces import ami_logs, split_messages, traces_dir, wire_stream

from .budget import fuzz_settings, ran
from .mutations import mutated_lines
from .server import FuzzServer, fuzz_server

# huge generated frames and blocks: a failure must be reported, not turned into a warning about its size
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Generating overly large repr")]

MAX_SEEDS_PER_FILE = 400


def _seeds() -> list[list[str]]:
    directory = traces_dir()
    assert directory is not None, "the AMI transcripts (../shared/ami-traces) are needed as seeds"
    seeds: list[list[str]] = []
    for path in ami_logs(directory):
        for tag in ("RECV", "SENT"):
            found = split_messages(wire_stream(path, tag))
            seeds.extend(message.splitlines() for message in found[:MAX_SEEDS_PER_FILE])
    assert len(seeds) > 500
    return seeds


SEEDS = _seeds()


@fuzz_settings(short=500, long=40_000)
@given(lines=mutated_lines(SEEDS))
def test_parser_and_translator_survive_mutated_transcripts(lines: list[str]) -> None:
    ran("AMI parser + translator (in process)")
    frame = parse_lines(lines)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in frame.headers.items())
    assert frame.kind in {"event", "response", "unknown"}
    event = AmiTranslator().translate(frame.headers)
    assert event is None or isinstance(event, PbxEvent)


class _FakeAsterisk(socketserver.BaseRequestHandler):
    """Banner, Login accepted, Ping and list actions answered; fuzz chunks pushed in between."""

    server: _AmiServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        with self.server.lock:
            self.server.client = sock
            sock.sendall(b"Asterisk Call Manager/11.0.0\r\n")
        buffer = b""
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\r\n\r\n" in buffer:
                raw, buffer = buffer.split(b"\r\n\r\n", 1)
                headers = dict(line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line)
                self._answer(sock, headers)

    def _answer(self, sock: socket.socket, headers: dict[str, str]) -> None:
        action, aid = headers.get("Action", ""), headers.get("ActionID", "")
        replies = [f"Response: Success\r\nActionID: {aid}\r\nMessage: ok\r\n\r\n"]
        if action == "Ping":
            self.server.pings += 1
            self.server.pinged.set()
        elif action == "CoreShowChannels":
            replies = [
                f"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\nMessage: follow\r\n\r\n",
                f"Event: CoreShowChannelsComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n"
                "ListItems: 0\r\n\r\n",
            ]
        with self.server.lock:
            for reply in replies:
                sock.sendall(reply.encode())


class _AmiServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FakeAsterisk)
        self.lock = threading.Lock()
        self.client: socket.socket | None = None
        self.pings = 0
        self.pinged = threading.Event()

    def push(self, data: bytes) -> None:
        with self.lock:
            if self.client is not None:
                try:
                    self.client.sendall(data)
                except OSError:
                    self.client = None


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FuzzServer, _AmiServer]]:
    ami = _AmiServer()
    thread = threading.Thread(target=ami.serve_forever, daemon=True)
    thread.start()
    try:
        with fuzz_server(Path(tmp_path_factory.mktemp("ami")), ami_port=ami.server_address[1]) as server:
            assert ami.pinged.wait(10), "the server never logged in to the fake Asterisk"
            yield server, ami
            ami.pinged.clear()
            assert ami.pinged.wait(10), "the AMI link stopped answering after the fuzz"
            assert server.alive(), server.log[-5000:]
        assert server.proc.returncode == 0, server.log[-5000:]
        assert server.problems() == [], "".join(server.problems())[:5000]
    finally:
        ami.shutdown()
        ami.server_close()


@fuzz_settings(short=150, long=15_000)
@given(messages=st.lists(mutated_lines(SEEDS), min_size=1, max_size=4))
def test_server_read_path_survives_garbage_from_asterisk(
    linked: tuple[FuzzServer, _AmiServer], messages: list[list[str]]
) -> None:
    server, ami = linked
    ran("AMI wire, server read path (over TCP)", len(messages))
    chunk = b"".join(
        "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" for lines in messages
    )
    ami.push(chunk)
    assert server.alive()
