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

from ..facts.model import CallRejected, Fact
from ..pbx.actions import ActionRefused, LinkDown, PbxActions, PbxError
from ..pbx.channels import ChannelNames
from ..pbx.dialplan import Context, Var
from ..pbx.events import (
    BridgeEntered,
    ChannelHungUp,
    ChannelSnapshot,
    DtmfReceived,
    InboundCall,
    OriginateResult,
    PbxConnected,
    PbxDisconnected,
)
from ..pbx.hub import Subscriptions
from .commands import (
    Announce,
    CancelAgentLeg,
    Command,
    ConfirmCallback,
    OriginateAgentLeg,
    PlayMessageAndHangup,
    SendCallerTo,
)
from .handling import AcdEngine
from .model import CallKind

log = logging.getLogger("callserver.acd.adapter")

# hangups of channels the engine did not know yet, kept so a call registered a moment later by the
# inbound AGI (whose reply raced the AMI Hangup) is recorded as abandoned instead of waiting forever
RECENT_HANGUPS = 1000
# a periodic check ignores calls and legs younger than this (the listing may predate them)
RESYNC_SETTLE = 5.0


class AcdService:
    def __init__(
        self,
        engine: AcdEngine,
        pbx: PbxActions,
        *,
        channels: ChannelNames,
        on_fact: Callable[[Fact], None],
        clock: Callable[[], float] = time.time,
        reconcile_every: float | None = 30.0,
    ) -> None:
        self.engine = engine
        self.pbx = pbx
        self.channels = channels
        self.on_fact = on_fact
        self.clock = clock
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer_task: asyncio.Task[None] | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._pending_messages: dict[str, PlayMessageAndHangup] = {}
        self._reconcile_task: asyncio.Task[None] | None = None
        self.reconcile_every = reconcile_every
        self._leg_started: dict[str, float] = {}
        self.resyncs = 0
        self._recent_hangups: OrderedDict[str, float] = OrderedDict()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._timer_task = asyncio.create_task(self._timer_loop(), name="acd-timers")
        if self.reconcile_every:
            self._reconcile_task = asyncio.create_task(self._reconcile_loop(), name="acd-reconcile")

    async def stop(self) -> None:
        tasks = [t for t in (self._timer_task, self._resync_task, self._reconcile_task) if t is not None]
        tasks += list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._flush_facts()

    # -- inputs ----------------------------------------------------------------------------

    def subscriptions(self) -> Subscriptions:
        """The PBX events the ACD follows: the engine reacts at once, I/O goes to tasks."""
        return (
            Subscriptions("acd")
            .on(ChannelHungUp, self._on_hangup)
            .on(OriginateResult, self._on_originate_result)
            .on(BridgeEntered, self._on_bridge_enter)
            .on(DtmfReceived, self._on_dtmf)
            .on(PbxConnected, self._on_connected)
            .on(PbxDisconnected, self._on_disconnected)
        )

    def _on_hangup(self, event: ChannelHungUp) -> None:
        now = self.clock()
        if event.uniqueid in self.engine.calls:
            self._apply(self.engine.caller_hung_up(event.uniqueid, now))
        elif event.uniqueid in self.engine.legs:
            self._apply(self.engine.leg_hung_up(event.uniqueid, now))
        else:
            self._recent_hangups[event.uniqueid] = now
            if len(self._recent_hangups) > RECENT_HANGUPS:
                self._recent_hangups.popitem(last=False)
        self._pending_messages.pop(event.uniqueid, None)

    def _on_originate_result(self, event: OriginateResult) -> None:
        if event.uniqueid in self.engine.legs:
            now = self.clock()
            if event.success:
                self._apply(self.engine.leg_picked_up(event.uniqueid, now))
            else:
                self._apply(self.engine.leg_failed(event.uniqueid, now))

    def _on_bridge_enter(self, event: BridgeEntered) -> None:
        # state comes from the legs: an agent leg in a bridge is a connected call
        if event.uniqueid in self.engine.legs:
            self._apply(self.engine.leg_answered(event.uniqueid, self.clock()))

    def _on_dtmf(self, event: DtmfReceived) -> None:
        if event.uniqueid in self.engine.calls and event.direction.lower() == "received":
            self._apply(self.engine.dtmf(event.uniqueid, event.digit, self.clock()))

    def _on_connected(self, event: PbxConnected) -> None:
        log.info("PBX link up%s: resynchronising", " again" if event.reconnect else "")
        if self._resync_task is not None:
            self._resync_task.cancel()
        self._resync_task = asyncio.create_task(self._resync(), name="acd-resync")

    def _on_disconnected(self, event: PbxDisconnected) -> None:
        log.warning("PBX link down (%s): offers held until it is back", event.reason)
        self._apply(self.engine.set_pbx_ready(False, self.clock()))

    def inbound_call(self, call: InboundCall, queue: str, data: dict[str, object] | None = None) -> None:
        """A caller reached the inbound AGI and was routed to `queue` (variables already set).

        `data` (IVR answers, customer record) uses requirement names: `call.language`, `customer.vip`.
        """
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
                data=data,
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

    def claim_leg(self, leg_id: str) -> str | None:
        """The agent accepted: the dialplan action for this leg (`bridge`, `dial`), or None if refused."""
        self._apply(self.engine.leg_claim(leg_id, self.clock()))
        leg = self.engine.legs.get(leg_id)
        if leg is None or not leg.claimed:
            return None
        call = self.engine.calls.get(leg.call_id)
        callback = call is not None and call.kind is CallKind.CALLBACK
        return (Context.AGENT_DIAL if callback else Context.AGENT_BRIDGE).agent_choice

    def leg_refused(self, leg_id: str) -> None:
        """A remote agent did not press the accept key: counts as not answering."""
        self._apply(self.engine.leg_failed(leg_id, self.clock()))

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

    async def _reconcile_loop(self) -> None:
        """Periodic check against the channels the PBX reports: no phantom ringing or on-call agent."""
        assert self.reconcile_every is not None
        while True:
            await asyncio.sleep(self.reconcile_every)  # a period, not a poll for a condition
            if self.engine.pbx_ready and (self._resync_task is None or self._resync_task.done()):
                self._resync_task = asyncio.create_task(self._resync(periodic=True), name="acd-reconcile-run")

    async def _execute(self, command: Command) -> None:
        if isinstance(command, OriginateAgentLeg):
            await self._originate(command)
        elif isinstance(command, CancelAgentLeg):
            try:
                await self.pbx.hangup(command.leg_id)
            except PbxError as err:
                # "No such channel" is normal: the leg ended on its own meanwhile
                log.debug("cancel of leg %s: %s", command.leg_id, err)
        elif isinstance(command, PlayMessageAndHangup):
            await self._play_message(command)
        elif isinstance(command, SendCallerTo):
            if command.kind == "voicemail":
                await self._redirect(
                    command.call_id, command.channel, Context.VOICEMAIL, {Var.VOICEMAIL: command.target}
                )
            else:
                await self._redirect(
                    command.call_id, command.channel, Context.DIAL, {Var.DIAL: command.target}
                )
        elif isinstance(command, Announce):
            variables: dict[str, str] = {
                Var.POSITION: str(command.position),
                Var.WAIT_MIN: str(max(1, round(command.wait_seconds / 60))),
            }
            await self._redirect(command.call_id, command.channel, Context.ANNOUNCE, variables)
        elif isinstance(command, ConfirmCallback):
            await self._redirect(command.call_id, command.channel, Context.CALLBACK, {})
        # OfferTask needs nothing from the PBX: the desktop pops the task from the CallOffered fact

    async def _redirect(self, call_id: str, channel: str, context: str, variables: dict[str, str]) -> None:
        try:
            for name, value in variables.items():
                await self.pbx.setvar(channel, name, value)
            await self.pbx.redirect(channel, context, "s", 1)
        except PbxError as err:
            log.warning("could not send call %s (%s) to %s: %s", call_id, channel, context, err)

    async def _originate(self, command: OriginateAgentLeg) -> None:
        self._leg_started = {k: v for k, v in self._leg_started.items() if k in self.engine.legs}
        self._leg_started[command.leg_id] = self.clock()
        context = Context.AGENT
        variables = dict(command.variables)
        if command.purpose == "consult":
            context = Context.CONSULT
            peer = self.channels.get(variables.get(Var.PEER_LEG, ""))
            if peer is None:
                log.error("consult for call %s: the agent's own leg is unknown", command.call_id)
                self._apply(self.engine.leg_failed(command.leg_id, self.clock(), unreachable=True))
                return
            variables[Var.CALLER] = peer
        try:
            await self.pbx.originate(
                channel=command.endpoint,
                context=context,
                exten="s",
                priority=1,
                channel_id=command.leg_id,
                timeout=command.ring_timeout,
                caller_id=command.caller_id,
                variables=variables,
            )
        except ActionRefused as err:
            log.error("originate to %s for call %s refused: %s", command.endpoint, command.call_id, err)
            self._apply(self.engine.leg_failed(command.leg_id, self.clock(), unreachable=True))
        except LinkDown as err:
            log.warning("originate for call %s not sent (%s); offer held", command.call_id, err)
            self._apply(self.engine.pbx_error(command.leg_id, self.clock()))

    async def _play_message(self, command: PlayMessageAndHangup) -> None:
        self._pending_messages[command.call_id] = command
        try:
            await self.pbx.setvar(command.channel, Var.MESSAGE, command.message)
            await self.pbx.redirect(command.channel, Context.MESSAGE, "s", 1)
        except ActionRefused as err:
            self._pending_messages.pop(command.call_id, None)
            log.info("message for call %s not played: %s", command.call_id, err)
        except LinkDown as err:
            log.warning("message for call %s will be retried after reconnect (%s)", command.call_id, err)
        else:
            self._pending_messages.pop(command.call_id, None)

    async def _resync(self, periodic: bool = False) -> None:
        """Bring the engine in line with the channels the PBX has now (logged when it corrects)."""
        try:
            snapshots = await self.pbx.core_show_channels()
        except PbxError as err:
            log.warning("resynchronisation failed (%s); waiting for the next connect", err)
            return
        by_id = {s.uniqueid: s for s in snapshots}
        now = self.clock()
        # a channel created after the listing started is not in it: leave young ones alone
        settled = now - RESYNC_SETTLE
        for call_id, call in list(self.engine.calls.items()):
            if call_id in by_id or call.channel == "" or call.kind.value != "call":
                continue
            if periodic and call.queued_at > settled:
                continue
            log.warning("call %s has no channel any more: recorded as hung up", call_id)
            self._apply(self.engine.caller_hung_up(call_id, now))
        for leg in list(self.engine.legs.values()):
            snap = by_id.get(leg.id)
            if snap is None:
                if periodic and self._leg_started.get(leg.id, 0.0) > settled:
                    continue
                log.warning("agent %s: leg %s has no channel any more: corrected", leg.agent_id, leg.id)
                self._apply(self.engine.leg_hung_up(leg.id, now))
            elif not leg.answered and snap.bridge_id:
                self._apply(self.engine.leg_answered(leg.id, now))
        for snap in snapshots:
            self.channels.learn(snap.uniqueid, snap.channel)
            if periodic or snap.uniqueid in self.engine.calls or snap.uniqueid in self.engine.legs:
                continue
            try:
                await self._adopt(snap, by_id, now)
            except PbxError as err:
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
        if snap.context == Context.HOLD and not snap.bridge_id:
            queue = await self.pbx.getvar(snap.channel, Var.QUEUE)
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
        elif snap.context == Context.AGENT and snap.bridge_id:
            call_id = await self.pbx.getvar(snap.channel, Var.CALL)
            agent_id = await self.pbx.getvar(snap.channel, Var.AGENT)
            caller = by_id.get(call_id or "")
            if caller is None or not agent_id:
                return
            queue = await self.pbx.getvar(caller.channel, Var.QUEUE) or ""
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
