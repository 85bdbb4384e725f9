"""The AMI link: keeps one logged-in connection to Asterisk and exposes the actions callserver uses.

Incoming events go through the translator to `on_event` as PBX domain events. The link reconnects
by itself with bounded exponential backoff, detects half-open sockets with its own Ping watchdog,
and never queues an action while not logged in (AmiUnavailable at once), so no action is ever sent
twice. The wire protocol lives in protocol.py (plain asyncio; its docstring says why).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from callserver.ami.filters import filter_actions
from callserver.ami.protocol import (
    AmiActionError,
    AmiActionTimeout,
    AmiConnection,
    AmiError,
    AmiReply,
    AmiUnavailable,
)
from callserver.ami.translator import AmiTranslator
from callserver.ami.wire import Frame
from callserver.config import AmiConfig
from callserver.pbx.events import (
    ChannelSnapshot,
    DeviceStateChanged,
    PbxConnected,
    PbxDisconnected,
    PbxEvent,
)
from callserver.pbx.pacer import DEFAULT_BUDGET, Pacer

__all__ = [
    "AmiActionError",
    "AmiActionTimeout",
    "AmiError",
    "AmiLink",
    "AmiUnavailable",
]


def reconnect_delay(failures: int, low: float, high: float) -> float:
    """Back-off before the next login attempt: `low` doubled per failure, at most `high`.

    The exponent is capped: after a thousand failures (a PBX down for hours) `2 ** failures` no
    longer fits a float, and the overflow would end the link task for good.
    """
    return min(high, low * 2.0 ** min(max(failures - 1, 0), 64))


# the secrets in config/callcentre.yaml and asterisk/manager.conf as shipped: fine for a demo on
# loopback, a standing invitation anywhere else
SAMPLE_SECRETS = frozenset({"callserver", "change-me-callserver"})

log = logging.getLogger(__name__)


class AmiLink:
    """A self-healing AMI session. `on_event` is synchronous: schedule your own work from it."""

    def __init__(
        self,
        config: AmiConfig,
        on_event: Callable[[PbxEvent], None],
        *,
        translator: AmiTranslator | None = None,
        clock: Callable[[], float] = time.time,
        pace_budget: float = DEFAULT_BUDGET,
    ) -> None:
        self._config = config
        self._on_event = on_event
        self._translator = translator or AmiTranslator()
        self._clock = clock
        self._pace_budget = pace_budget  # longest stretch of translating a listing without yielding
        # seconds: the longest a listing was translated unbroken (wall clock, CPU time)
        self.longest_listing_stretch = self.longest_listing_stretch_cpu = 0.0
        self._last_heard = 0.0
        self._conn: AmiConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self._ever_connected = False
        self._filters_refused = False  # said once in the log, not at every reconnect
        self._stopping = False

    @property
    def connected(self) -> bool:
        """True while logged in; actions raise AmiUnavailable otherwise."""
        return self._conn is not None

    async def start(self) -> None:
        """Start the link and wait for the first connect + login attempt, success or not.

        Returns as soon as that attempt is over (it is bounded by `action_timeout`), so the server
        starts even when Asterisk is down; retries then go on in the background and PbxConnected
        reports when the link is usable.
        """
        if self._task is not None:
            raise RuntimeError("AmiLink already started")
        if self._config.secret in SAMPLE_SECRETS:
            log.warning(
                "AMI secret is the sample one shipped with callserver: choose your own in manager.conf"
                " and ami.secret (or CALLSERVER_AMI_SECRET)"
            )
        self._task = asyncio.create_task(self._run(), name="ami-link")
        await self._first_attempt.wait()

    async def stop(self) -> None:
        """Log off if connected, then close the socket and end every task of the link."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(AmiError):
                await conn.action("Logoff", timeout=min(1.0, self._config.action_timeout))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        failures = 0
        cfg = self._config
        while True:
            conn: AmiConnection | None = None
            try:
                conn = await AmiConnection.open(cfg.host, cfg.port, cfg.action_timeout, self._on_frame)
                await conn.action(
                    "Login",
                    [("Username", cfg.username), ("Secret", cfg.secret)],
                    timeout=cfg.action_timeout,
                )
            except (OSError, TimeoutError, AmiError) as err:
                log.warning("AMI %s:%s: cannot log in: %s", cfg.host, cfg.port, err or type(err))
                failures += 1
            else:
                failures = 0
                if await self._leave_out_unused(conn):
                    await self._serve(conn)
            finally:
                if conn is not None:
                    await conn.aclose()
            self._first_attempt.set()
            delay = reconnect_delay(failures, cfg.reconnect_min, cfg.reconnect_max)
            log.info("AMI reconnecting in %.1f s", delay)
            await asyncio.sleep(delay)

    async def _leave_out_unused(self, conn: AmiConnection) -> bool:
        """Ask the PBX not to send the events nothing here reads (`ami/filters.py`); False when
        the link went down meanwhile. A refusal only costs reading them."""
        timeout = self._config.action_timeout
        # sent together: one round trip before the link is announced up, not one per event
        answers = await asyncio.gather(
            *(conn.action("Filter", fields, timeout=timeout) for fields in filter_actions()),
            return_exceptions=True,
        )
        for answer in answers:
            if isinstance(answer, AmiActionTimeout | AmiUnavailable):
                log.warning("AMI: link lost while setting event filters: %s", answer)
                return False
            if isinstance(answer, BaseException) and not isinstance(answer, AmiActionError):
                raise answer
        refused = [a for a in answers if isinstance(a, AmiActionError)]
        if refused and not self._filters_refused:
            log.warning(
                "AMI: the PBX refused %d of %d event filters (%s); the events they would leave out "
                "are read and dropped here",
                len(refused),
                len(answers),
                refused[0],
            )
        self._filters_refused = bool(refused)
        return True

    async def _serve(self, conn: AmiConnection) -> None:
        """Run a logged-in connection until it closes; announce it up and down."""
        log.info("AMI logged in to %s (%s)", self._config.host, conn.banner)
        self._conn = conn
        reason = "stopped"
        self._emit(PbxConnected(reconnect=self._ever_connected))
        self._ever_connected = True
        self._first_attempt.set()
        watchdog = asyncio.create_task(self._watchdog(conn), name="ami-ping-watchdog")
        try:
            await conn.closed.wait()
            reason = "stopped" if self._stopping else conn.close_reason
        finally:
            self._conn = None
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            log.warning("AMI link down: %s", reason)
            self._emit(PbxDisconnected(reason, last_heard=self._last_heard))

    async def _watchdog(self, conn: AmiConnection) -> None:
        """Ping every `ping_interval`; an unanswered Ping means a dead or half-open link."""
        cfg = self._config
        while not conn.closed.is_set():
            await asyncio.sleep(cfg.ping_interval)
            try:
                await conn.action("Ping", timeout=cfg.action_timeout)
                # the answer comes after every event sent before it: nothing was missed until now
                self._last_heard = self._clock()
            except AmiActionTimeout:
                conn.abort(f"no answer to Ping within {cfg.action_timeout:g} s")
                return
            except AmiUnavailable:
                return
            except AmiActionError as err:  # an answer, even an error, proves the link is alive
                log.debug("AMI Ping answered with an error: %s", err)

    def _on_frame(self, frame: Frame) -> None:
        # what the PBX said last is the last moment its channels are known to be as it said
        self._last_heard = self._clock()
        event = self._translator.translate(frame.headers)
        if event is not None:
            self._emit(event)

    def _emit(self, event: PbxEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("on_event failed for %r", event)

    async def _action(
        self,
        name: str,
        fields: Iterable[tuple[str, str]] = (),
        complete_event: str | None = None,
    ) -> AmiReply:
        conn = self._conn
        if conn is None:
            raise AmiUnavailable(f"AMI not logged in: {name} not sent")
        return await conn.action(
            name, fields, timeout=self._config.action_timeout, complete_event=complete_event
        )

    async def originate(
        self,
        *,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        channel_id: str,
        timeout: float,
        caller_id: str,
        variables: dict[str, str],
    ) -> None:
        """Queue an async Originate; the outcome arrives later as OriginateResult (uniqueid =
        `channel_id`, which also names the new channel for `hangup` while it rings)."""
        fields = [
            ("Channel", channel),
            ("Context", context),
            ("Exten", exten),
            ("Priority", str(priority)),
            ("ChannelId", channel_id),
            ("Timeout", str(round(timeout * 1000))),
            ("CallerID", caller_id),
            ("Async", "true"),
        ]
        fields += [("Variable", f"{key}={value}") for key, value in variables.items()]
        await self._action("Originate", fields)

    async def hangup(self, channel: str) -> None:
        """Hang up a channel by name or by the ChannelId given to originate."""
        await self._action("Hangup", [("Channel", channel)])

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        """Send a channel to another place in the dialplan (blind transfer, message, hold)."""
        fields = [("Channel", channel), ("Context", context), ("Exten", exten)]
        await self._action("Redirect", [*fields, ("Priority", str(priority))])

    async def setvar(self, channel: str, name: str, value: str) -> None:
        """Set a channel variable (or a writable function such as CHANNEL(...))."""
        await self._action("Setvar", [("Channel", channel), ("Variable", name), ("Value", value)])

    async def getvar(self, channel: str, name: str) -> str | None:
        """A channel variable's value; None when unset or empty (AMI does not tell them apart)."""
        reply = await self._action("Getvar", [("Channel", channel), ("Variable", name)])
        return reply.response.headers.get("Value") or None

    async def bridge(self, channel1: str, channel2: str) -> None:
        """Join two existing channels in a new bridge (AMI `Bridge`, no courtesy tone)."""
        fields = [("Channel1", channel1), ("Channel2", channel2), ("Tone", "no")]
        await self._action("Bridge", fields)

    async def core_show_channels(self) -> list[ChannelSnapshot]:
        """Every channel Asterisk has now, to resynchronise after a (re)connect.

        Translated a slice at a time, yielding to the loop in between: 20,000 channels must not
        hold every call's events while they are read."""
        reply = await self._action("CoreShowChannels", complete_event="CoreShowChannelsComplete")
        snapshots: list[ChannelSnapshot] = []
        pace = Pacer(self._pace_budget)
        # each message is dropped once translated: left to the end, 20,000 of them were freed in one
        # go when this returned, holding the loop for milliseconds outside any paced stretch
        items, reply.items = reply.items, []
        items.reverse()
        while items:
            snapshot = self._translator.translate(items.pop().headers)
            if isinstance(snapshot, ChannelSnapshot):
                snapshots.append(snapshot)
            await pace()
        self.longest_listing_stretch = max(self.longest_listing_stretch, pace.longest)
        self.longest_listing_stretch_cpu = max(self.longest_listing_stretch_cpu, pace.longest_cpu)
        return snapshots

    async def channel_count(self) -> int:
        """How many channels Asterisk has now (`CoreStatus`: CoreCurrentCalls is its channel count),
        a cheap check before listing them all."""
        reply = await self._action("CoreStatus")
        value = reply.response.headers.get("CoreCurrentCalls", "")
        if not value.isdigit():
            raise AmiActionError("CoreStatus", f"CoreCurrentCalls is {value!r}, not a count")
        return int(value)

    async def device_states(self) -> list[DeviceStateChanged]:
        """The state of every device Asterisk tracks (`DeviceStateList`): phones it cannot reach
        are UNAVAILABLE. Read at each (re)connect, as no event says what changed while away."""
        reply = await self._action("DeviceStateList", complete_event="DeviceStateListComplete")
        states = (self._translator.translate(item.headers) for item in reply.items)
        return [s for s in states if isinstance(s, DeviceStateChanged)]

    async def command(self, text: str) -> str:
        """Run a CLI command; its `Output:` lines joined by newlines."""
        reply = await self._action("Command", [("Command", text)])
        return reply.response.headers.get("Output", "")
