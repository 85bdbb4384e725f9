"""One FastAGI conversation: the agi_ environment and the command/response exchange.

A handler receives an AgiSession, sends commands and returns; closing the socket sends the channel
back to the dialplan at the next priority. Replies are parsed here once so handlers never see
AGI's `200 result=... (data)` text or its ASCII-code digits.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from callserver.pbx.events import InboundCall

_REPLY = re.compile(r"^(\d{3})[ -]?(.*)$")
_RESULT = re.compile(r"^result=(\S*)\s*(?:\((.*)\))?\s*(.*)$")
_UNKNOWN = "unknown"  # what Asterisk puts in agi_callerid / agi_dnid when there is none


class AgiError(Exception):
    """Asterisk refused a command (510 unknown, 511 dead channel, 520 usage) or replied nonsense."""

    def __init__(self, code: int, text: str) -> None:
        self.code = code
        self.text = text
        super().__init__(f"AGI {code}: {text}")


class AgiHangup(Exception):
    """The channel hung up (Asterisk sent `HANGUP`) or the socket closed: stop talking to it."""


@dataclass(frozen=True, slots=True)
class AgiResponse:
    """`200 result=1 (timeout) endpos=0` -> code 200, result "1", data "timeout".

    `data` is the text in parentheses when there is one, else whatever follows the result
    (e.g. `endpos=3404`), else "".
    """

    code: int
    result: str
    data: str


def quote(text: str) -> str:
    """Quote an AGI argument so spaces and quotes survive Asterisk's argument splitting."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiSession:
    """The call on the other end of one FastAGI socket."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: dict[str, str],
        peer: str = "",
    ) -> None:
        self.env = env
        self.peer = peer
        self.hung_up = False
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()

    @property
    def script(self) -> str:
        """The script name: `inbound` for `agi://host:4573/inbound?x=1`."""
        name = self.env.get("agi_network_script")
        if not name:
            name = urlsplit(self.env.get("agi_request", "")).path
        return name.strip("/")

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    @property
    def channel(self) -> str:
        return self.env.get("agi_channel", "")

    @property
    def caller_num(self) -> str:
        return _known(self.env.get("agi_callerid", ""))

    @property
    def caller_name(self) -> str:
        return _known(self.env.get("agi_calleridname", ""))

    @property
    def dnis(self) -> str:
        """The number dialled: agi_dnid, or the extension when the trunk gave no DNID."""
        return _known(self.env.get("agi_dnid", "")) or self.env.get("agi_extension", "")

    @property
    def args(self) -> list[str]:
        """AGI(agi://host/script,a,b) arguments, in order."""
        out, i = [], 1
        while f"agi_arg_{i}" in self.env:
            out.append(self.env[f"agi_arg_{i}"])
            i += 1
        return out

    async def command(self, line: str) -> AgiResponse:
        """Send one command and read its reply; AgiError on 5xx, AgiHangup on HANGUP or EOF."""
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command is a single line")
        async with self._lock:  # one command in flight: replies carry no id
            if self.hung_up:
                raise AgiHangup(f"{self.channel} hung up; {line.split(' ')[0]} not sent")
            try:
                self._writer.write(line.encode("utf-8") + b"\n")
                await self._writer.drain()
                reply = await self._readline()
                if reply == "HANGUP":
                    self.hung_up = True
                    raise AgiHangup(f"{self.channel} hung up during {line!r}")
                match = _REPLY.match(reply)
                if match is None:
                    raise AgiError(0, f"unreadable reply {reply!r} to {line!r}")
                code, rest = int(match[1]), match[2]
                if code == 520 and reply[3:4] == "-":
                    rest = await self._read_usage(rest)
            except ConnectionError as err:
                self.hung_up = True
                raise AgiHangup(f"{self.channel}: connection lost: {err}") from None
        if code != 200:
            raise AgiError(code, rest)
        result = _RESULT.match(rest)
        if result is None:
            raise AgiError(code, f"reply without result= to {line!r}: {rest!r}")
        return AgiResponse(code, result[1], result[2] if result[2] is not None else result[3])

    async def _readline(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            self.hung_up = True
            raise AgiHangup(f"{self.channel}: Asterisk closed the AGI socket")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def _read_usage(self, first: str) -> str:
        """520 replies span lines (`520-...` up to `520 End of proper usage.`)."""
        lines = [first]
        while not (line := await self._readline()).startswith("520 "):
            lines.append(line)
        return "\n".join(lines)

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        """The variable's value, None when it is not set."""
        response = await self.command(f"GET VARIABLE {name}")
        return response.data if response.result == "1" else None

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def stream_file(self, name: str, escape: str = "") -> str | None:
        """Play a prompt; the key that interrupted it, or None."""
        return _digit(await self.command(f"STREAM FILE {name} {quote(escape)}"), "STREAM FILE")

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """The key pressed within `timeout_ms`, or None (AGI returns its ASCII code)."""
        return _digit(await self.command(f"WAIT FOR DIGIT {timeout_ms}"), "WAIT FOR DIGIT")

    async def get_data(self, file: str, timeout_ms: int, max_digits: int) -> str:
        """Play `file` and collect up to `max_digits` keys; "" when nothing was pressed."""
        response = await self.command(f"GET DATA {file} {timeout_ms} {max_digits}")
        if response.result.startswith("-"):
            raise AgiError(response.code, f"GET DATA failed: result={response.result}")
        return response.result

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command(f"VERBOSE {quote(message)} {level}")

    async def hangup(self) -> None:
        """Hang the channel up; Asterisk then sends HANGUP and waits for the socket to close."""
        await self.command("HANGUP")


def _known(value: str) -> str:
    return "" if value == _UNKNOWN else value


def _digit(response: AgiResponse, what: str) -> str | None:
    try:
        code = int(response.result)
    except ValueError:
        raise AgiError(response.code, f"{what}: unreadable result {response.result!r}") from None
    if code < 0:
        raise AgiError(response.code, f"{what} failed (result={code}: error or hangup)")
    return chr(code) if code else None


def inbound_call(session: AgiSession) -> InboundCall:
    """The InboundCall domain event for a session (AGI(.../inbound) from callserver-inbound)."""
    return InboundCall(
        uniqueid=session.uniqueid,
        channel=session.channel,
        caller_num=session.caller_num,
        caller_name=session.caller_name,
        dnis=session.dnis,
        script=session.script,
    )
