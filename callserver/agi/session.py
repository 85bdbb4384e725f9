"""One FastAGI conversation: the agi_ environment and the command/response exchange.

A handler receives an AgiSession, sends commands and returns; closing the socket sends the channel
back to the dialplan at the next priority. Replies are parsed here once so handlers never see
AGI's `200 result=... (data)` text or its ASCII-code digits. Every command has a reply deadline
(see `reply_budget`): a peer that stops answering is cut off instead of holding a socket for ever.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from callserver.agi.commands import asterisk_names, is_media, reply_budget
from callserver.agi.stream import AgiReader, AgiWriter
from callserver.logs import printable
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


class AgiTimeout(AgiHangup):
    """No reply within the command's deadline: the peer is stuck or gone, the session is over."""


class AgiProtocolError(AgiHangup):
    """The peer answered something that is not AGI: nothing it says can be trusted, the session is over.

    A hang-up rather than an AgiError because a later reply could belong to any earlier command.
    """


_MAX_USAGE_LINES = 64  # a 520 usage text is a dozen lines at most
_REPLY_LIMIT = 200  # characters of a bad reply quoted in an error


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
        reader: AgiReader,
        writer: AgiWriter,
        env: dict[str, str],
        peer: str = "",
        *,
        reply_timeout: float = 10.0,
        media_timeout: float = 300.0,
        sounds_dir: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env = env
        self.sounds_dir = sounds_dir
        self.peer = peer
        self.hung_up = False
        self.reply_timeout = reply_timeout
        self.media_timeout = media_timeout
        # since when the session waits for a reply Asterisk gives at once (None: not waiting on one);
        # the server uses it to tell a stuck peer from a caller listening to a prompt
        self.quick_wait_since: float | None = None
        self._clock = clock
        self._aborted = ""
        # why this side gave up on the peer (no reply in time, or not AGI), if it did
        self.failure: AgiTimeout | AgiProtocolError | None = None
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
    def label(self) -> str:
        """The channel name as peer data fit for a log line."""
        return printable(self.channel, 60)

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
        """Send one command and read its reply; AgiError on 5xx, AgiHangup on HANGUP or EOF,
        AgiTimeout when the reply misses its deadline, AgiProtocolError on a reply that is not AGI."""
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command is a single line")
        line = asterisk_names(line, self.sounds_dir)
        verb = " ".join(line.split(" ")[:2])
        async with self._lock:  # one command in flight: replies carry no id
            if self.hung_up:
                raise AgiHangup(f"{self.label} hung up; {verb} not sent")
            budget = reply_budget(line, self.reply_timeout, self.media_timeout)
            quick = not is_media(line)
            try:
                async with asyncio.timeout(budget):
                    self.quick_wait_since = self._clock() if quick else None
                    self._writer.write(line.encode("utf-8") + b"\n")
                    await self._writer.drain()
                    reply = await self._readline()
                    if reply == "HANGUP":
                        self.hung_up = True
                        raise AgiHangup(f"{self.label} hung up during {verb}")
                    match = _REPLY.match(reply)
                    if match is None:
                        raise self._give_up(
                            AgiProtocolError(f"{verb} answered with {printable(reply, _REPLY_LIMIT)}")
                        )
                    code, rest = int(match[1]), match[2]
                    if code == 520 and reply[3:4] == "-":
                        rest = await self._read_usage(rest)
            except TimeoutError:
                raise self._give_up(AgiTimeout(f"no reply to {verb} within {budget:g} s")) from None
            except ConnectionError as err:
                self.hung_up = True
                raise AgiHangup(f"{self.label}: connection lost: {err}") from None
            except ValueError:  # a reply line over the stream limit
                raise self._give_up(AgiProtocolError(f"{verb} answered with an over-long line")) from None
            finally:
                self.quick_wait_since = None
        if code != 200:
            raise AgiError(code, rest)
        result = _RESULT.match(rest)
        if result is None:
            raise self._give_up(
                AgiProtocolError(f"{verb} answered 200 without result=: {printable(rest, _REPLY_LIMIT)}")
            )
        return AgiResponse(code, result[1], result[2] if result[2] is not None else result[3])

    def abort(self, reason: str) -> None:
        """End the session from outside (the server needs its place): the command in flight, if any,
        raises AgiTimeout with `reason`."""
        self._aborted = reason
        self._give_up(AgiTimeout(reason))

    def _give_up(self, failure: AgiTimeout | AgiProtocolError) -> AgiTimeout | AgiProtocolError:
        """Close the socket: the channel goes back to its dialplan and the peer sees no more commands.

        The failure is kept in `failure` for the server to report: handlers treat it as a hang-up
        and may well swallow it.
        """
        self.hung_up = True
        if self.failure is None:
            self.failure = failure
        self._writer.close()
        return failure

    async def _readline(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            self.hung_up = True
            if self._aborted:
                raise AgiTimeout(self._aborted)
            raise AgiHangup(f"{self.label}: Asterisk closed the AGI socket")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def _read_usage(self, first: str) -> str:
        """520 replies span lines (`520-...` up to `520 End of proper usage.`)."""
        lines = [first]
        while not (line := await self._readline()).startswith("520 "):
            lines.append(line)
            if len(lines) > _MAX_USAGE_LINES:
                raise self._give_up(AgiProtocolError(f"520 usage text longer than {_MAX_USAGE_LINES} lines"))
        return "\n".join(lines)

    def _digit(self, response: AgiResponse, what: str) -> str | None:
        """A key from its ASCII code (0: none); a result that is no number is not AGI."""
        result = response.result
        if not re.fullmatch(r"-?[0-9]{1,3}", result) or int(result) > 255:
            raise self._give_up(AgiProtocolError(f"{what}: unreadable result {printable(result, 40)}"))
        code = int(result)
        if code < 0:
            raise AgiError(response.code, f"{what} failed (result={code}: error or hangup)")
        return chr(code) if code else None

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
        return self._digit(await self.command(f"STREAM FILE {name} {quote(escape)}"), "STREAM FILE")

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """The key pressed within `timeout_ms`, or None (AGI returns its ASCII code)."""
        return self._digit(await self.command(f"WAIT FOR DIGIT {timeout_ms}"), "WAIT FOR DIGIT")

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
