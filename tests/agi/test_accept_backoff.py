"""A FastAGI server in a process that has run out of descriptors backs off instead of spinning on
accept errors, logs the trouble once, and serves the waiting calls as soon as descriptors are back."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.agi.test_server import Asterisk, headers, s9_env

from ..helpers import ROOT

CLIENTS = 10
STARVED = 2.0  # seconds the server spends without descriptors


async def test_accept_errors_back_off_and_the_server_recovers() -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("emfile_child.py")),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    try:
        async with asyncio.timeout(20):
            ready = (await child.stdout.readline()).decode()
        assert ready.startswith("READY"), ready + (await child.stderr.read()).decode()
        port = int(ready.split()[1])
        calls = [await Asterisk.connect(port) for _ in range(CLIENTS)]  # queued by the kernel
        for call in calls:
            call.writer.write(headers(s9_env()))
        waiting = asyncio.gather(*(call.reader.readline() for call in calls))
        done, _ = await asyncio.wait({asyncio.ensure_future(waiting)}, timeout=STARVED)
        assert not done  # nobody can be served without a descriptor
        child.stdin.write(b"release\n")
        async with asyncio.timeout(10):
            cpu = float((await child.stdout.readline()).decode().split()[1])
            first = await waiting
        assert all(line.startswith(b"SET VARIABLE") for line in first)
        for call in calls:
            call.writer.write(b"200 result=1\n")
            assert await call.closed_by_server()
            await call.close()
    finally:
        if child.stdin is not None and not child.stdin.is_closing():
            child.stdin.close()
        async with asyncio.timeout(10):
            await child.wait()
    log = (await child.stderr.read()).decode()
    accept_lines = [line for line in log.splitlines() if "cannot accept" in line]
    print(f"{STARVED:g} s without descriptors: {cpu:.3f} s of CPU, {len(accept_lines)} accept log line(s)")
    assert cpu < 0.5 * STARVED  # a spinning accept loop burns the whole time
    assert 1 <= len(accept_lines) <= 2
    assert "Traceback" not in log and "ERROR" not in log
