"""Loopback helpers for the simulator tests: a raw AMI client and a scripted FastAGI server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

Message = list[tuple[str, str]]


def as_dict(msg: Message) -> dict[str, str]:
    return dict(msg)


class AmiClient:
    """Reads every AMI message into `messages`; helpers wait for matching ones."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.banner = ""
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = 0
        self.closed = asyncio.Event()

    async def connect(self, port: int) -> None:
        reader, self._writer = await asyncio.open_connection("127.0.0.1", port)
        self.banner = (await reader.readline()).decode()
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                lines = raw.decode().split("\r\n")
                msg = [
                    tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "")
                    for line in lines
                    if line
                ]
                self.messages.append(msg)  # type: ignore[arg-type]
                self._arrived.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed.set()
            self._arrived.set()

    def send(self, action: str, *headers: tuple[str, str]) -> str:
        self._ids += 1
        aid = f"t-{self._ids}"
        text = f"Action: {action}\r\nActionID: {aid}\r\n"
        text += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        assert self._writer is not None
        self._writer.write(text.encode())
        return aid

    async def wait(
        self, pred: Callable[[dict[str, str]], bool], timeout: float = 5.0, start: int = 0
    ) -> dict[str, str]:
        async with asyncio.timeout(timeout):
            index = start
            while True:
                while index < len(self.messages):
                    d = as_dict(self.messages[index])
                    index += 1
                    if pred(d):
                        return d
                if self.closed.is_set():
                    raise ConnectionError("AMI connection closed")
                self._arrived.clear()
                await self._arrived.wait()

    async def event(self, name: str, timeout: float = 5.0, **fields: str) -> dict[str, str]:
        return await self.wait(
            lambda d: d.get("Event") == name and all(d.get(k) == v for k, v in fields.items()), timeout
        )

    async def action(self, action: str, *headers: tuple[str, str]) -> dict[str, str]:
        aid = self.send(action, *headers)
        return await self.wait(lambda d: "Response" in d and "Event" not in d and d.get("ActionID") == aid)

    def events(self, name: str) -> list[dict[str, str]]:
        return [as_dict(m) for m in self.messages if as_dict(m).get("Event") == name]

    async def login(self, port: int, secret: str = "callserver") -> dict[str, str]:
        await self.connect(port)
        return await self.action("Login", ("Username", "callserver"), ("Secret", secret))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


AgiScript = Callable[[dict[str, str], "AgiConversation"], Awaitable[None]]


class AgiConversation:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.lines: list[str] = []

    async def command(self, text: str) -> str:
        self.writer.write(f"{text}\n".encode())
        line = (await self.reader.readline()).decode().rstrip("\n")
        self.lines += [text, line]
        return line


class FakeAgiServer:
    """A throwaway FastAGI server running `script` for each connection."""

    def __init__(self, script: AgiScript) -> None:
        self.script = script
        self.envs: list[dict[str, str]] = []
        self.raw_envs: list[str] = []
        self.conversations: list[AgiConversation] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)  # type: ignore[arg-type]
        try:
            raw = (await reader.readuntil(b"\n\n")).decode()
            self.raw_envs.append(raw)
            env = dict(
                line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
                for line in raw.splitlines()
                if line
            )
            self.envs.append(env)
            conv = AgiConversation(reader, writer)
            self.conversations.append(conv)
            await self.script(env, conv)
        finally:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
            self._handlers.discard(task)  # type: ignore[arg-type]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self.server.wait_closed()


async def hold_script(env: dict[str, str], conv: AgiConversation) -> None:
    """What the server's `inbound` script does: send the caller to the hold context."""
    await conv.command("SET VARIABLE CS_NEXT hold")
    await conv.command("SET VARIABLE CS_QUEUE support")
