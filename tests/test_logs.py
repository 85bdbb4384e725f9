"""PeerLog and printable(): what a misbehaving peer can make the log say, and how often."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from callserver.logs import PeerLog, printable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[tuple[float, Callable[[], None]]] = []

    def __call__(self) -> float:
        return self.now

    def schedule(self, delay: float, callback: Callable[[], None]) -> None:
        self.timers.append((self.now + delay, callback))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, callback in due:
            callback()


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_repeats_are_counted_and_the_count_is_written_when_the_window_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    peers = PeerLog(logging.getLogger("test.peers"), interval=60, clock=clock, schedule=clock.schedule)
    with caplog.at_level(logging.WARNING, logger="test.peers"):
        for _ in range(500):
            peers.warning("10.0.0.5", "refused", "refused %s", "10.0.0.5")
        peers.warning("10.0.0.6", "refused", "refused %s", "10.0.0.6")
        assert _lines(caplog) == ["refused 10.0.0.5", "refused 10.0.0.6"]
        clock.advance(61)  # the timer fires: no further peer line is needed to learn the count
    assert _lines(caplog)[2] == "499 more like this from 10.0.0.5 (refused) in the last 61 s"
    assert len(caplog.records) == 3


def test_memory_and_lines_stay_bounded_whatever_the_number_of_peers(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    peers = PeerLog(logging.getLogger("test.many"), interval=60, max_keys=100, max_lines=50, clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.many"):
        for i in range(10_000):
            peers.warning(f"10.{i // 256 % 256}.{i % 256}.1", "bad headers", "bad headers from peer %d", i)
        assert peers.tracked <= 100
        assert len(caplog.records) <= 50
        clock.advance(61)
        peers.flush()
    assert "further log lines about misbehaving peers were suppressed" in caplog.records[-1].getMessage()
    assert len(caplog.records) <= 52


def test_peer_bytes_are_escaped_quoted_and_cut() -> None:
    assert printable(b"\x1b[31mred\x00\xff") == "'\\x1b[31mred\\x00\\xff'"
    assert printable("caf\u00e9\n") == "'caf\\xe9\\n'"
    long = printable("x" * 500, limit=10)
    assert long == "'xxxxxxxxxx'...(500 chars)"
    assert all(32 <= ord(c) < 127 for c in printable(bytes(range(256))))


def test_the_server_log_keeps_its_format_without_thread_process_or_source(tmp_path: Path) -> None:
    log_file = tmp_path / "server.log"
    code = (
        "import logging\n"
        "from callserver.logs import configure_logging\n"
        f"configure_logging(logging.INFO, filename={str(log_file)!r})\n"
        "logging.getLogger('callserver.acd').info('call %s ended', 'c1')\n"
        "logging.getLogger('callserver.acd').debug('not written')\n"
        "logging.getLogger('alembic').info('not written either')\n"
        "record = logging.getLogger('x').makeRecord('x', logging.INFO, '', 0, 'm', (), None)\n"
        "print(record.thread, record.process, record.funcName)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "None", "None"]
    lines = log_file.read_text().splitlines()
    assert len(lines) == 1
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(stamp + r" INFO    callserver\.acd: call c1 ended", lines[0])
