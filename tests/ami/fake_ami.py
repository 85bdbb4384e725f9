"""A tiny scripted AMI server for link tests: banner, Login, and replies shaped like the traces.

Not a PBX simulator: it answers actions with canned responses and lets a test push raw bytes,
stay silent (half-open link), refuse logins or drop the connection.
"""

from __future__ import annotations

import asyncio
import contextlib

BANNER = b"Asterisk Call Manager/11.0.0\r\n"

CORE_SHOW_CHANNEL = (
    "Event: CoreShowChannel\r\nActionID: {aid}\r\nChannel: PJSIP/trunk-00000000\r\n"
    "ChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: +15550001\r\n"
    "CallerIDName: Caller 1\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\n"
    "Language: en\r\nAccountCode: \r\nContext: callserver-hold\r\nExten: s\r\nPriority: 2\r\n"
    "Uniqueid: 1795431085.0\r\nLinkedid: 1795431085.0\r\nApplication: MusicOnHold\r\n"
    "ApplicationData: default\r\nDuration: 00:01:05\r\nBridgeId: \r\n\r\n"
)

NEWCHANNEL = (
    b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-00000000\r\n"
    b"ChannelState: 4\r\nChannelStateDesc: Ring\r\nCallerIDNum: +15550001\r\n"
    b"CallerIDName: Caller 1\r\nConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\n"
    b"Language: en\r\nAccountCode: \r\nContext: from-trunk\r\nExten: 500\r\nPriority: 1\r\n"
    b"Uniqueid: 1795431085.0\r\nLinkedid: 1795431085.0\r\n\r\n"
)


class FakeAmi:
    def __init__(self, *, secret: str = "callserver") -> None:
        self.secret = secret
        self.port = 0
        self.answer_pings = True
        self.errors: dict[str, str] = {}  # action name -> Message of a Response: Error
        self.silent: set[str] = set()  # actions never answered
        self.actions: list[dict[str, str]] = []
        self.logins: asyncio.Queue[float] = asyncio.Queue()  # loop time of each Login
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[object]] = set()

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def drop(self) -> None:
        """Close every client connection, as an Asterisk restart would."""
        for writer in list(self._writers):
            writer.close()

    def push(self, data: bytes) -> None:
        """Write raw bytes to every connected client."""
        for writer in self._writers:
            writer.write(data)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            writer.write(BANNER)
            while True:
                headers = await _read_message(reader)
                if headers is None:
                    break
                self.actions.append(headers)
                self._answer(headers, writer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _answer(self, h: dict[str, str], writer: asyncio.StreamWriter) -> None:
        action, aid = h.get("Action", ""), h.get("ActionID", "")

        def reply(*lines: str) -> None:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

        if action == "Login":
            self.logins.put_nowait(asyncio.get_running_loop().time())
            if h.get("Secret") != self.secret:
                reply("Response: Error", f"ActionID: {aid}", "Message: Authentication failed")
                return
            reply("Response: Success", f"ActionID: {aid}", "Message: Authentication accepted")
            reply("Event: FullyBooted", "Privilege: system,all", "Status: Fully Booted")
        elif action in self.silent or (action == "Ping" and not self.answer_pings):
            return
        elif action in self.errors:
            reply("Response: Error", f"ActionID: {aid}", f"Message: {self.errors[action]}")
        elif action == "Ping":
            reply("Response: Success", f"ActionID: {aid}", "Ping: Pong", "Timestamp: 1.0")
        elif action == "CoreShowChannels":
            reply("Response: Success", f"ActionID: {aid}", "EventList: start",
                  "Message: Channels will follow")  # fmt: skip
            writer.write(CORE_SHOW_CHANNEL.format(aid=aid).encode())
            reply("Event: CoreShowChannelsComplete", f"ActionID: {aid}", "EventList: Complete",
                  "ListItems: 1")  # fmt: skip
        elif action == "Command":
            reply("Response: Success", f"ActionID: {aid}", "Message: Command output follows",
                  "Output: line one", "Output: line two")  # fmt: skip
        elif action == "Getvar":
            value = "support" if h.get("Variable") == "CS_QUEUE" else ""
            reply("Response: Success", f"ActionID: {aid}", f"Variable: {h.get('Variable')}",
                  f"Value: {value}")  # fmt: skip
        elif action == "Logoff":
            reply("Response: Goodbye", f"ActionID: {aid}", "Message: Thanks for all the fish.")
            writer.close()
        else:
            reply("Response: Success", f"ActionID: {aid}", "Message: done")


async def _read_message(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """One action as a dict; a repeated key (Variable) keeps every value, newline-joined."""
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if not raw:
            return None
        line = raw.decode().rstrip("\r\n")
        if not line:
            if headers:
                return headers
            continue
        key, _, value = line.partition(": ")
        headers[key] = f"{headers[key]}\n{value}" if key in headers else value
