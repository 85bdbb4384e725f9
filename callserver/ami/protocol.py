"""One AMI TCP connection on asyncio streams: frame reading, ActionID matching, list actions.

Written on plain asyncio rather than panoramisk's Manager because the link must be correct on
points panoramisk gets wrong: it cannot tell "TCP up" from "logged in", it queues actions while
disconnected and may send them twice after a reconnect, its futures never resolve on a half-open
link, and its connect/login callbacks run through call_soon. Here a connection is single-use:
when it closes every pending action fails at once with AmiUnavailable and nothing is resent;
reconnecting is adapter.py's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from callserver.ami.wire import Frame, FrameReader, encode_action
from callserver.logs import PeerLog, printable
from callserver.pbx.actions import ActionRefused, ActionTimeout, LinkDown, PbxError

log = logging.getLogger(__name__)

# bytes asked of the socket at a time: a busy Asterisk sends ~64 KB per queued call with every class on
READ_SIZE = 64 * 1024
# seconds of back-to-back full reads after which the reader hands the loop back (see _read_loop)
READ_BUDGET = 0.002


class AmiError(PbxError):
    """Base of every error the AMI link raises; each is also one of the PBX interface's errors."""


class AmiUnavailable(AmiError, LinkDown):
    """Not logged in to Asterisk (or the link dropped while waiting): the action was not done."""


class AmiActionError(AmiError, ActionRefused):
    """Asterisk answered `Response: Error`; `message` is its `Message:` text."""

    def __init__(self, action: str, message: str) -> None:
        ActionRefused.__init__(self, f"AMI {action}", message)
        self.action = action


class AmiActionTimeout(AmiError, ActionTimeout):
    """No answer within the action timeout (an overloaded or half-open link)."""

    def __init__(self, action: str, timeout: float) -> None:
        self.action = action
        self.timeout = timeout
        super().__init__(f"AMI {action}: no answer within {timeout:g} s")


@dataclass(slots=True)
class AmiReply:
    """The response to an action; `items` are the events of a list action (CoreShowChannels...)."""

    response: Frame
    items: list[Frame] = field(default_factory=list)


@dataclass(slots=True)
class _Pending:
    action: str
    future: asyncio.Future[AmiReply]
    complete_event: str | None
    reply: AmiReply | None = None


class AmiConnection:
    """A connected socket; `on_event` receives every event frame not part of a list reply."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: Callable[[Frame], None],
        banner: str,
    ) -> None:
        self.banner = banner
        self.close_reason = ""
        self.closed = asyncio.Event()
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self.read_budget = READ_BUDGET
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._prefix = f"cs{id(self):x}"
        self._peer = str(writer.get_extra_info("peername"))
        self._problems = PeerLog(log, max_keys=16, schedule=asyncio.get_running_loop().call_later)
        self._task = asyncio.create_task(self._read_loop(), name=f"ami-reader {self._peer}")

    @classmethod
    async def open(
        cls, host: str, port: int, timeout: float, on_event: Callable[[Frame], None]
    ) -> AmiConnection:
        """Connect and read the `Asterisk Call Manager/x.y` banner, all within `timeout`."""
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                raw = await reader.readline()
            except BaseException:
                writer.close()
                raise
        banner = raw.decode("utf-8", "replace").strip()
        if not banner.startswith("Asterisk Call Manager"):
            writer.close()
            raise AmiUnavailable(f"{host}:{port} is not an AMI server (banner {printable(banner, 60)})")
        return cls(reader, writer, on_event, banner)

    async def action(
        self,
        name: str,
        fields: Iterable[tuple[str, str]] = (),
        *,
        timeout: float,
        complete_event: str | None = None,
    ) -> AmiReply:
        """Send an action and wait for its response (and list items up to `complete_event`)."""
        if self.closed.is_set():
            raise AmiUnavailable(f"AMI link closed ({self.close_reason}): {name} not sent")
        action_id = f"{self._prefix}-{next(self._ids)}"
        future: asyncio.Future[AmiReply] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, future, complete_event)
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(encode_action(name, action_id, fields))
                await self._writer.drain()
                return await future
        except TimeoutError:
            raise AmiActionTimeout(name, timeout) from None
        except ConnectionError as err:
            raise AmiUnavailable(f"AMI link lost while sending {name}: {err}") from None
        finally:
            self._pending.pop(action_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved: the caller may have been cancelled

    def abort(self, reason: str) -> None:
        """Close the transport now (e.g. a Ping went unanswered); the reader reports `reason`."""
        if not self.closed.is_set():
            self.close_reason = reason
        self._writer.close()

    async def aclose(self) -> None:
        """Close and wait until the reader task and the socket are finished."""
        self.abort("closed by callserver")
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def _read_loop(self) -> None:
        reason = "connection closed by Asterisk"
        frames = FrameReader()
        # A read that fills READ_SIZE may leave more in the stream's buffer, and reading it does
        # not wait: a burst (a 20,000-channel listing is 12 MB) would be parsed in one stretch of
        # the loop. The time spent on full reads in a row is counted, and past READ_BUDGET the loop
        # is handed back; a short read emptied the buffer, so the next one waits anyway.
        busy = 0.0
        try:
            while True:
                data = await self._reader.read(READ_SIZE)
                if not data:
                    break
                full = len(data) == READ_SIZE
                started = time.perf_counter() if full else 0.0
                for frame in frames.feed(data):
                    self._dispatch(frame)
                if frames.discarded:
                    self._report("over-long message discarded")
                if not full:
                    busy = 0.0
                    continue
                busy += time.perf_counter() - started
                if busy >= self.read_budget:
                    busy = 0.0
                    await asyncio.sleep(0)
        except OSError as err:
            reason = f"connection error: {err}"
        finally:
            if not self.closed.is_set():
                self.close_reason = self.close_reason or reason
                self.closed.set()
            error = AmiUnavailable(f"AMI link closed ({self.close_reason})")
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(error)

    def _dispatch(self, frame: Frame) -> None:
        if frame.bad_lines:
            self._report("line without 'Key: value'", frame.bad_lines[0])
        headers = frame.headers
        pending = self._pending.get(headers.get("ActionID", ""))
        if frame.kind == "event":
            if pending and pending.reply is not None and pending.complete_event:
                if headers["Event"] == pending.complete_event:
                    _resolve(pending, pending.reply)
                else:
                    pending.reply.items.append(frame)
                return
            try:
                self._on_event(frame)
            except Exception:
                log.exception("AMI event handler failed on %s", headers.get("Event"))
        elif frame.kind == "response":
            if pending is None or pending.reply is not None:
                log.debug(
                    "AMI response with no waiting action: %s", printable(headers.get("ActionID", ""), 40)
                )
                return
            if headers["Response"] == "Error":
                if not pending.future.done():
                    message = headers.get("Message", "(no message)")
                    pending.future.set_exception(AmiActionError(pending.action, message))
                return
            pending.reply = AmiReply(frame)
            if not (pending.complete_event and headers.get("EventList", "").lower() == "start"):
                _resolve(pending, pending.reply)
        elif headers:
            self._report("message with neither Event nor Response")

    def _report(self, kind: str, example: str = "") -> None:
        """Log a wire problem once per connection, kind and minute, with a count of the repeats:
        garbage must not flood the log, and its bytes are shown escaped, never raw."""
        shown = f" (e.g. {printable(example, 60)})" if example else ""
        self._problems.warning(self._peer, kind, "AMI %s: %s%s; skipped, link kept", self._peer, kind, shown)


def _resolve(pending: _Pending, reply: AmiReply) -> None:
    if not pending.future.done():
        pending.future.set_result(reply)
