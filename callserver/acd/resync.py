"""Brings the engine in line with the channels the PBX has (`CoreShowChannels`), on every (re)connect
and periodically: calls and legs whose channel is gone are ended, legs found bridged are answered,
and after a (re)connect, callers waiting on hold or talking to one of our agents are adopted.

A periodic check adopts nothing and leaves alone what is younger than the listing may show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..pbx.actions import PbxActions, PbxError
from ..pbx.channels import ChannelNames
from ..pbx.dialplan import Context, Var
from ..pbx.events import ChannelSnapshot
from .adapter import PbxCommands
from .commands import Command
from .engine import AcdEngine
from .model import CallKind

log = logging.getLogger("callserver.acd.adapter")

# a periodic check ignores calls and legs younger than this (the listing may predate them)
RESYNC_SETTLE = 5.0


class Resync:
    def __init__(
        self,
        engine: AcdEngine,
        pbx: PbxActions,
        channels: ChannelNames,
        commands: PbxCommands,
        *,
        apply: Callable[[list[Command]], None],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        clock: Callable[[], float],
    ) -> None:
        self.engine = engine
        self.pbx = pbx
        self.channels = channels
        self.commands = commands
        self.apply = apply
        self.spawn = spawn
        self.clock = clock
        self.runs = 0
        self._task: asyncio.Task[None] | None = None

    def start(self, *, periodic: bool = False) -> None:
        """Run one resynchronisation; after a (re)connect it replaces any run under way."""
        if periodic:
            if self._task is not None and not self._task.done():
                return
            self._task = asyncio.create_task(self.run(periodic=True), name="acd-reconcile-run")
            return
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.create_task(self.run(), name="acd-resync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def run(self, periodic: bool = False) -> None:
        """Bring the engine in line with the channels the PBX has now (logged when it corrects)."""
        try:
            snapshots = await self.pbx.core_show_channels()
        except PbxError as err:
            log.warning("resynchronisation failed (%s); waiting for the next connect", err)
            return
        engine = self.engine
        by_id = {s.uniqueid: s for s in snapshots}
        now = self.clock()
        # a channel created after the listing started is not in it: leave young ones alone
        settled = now - RESYNC_SETTLE
        for call_id, call in list(engine.calls.items()):
            if call_id in by_id or call.channel == "" or call.kind is not CallKind.CALL:
                continue
            if periodic and call.queued_at > settled:
                continue
            log.warning("call %s has no channel any more: recorded as hung up", call_id)
            self.apply(engine.caller_hung_up(call_id, now))
        for leg in list(engine.legs.values()):
            snap = by_id.get(leg.id)
            if snap is None:
                if periodic and self.commands.leg_started(leg.id) > settled:
                    continue
                log.warning("agent %s: leg %s has no channel any more: corrected", leg.agent_id, leg.id)
                self.apply(engine.leg_hung_up(leg.id, now))
            elif not leg.answered and snap.bridge_id:
                self.apply(engine.leg_answered(leg.id, now))
        for snap in snapshots:
            self.channels.learn(snap.uniqueid, snap.channel)
            if periodic or snap.uniqueid in engine.calls or snap.uniqueid in engine.legs:
                continue
            try:
                await self._adopt(snap, by_id, now)
            except PbxError as err:
                log.warning("could not adopt channel %s: %s", snap.channel, err)
        for pending in self.commands.messages_to_retry(set(by_id)):
            self.spawn(self.commands.play_message(pending))
        self.runs += 1
        log.info("resynchronised: %d channels, %d live calls", len(snapshots), len(engine.calls))
        self.apply(engine.set_pbx_ready(True, self.clock()))

    async def _adopt(self, snap: ChannelSnapshot, by_id: dict[str, ChannelSnapshot], now: float) -> None:
        engine = self.engine
        if snap.context == Context.HOLD and not snap.bridge_id:
            queue = await self.pbx.getvar(snap.channel, Var.QUEUE)
            if queue and queue in engine.queues:
                log.info("adopting waiting call %s (%s) in %s", snap.uniqueid, snap.channel, queue)
                self.apply(
                    engine.call_arrived(
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
            self.apply(
                engine.adopt_connected(
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
