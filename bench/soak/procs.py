"""The two child processes of a soak: `callserver run` and the PBX simulator (`bench.soak.pbx`).

Each one's log goes to a file as it comes; the soak waits for lines it needs (the server's first
`resynchronised:`, the simulator's `ready`) instead of polling. Nothing is left running: `close()`
kills whatever is still alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = {"drain": "drained"}  # the word each command's answer line starts with


class LogWatch:
    """Copies a stream to a file and wakes whoever waits for a line containing some text."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.waiters: list[tuple[str, asyncio.Future[str]]] = []
        self.counts: dict[str, int] = {}  # how many lines contained each watched text
        self.watched: tuple[str, ...] = ()

    async def copy(self, stream: asyncio.StreamReader, header: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as out:
            out.write(header + "\n")
            while raw := await stream.readline():
                line = raw.decode("utf-8", "replace")
                out.write(line)
                for text in self.watched:
                    if text in line:
                        self.counts[text] = self.counts.get(text, 0) + 1
                for text, future in list(self.waiters):
                    if text in line and not future.done():
                        future.set_result(line.rstrip("\n"))
                        self.waiters.remove((text, future))
        for _, future in self.waiters:
            if not future.done():
                future.set_exception(EOFError(f"the process ended; see {self.log_path}"))
        self.waiters.clear()

    def expect(self, text: str) -> asyncio.Future[str]:
        """A future for the next line containing `text` (ask before causing it)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiters.append((text, future))
        return future


class Child:
    def __init__(self, args: list[str], log_path: Path, *, stdin: bool = False) -> None:
        self.args, self.stdin = args, stdin
        self.watch = LogWatch(log_path)
        self.proc: asyncio.subprocess.Process | None = None
        self._copy: asyncio.Task[None] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def spawn(self, *, log_from: str = "stderr") -> asyncio.subprocess.Process:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args,
            cwd=ROOT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            stdin=asyncio.subprocess.PIPE if self.stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self.starts += 1
        stream = self.proc.stderr if log_from == "stderr" else self.proc.stdout
        assert stream is not None
        self._copy = asyncio.create_task(self.watch.copy(stream, f"----- pid {self.proc.pid}"))
        return self.proc

    async def end(self, sig: signal.Signals, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        async with asyncio.timeout(timeout):
            code = await self.proc.wait()
            if self._copy is not None:
                await self._copy
        return code

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._copy is not None:
            self._copy.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._copy


class Server(Child):
    """`python -m callserver run --config CONFIG`, its log (stderr) copied to a file."""

    def __init__(self, config: Path, log_path: Path) -> None:
        super().__init__([sys.executable, "-m", "callserver", "run", "--config", str(config)], log_path)
        self.watch.watched = ("resynchronised:", "AMI link down", "Traceback", " ERROR ")
        self._welcome: asyncio.Task[bytes] | None = None

    async def start(self, timeout: float = 90.0) -> None:
        ready = self.watch.expect("resynchronised:")
        proc = await self.spawn()
        # the welcome text on stdout is not needed; drain it so the pipe never fills
        assert proc.stdout is not None
        self._welcome = asyncio.create_task(proc.stdout.read())
        async with asyncio.timeout(timeout):
            await ready


class Simulator(Child):
    """`python -m bench.soak.pbx CONFIG PORT`: commands on stdin, answers on stdout."""

    def __init__(self, config: Path, port: int, log_path: Path) -> None:
        super().__init__(
            [sys.executable, "-m", "bench.soak.pbx", str(config), str(port)], log_path, stdin=True
        )
        self.watch.watched = ("Traceback", " ERROR ")
        self._lock = asyncio.Lock()
        self._stderr: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 60.0) -> None:
        proc = await self.spawn()
        assert proc.stdout is not None
        async with asyncio.timeout(timeout):
            line = (await proc.stdout.readline()).decode()
        if not line.startswith("ready"):
            raise RuntimeError(f"the simulator did not start ({line!r}); see {self.watch.log_path}")

    async def ask(self, command: str, timeout: float = 10.0) -> dict[str, Any]:
        """Send a command; the answer line's JSON."""
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        async with self._lock:
            self.proc.stdin.write(command.encode() + b"\n")
            await self.proc.stdin.drain()
            async with asyncio.timeout(timeout):
                while True:  # an answer to an earlier command that timed out is skipped
                    line = (await self.proc.stdout.readline()).decode()
                    if not line:
                        raise RuntimeError(f"the simulator ended; see {self.watch.log_path}")
                    word, _, payload = line.partition(" ")
                    if word == ANSWERS.get(command, command):
                        break
        result: dict[str, Any] = json.loads(payload)
        return result
