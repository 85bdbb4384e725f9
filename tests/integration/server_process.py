"""`callserver run` as a real child process, for tests that stop it cleanly or kill it (-9).

Its log (stderr) is read line by line as it comes: a test waits for a line the server writes
(`resynchronised:`, `call <id> ended`) instead of polling, and the whole log is kept in a file to
read when an assertion fails. The web API is reached over HTTP with bearer tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from ..helpers import ROOT

CSRF = {"X-Callserver": "1"}


class ServerProcess:
    def __init__(self, config: Path, log: Path, web_port: int) -> None:
        self.config, self.log_path, self.web_port = config, log, web_port
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []  # every line of every process started, in order
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._tokens: dict[str, str] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    async def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until its first resynchronisation with the PBX is done."""
        self._tokens.clear()
        mark = len(self.lines)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "callserver",
            "run",
            "--config",
            str(self.config),
            cwd=ROOT,
            env=dict(os.environ),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read(self.proc))
        await self.wait_line("resynchronised:", timeout, start=mark)

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        with self.log_path.open("a", encoding="utf-8") as out:
            out.write(f"----- server pid {proc.pid}\n")
            while raw := await proc.stderr.readline():
                line = raw.decode("utf-8", "replace").rstrip("\n")
                out.write(line + "\n")
                self.lines.append(line)
                self._changed.set()
        self._changed.set()

    async def wait_line(self, text: str, timeout: float = 15.0, start: int = 0) -> str:
        """The first log line from `start` on containing `text` (waits for it to be written)."""
        async with asyncio.timeout(timeout):
            index = start
            while True:
                while index < len(self.lines):
                    line = self.lines[index]
                    index += 1
                    if text in line:
                        return line
                if self.proc is None or self.proc.returncode is not None or self._ended():
                    raise AssertionError(f"the server exited before logging {text!r}; see {self.log_path}")
                self._changed.clear()
                await self._changed.wait()

    def _ended(self) -> bool:
        return self._reader is not None and self._reader.done()

    async def stop(self) -> int:
        """A clean stop (SIGINT, as an operator's Ctrl-C or systemd's stop)."""
        return await self._end(signal.SIGINT)

    async def kill(self) -> int:
        """`kill -9`: nothing is flushed, nothing is closed."""
        return await self._end(signal.SIGKILL)

    async def _end(self, sig: signal.Signals) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        async with asyncio.timeout(30):
            code = await self.proc.wait()
            if self._reader is not None:
                await self._reader
        return code

    async def close(self) -> None:
        """Whatever state the test left it in: no process stays behind."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    # -- the web API -----------------------------------------------------------------------

    async def token(self, http: aiohttp.ClientSession, login: str, password: str) -> str:
        if login not in self._tokens:
            body = {"login": login, "password": password, "bearer": True}
            async with http.post(self.base + "/api/login", json=body, headers=CSRF) as resp:
                assert resp.status == 200, await resp.text()
                self._tokens[login] = (await resp.json())["token"]
        return self._tokens[login]

    async def post(
        self, http: aiohttp.ClientSession, who: tuple[str, str], path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {await self.token(http, *who)}", **CSRF}
        async with http.post(self.base + path, json=body or {}, headers=headers) as resp:
            return resp.status, await resp.json()

    async def get(self, http: aiohttp.ClientSession, who: tuple[str, str], path: str) -> Any:
        headers = {"Authorization": f"Bearer {await self.token(http, *who)}"}
        async with http.get(self.base + path, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()
