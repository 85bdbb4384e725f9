"""Runs the ACD engine against a PBX: feeds it AMI and FastAGI events, carries out its commands.

The engine is only ever touched from the event loop, one input at a time, so it needs no lock.
Commands run as tasks; their failures come back to the engine as inputs (link down: hold offers;
endpoint refused: the agent is paused). On every AMI (re)connect the engine is resynchronised with
`CoreShowChannels`, so calls that waited or talked while the link was down are adopted, not lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from ..pbx.events import (
    ChannelHungUp,
    ChannelSnapshot,
    InboundCall,
    OriginateResult,
    PbxConnected,
    PbxDisconnected,
    PbxEvent,
)
from .commands import CancelAgentLeg, Command, OriginateAgentLeg, PlayMessageAndHangup
from .engine import AcdEngine
from .events import CallRejected, Fact

log = logging.getLogger("callserver.acd.adapter")

HOLD_CONTEXT = "callserver-hold"
# hangups of channels the engine did not know yet, kept so a call registered a moment later by the
# inbound AGI (whose reply raced the AMI Hangup) is recorded as abandoned instead of waiting forever
RECENT_HANGUPS = 1000


class PbxActions(Protocol):
    """The AMI actions the ACD needs; `AmiLink` provides them."""

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
    ) -> None: ...

    async def hangup(self, channel: str) -> None: ...

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None: ...

    async def setvar(self, channel: str, name: str, value: str) -> None: ...

    async def getvar(self, channel: str, name: str) -> str | None: ...

    async def core_show_channels(self) -> list[ChannelSnapshot]: ...


class LinkDown(Exception):
    """Raised by a PbxActions implementation when the link is down or an action timed out."""


class ActionRefused(Exception):
    """Raised by a PbxActions implementation when the PBX answered an action with an error."""


class AcdService:
    def __init__(
        self,
        engine: AcdEngine,
        pbx: PbxActions,
        *,
        agent_context: str,
        message_context: str,
        on_fact: Callable[[Fact], None],
        link_errors: tuple[type[BaseException], ...] = (LinkDown, TimeoutError),
        refused_errors: tuple[type[BaseException], ...] = (ActionRefused,),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.pbx = pbx
        self.agent_context = agent_context
        self.message_context = message_context
        self.on_fact = on_fact
        self.link_errors = link_errors
        self.refused_errors = refused_errors
        self.clock = clock
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer_task: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._pending_messages: dict[str, PlayMessageAndHangup] = {}
        self.resyncs = 0
        self._recent_hangups: OrderedDict[str, float] = OrderedDict()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._timer_task = asyncio.create_task(self._timer_loop(), name="acd-timers")

    async def stop(self) -> None:
        tasks = [t for t in (self._timer_task, self._resync_task) if t is not None]
        tasks += list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._flush_facts()

    # -- inputs ----------------------------------------------------------------------------

    def on_pbx_event(self, event: PbxEvent) -> None:
        """AMI event callback (sync): the engine reacts at once, I/O goes to tasks."""
        now = self.clock()
        if isinstance(event, ChannelHungUp):
            if event.uniqueid in self.engine.calls:
                self._apply(self.engine.caller_hung_up(event.uniqueid, now))
            elif event.uniqueid in self.engine.legs:
                self._apply(self.engine.leg_hung_up(event.uniqueid, now))
            else:
                self._recent_hangups[event.uniqueid] = now
                if len(self._recent_hangups) > RECENT_HANGUPS:
                    self._recent_hangups.popitem(last=False)
            self._pending_messages.pop(event.uniqueid, None)
        elif isinstance(event, OriginateResult):
            if event.uniqueid in self.engine.legs:
                if event.success:
                    self._apply(self.engine.leg_answered(event.uniqueid, now))
                else:
                    self._apply(self.engine.leg_failed(event.uniqueid, now))
        elif isinstance(event, PbxConnected):
            log.info("PBX link up%s: resynchronising", " again" if event.reconnect else "")
            if self._resync_task is not None:
                self._resync_task.cancel()
            self._resync_task = asyncio.create_task(self._resync(), name="acd-resync")
        elif isinstance(event, PbxDisconnected):
            log.warning("PBX link down (%s): offers held until it is back", event.reason)
            self._apply(self.engine.set_pbx_ready(False, now))

    def inbound_call(self, call: InboundCall, queue: str) -> None:
        """A caller reached the inbound AGI and was routed to `queue` (variables already set)."""
        now = self.clock()
        self._apply(
            self.engine.call_arrived(
                call.uniqueid,
                channel=call.channel,
                caller_num=call.caller_num,
                caller_name=call.caller_name,
                dnis=call.dnis,
                queue=queue,
                now=now,
            )
        )
        if self._recent_hangups.pop(call.uniqueid, None) is not None:
            self._apply(self.engine.caller_hung_up(call.uniqueid, now))

    def reject_call(self, call: InboundCall, reason: str) -> None:
        """Record a call no queue takes (the dialplan tells the caller and hangs up)."""
        self.on_fact(
            CallRejected(
                call.uniqueid,
                self.clock(),
                call.channel,
                call.caller_num,
                call.caller_name,
                call.dnis,
                reason,
            )
        )

    def apply(self, commands: list[Command]) -> None:
        """Carry out commands from a direct engine call (e.g. a status change) and record facts."""
        self._apply(commands)

    # -- plumbing --------------------------------------------------------------------------

    def _apply(self, commands: list[Command]) -> None:
        self._flush_facts()
        for command in commands:
            self._spawn(self._execute(command))
        self._wake.set()
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checking after each engine input (for tests, tools)."""
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    def _flush_facts(self) -> None:
        for fact in self.engine.pop_facts():
            self.on_fact(fact)

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _timer_loop(self) -> None:
        while True:
            deadline = self.engine.next_deadline()
            delay = None if deadline is None else max(0.0, deadline - self.clock())
            self._wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._apply(self.engine.on_timer(self.clock()))

    async def _execute(self, command: Command) -> None:
        if isinstance(command, OriginateAgentLeg):
            await self._originate(command)
        elif isinstance(command, CancelAgentLeg):
            try:
                await self.pbx.hangup(command.leg_id)
            except (*self.link_errors, *self.refused_errors) as err:
                # "No such channel" is normal: the leg ended on its own meanwhile
                log.debug("cancel of leg %s: %s", command.leg_id, err)
        else:
            await self._play_message(command)

    async def _originate(self, command: OriginateAgentLeg) -> None:
        try:
            await self.pbx.originate(
                channel=command.endpoint,
                context=self.agent_context,
                exten="s",
                priority=1,
                channel_id=command.leg_id,
                timeout=command.ring_timeout,
                caller_id=command.caller_id,
                variables=command.variables,
            )
        except self.refused_errors as err:
            log.error("originate to %s for call %s refused: %s", command.endpoint, command.call_id, err)
            self._apply(self.engine.leg_failed(command.leg_id, self.clock(), unreachable=True))
        except self.link_errors as err:
            log.warning("originate for call %s not sent (%s); offer held", command.call_id, err)
            self._apply(self.engine.pbx_error(command.leg_id, self.clock()))

    async def _play_message(self, command: PlayMessageAndHangup) -> None:
        self._pending_messages[command.call_id] = command
        try:
            await self.pbx.setvar(command.channel, "CS_MESSAGE", command.message)
            await self.pbx.redirect(command.channel, self.message_context, "s", 1)
        except self.refused_errors as err:
            self._pending_messages.pop(command.call_id, None)
            log.info("message for call %s not played: %s", command.call_id, err)
        except self.link_errors as err:
            log.warning("message for call %s will be retried after reconnect (%s)", command.call_id, err)
        else:
            self._pending_messages.pop(command.call_id, None)

    async def _resync(self) -> None:
        """Bring the engine in line with the channels the PBX has now."""
        try:
            snapshots = await self.pbx.core_show_channels()
        except (*self.link_errors, *self.refused_errors) as err:
            log.warning("resynchronisation failed (%s); waiting for the next connect", err)
            return
        by_id = {s.uniqueid: s for s in snapshots}
        now = self.clock()
        for call_id in [c for c in self.engine.calls if c not in by_id]:
            log.info("call %s vanished while the link was down: hung up", call_id)
            self._apply(self.engine.caller_hung_up(call_id, now))
        for leg in list(self.engine.legs.values()):
            snap = by_id.get(leg.id)
            if snap is None:
                self._apply(self.engine.leg_hung_up(leg.id, now))
            elif not leg.answered and snap.bridge_id:
                self._apply(self.engine.leg_answered(leg.id, now))
        for snap in snapshots:
            if snap.uniqueid in self.engine.calls or snap.uniqueid in self.engine.legs:
                continue
            try:
                await self._adopt(snap, by_id, now)
            except (*self.link_errors, *self.refused_errors) as err:
                log.warning("could not adopt channel %s: %s", snap.channel, err)
        for pending in list(self._pending_messages.values()):
            if pending.call_id in by_id:
                self._spawn(self._play_message(pending))
            else:
                self._pending_messages.pop(pending.call_id, None)
        self.resyncs += 1
        log.info("resynchronised: %d channels, %d live calls", len(snapshots), len(self.engine.calls))
        self._apply(self.engine.set_pbx_ready(True, self.clock()))

    async def _adopt(self, snap: ChannelSnapshot, by_id: dict[str, ChannelSnapshot], now: float) -> None:
        if snap.context == HOLD_CONTEXT and not snap.bridge_id:
            queue = await self.pbx.getvar(snap.channel, "CS_QUEUE")
            if queue and queue in self.engine.queues:
                log.info("adopting waiting call %s (%s) in %s", snap.uniqueid, snap.channel, queue)
                self._apply(
                    self.engine.call_arrived(
                        snap.uniqueid,
                        channel=snap.channel,
                        caller_num=snap.caller_num,
                        caller_name=snap.caller_name,
                        dnis=snap.exten,
                        queue=queue,
                        now=now,
                        arrived_at=now - snap.duration,
                    )
                )
        elif snap.context == self.agent_context and snap.bridge_id:
            call_id = await self.pbx.getvar(snap.channel, "CS_CALL")
            agent_id = await self.pbx.getvar(snap.channel, "CS_AGENT")
            caller = by_id.get(call_id or "")
            if caller is None or not agent_id:
                return
            queue = await self.pbx.getvar(caller.channel, "CS_QUEUE") or ""
            log.info("adopting connected call %s with agent %s", caller.uniqueid, agent_id)
            self._apply(
                self.engine.adopt_connected(
                    caller.uniqueid,
                    channel=caller.channel,
                    caller_num=caller.caller_num,
                    queue=queue,
                    agent_id=agent_id,
                    leg_id=snap.uniqueid,
                    now=now,
                    arrived_at=now - caller.duration,
                )
            )
