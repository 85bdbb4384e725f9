"""AMI ingest: how many AMI messages a second callserver reads, parses and translates end to end,
against panoramisk's raw parse rate, on the recorded load transcript, in the same run.

Workload: the bytes a real Asterisk 22 sent in `../shared/ami-traces/s8_load.ami.log.gz` (50 queued
calls with every event class on: 8,000+ messages, 3.3 MB), sent REPEAT times over loopback TCP.

- `panoramisk Message.from_line`: panoramisk 1.4's parser alone, on the messages already cut and
  decoded (no socket, no splitting): the reference rate.
- `callserver parser alone`: `ami.wire.parse_message` on the same strings.
- `callserver end to end`: what the server runs: an `AmiConnection` reads the socket (64 KiB
  chunks cut at blank lines by `FrameReader`), dispatches each frame, and `AmiTranslator`
  turns events into PBX events handed to a callback (as `AmiLink` does). Timed from the first byte
  sent (by a thread with a blocking socket, so the sender costs the loop nothing) to the last
  frame handled.
- `line by line (before)`: the read loop callserver had before (`StreamReader.readline` per line,
  then the same parser and translator), for comparison.

Each figure is the best of RUNS runs (the machine is shared); the load average is printed.
Command: `.venv/bin/python -m bench.ami_bench`.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.machine import describe_machine, load_average
from callserver.ami.protocol import AmiConnection
from callserver.ami.translator import AmiTranslator
from callserver.ami.wire import Frame, parse_lines, parse_message

ROOT = Path(__file__).resolve().parents[1]
TRACE = ROOT.parent / "shared" / "ami-traces" / "s8_load.ami.log.gz"
REPEAT = 4
RUNS = 5
_RECORD = re.compile(rb"^# \+([0-9.]+) ([A-Z]+)\r?\n", re.MULTILINE)


def wire_bytes(path: Path) -> bytes:
    """What Asterisk sent (RECV records), record headers dropped, banner excluded."""
    raw = gzip.decompress(path.read_bytes())
    heads = list(_RECORD.finditer(raw))
    parts = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(raw)
        if head[2] == b"RECV":
            parts.append(raw[head.end() : end])
    return b"".join(parts)


def message_texts(data: bytes) -> list[str]:
    text = data.decode("utf-8", "replace")
    return [m.strip() for m in text.split("\r\n\r\n") if m.strip()]


def _best(fn: Callable[[], None]) -> tuple[float, float]:
    """Shortest wall time and shortest CPU time (this thread) of RUNS runs of `fn`."""
    walls, cpus = [], []
    for _ in range(RUNS):
        t, c = time.perf_counter(), time.thread_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.thread_time() - c)
    return min(walls), min(cpus)


def panoramisk_rate(texts: list[str]) -> tuple[int, float, float]:
    from panoramisk.message import Message

    def once() -> None:
        for text in texts:
            Message.from_line(text)

    wall, cpu = _best(once)
    return len(texts), len(texts) / wall, len(texts) / cpu


def parser_rate(texts: list[str]) -> tuple[int, float, float]:
    def once() -> None:
        for text in texts:
            parse_message(text)

    wall, cpu = _best(once)
    return len(texts), len(texts) / wall, len(texts) / cpu


def _serve_once(data: bytes) -> tuple[int, threading.Thread]:
    """A one-connection server in a thread: banner, then `data`, then close."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"Asterisk Call Manager/11.0.0\r\n")
            time.sleep(0.05)  # the client is reading its banner and starting its loop
            conn.sendall(data)
        listener.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


async def _end_to_end(data: bytes) -> tuple[int, float, float]:
    translator = AmiTranslator()
    events = 0
    frames = 0

    def on_frame(frame: Frame) -> None:
        nonlocal events, frames
        frames += 1
        if translator.translate(frame.headers) is not None:
            events += 1

    port, thread = _serve_once(data)
    conn = await AmiConnection.open("127.0.0.1", port, 5.0, on_frame)
    await asyncio.sleep(0.04)
    t, c = time.perf_counter(), time.thread_time()
    await conn.closed.wait()
    elapsed, cpu = time.perf_counter() - t, time.thread_time() - c
    await conn.aclose()
    thread.join()
    return frames, elapsed, cpu


async def _line_by_line(data: bytes) -> tuple[int, float, float]:
    translator = AmiTranslator()
    frames = 0
    port, thread = _serve_once(data)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    await asyncio.sleep(0.04)
    t, c = time.perf_counter(), time.thread_time()
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            break
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line:
            lines.append(line)
        elif lines:
            frame = parse_lines(lines)
            lines.clear()
            if frame.kind == "event":
                frames += 1
                translator.translate(frame.headers)
    elapsed, cpu = time.perf_counter() - t, time.thread_time() - c
    writer.close()
    thread.join()
    return frames, elapsed, cpu


def socket_rate(data: bytes, reader: Callable[[bytes], object]) -> tuple[int, float, float]:
    """Events handled, best rate on the wall clock and best on the reading thread's CPU time."""
    wall = cpu = 0.0
    count = 0
    for _ in range(RUNS):
        frames, elapsed, used = asyncio.run(reader(data))  # type: ignore[arg-type]
        count = frames
        wall, cpu = max(wall, frames / elapsed), max(cpu, frames / used)
    return count, wall, cpu


def main(argv: list[str] | None = None) -> None:
    print(describe_machine())
    if not TRACE.is_file():
        print(f"AMI ingest: {TRACE} not found; skipped")
        return
    data = wire_bytes(TRACE)
    texts = message_texts(data)
    stream = data * REPEAT
    print(
        f"AMI ingest: {TRACE.name}, {len(texts)} messages, {len(data) / 1e6:.1f} MB;"
        f" over TCP {REPEAT} times; best of {RUNS}"
    )
    rows = [
        ("panoramisk Message.from_line (parse only)", *panoramisk_rate(texts)),
        ("callserver parser alone (parse_message)", *parser_rate(texts)),
        ("callserver end to end (64 KiB chunks)", *socket_rate(stream, _end_to_end)),
        ("line by line + parser (before)", *socket_rate(stream, _line_by_line)),
    ]
    ref_wall, ref_cpu = rows[0][2], rows[0][3]
    print(f"{'path':45s} {'events':>7s} {'msgs/s wall':>12s} {'msgs/s CPU':>11s}  vs panoramisk wall / CPU")
    for name, count, wall, cpu in rows:
        print(
            f"{name:45s} {count:7d} {wall:12,.0f} {cpu:11,.0f}"
            f"  {wall / ref_wall:5.2f}x / {cpu / ref_cpu:5.2f}x"
        )
    on_wall, on_cpu = rows[2][2] / ref_wall, rows[2][3] / ref_cpu
    verdict = "ok" if min(on_wall, on_cpu) >= 1.0 else "MISSED"
    print(
        f"target: end to end >= 1.0x panoramisk: {on_wall:.2f}x wall, {on_cpu:.2f}x CPU {verdict}"
        f" (load {load_average():.1f})"
    )


if __name__ == "__main__":
    main()
