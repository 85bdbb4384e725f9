"""Brings the engine in line with the channels the PBX has (`CoreShowChannels`), on every (re)connect
and periodically: calls and legs whose channel is gone are ended (with how and when, as far as the
PBX let us know: see pbxstate.py), legs found bridged are answered, and after a (re)connect what the
PBX still has is adopted (recovery.py decides how) and the agents' phones are checked.

After a restart the first resynchronisation also closes the calls the database still had open that
nothing live matched. A periodic check adopts nothing, and is incremental: it first asks the PBX how
many channels it has (`CoreStatus`, one small reply) and lists them all only when that differs from
the channels callserver knows from events (or every `DEEP_EVERY` checks anyway). Every loop over a
listing or the engine's calls hands the event loop back every few milliseconds (`Pacer`), so even a
listing of 20,000 channels never holds other calls' events for long; whatever changed meanwhile is
checked again before it is acted on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..collector import collections_paused
from ..facts.model import CallEnded, Fact
from ..pbx.actions import ActionRefused, PbxActions, PbxError
from ..pbx.channels import ChannelNames
from ..pbx.dialplan import Var
from ..pbx.events import ChannelSnapshot, DeviceStateChanged
from ..pbx.pacer import DEFAULT_BUDGET, Pacer
from .adapter import PbxCommands
from .commands import Command
from .engine import AcdEngine
from .model import CallKind
from .pbxstate import PbxState
from .recovery import (
    AdoptConnected,
    AdoptConsult,
    AdoptOffer,
    AdoptStrayLeg,
    AdoptWaiting,
    ChannelVars,
    OpenCall,
    Step,
    close_open_calls,
    is_caller,
    may_be_agent_leg,
    plan,
)

log = logging.getLogger("callserver.acd.adapter")

# a listing ignores legs younger than this (an Originate may not have made its channel yet); after a
# (re)connect that skipped some, the channels are listed again once they are this old
RESYNC_SETTLE = 5.0
# channel variables read at once while adopting (one AMI round trip each)
GETVAR_BATCH = 32
# a periodic check lists every channel at least once in this many checks, counts agreeing or not
DEEP_EVERY = 10
# snapshots freed between two of the pacer's steps at the end of a listing (tens of µs)
_FREE_SLICE = 64


class Resync:
    def __init__(
        self,
        engine: AcdEngine,
        pbx: PbxActions,
        channels: ChannelNames,
        commands: PbxCommands,
        *,
        pbx_state: PbxState,
        device_state: Callable[[DeviceStateChanged], None],
        apply: Callable[[list[Command]], None],
        publish: Callable[[Fact], None],
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        clock: Callable[[], float],
        pace_budget: float = DEFAULT_BUDGET,
    ) -> None:
        self.engine = engine
        self.pace_budget = pace_budget  # longest stretch of work before the loop is handed back
        self.pbx = pbx
        self.channels = channels
        self.commands = commands
        self.pbx_state = pbx_state
        self.device_state = device_state
        self.apply = apply
        self.publish = publish
        self.spawn = spawn
        self.clock = clock
        self.runs = 0  # full resynchronisations done (with a listing)
        self.checks = 0  # periodic checks the channel count alone settled
        self.yields = 0  # times a run handed the loop back (benchmarks)
        # seconds: the longest a run held the loop between hand-backs (wall clock, CPU time)
        self.longest_stretch = self.longest_stretch_cpu = 0.0
        self._task: asyncio.Task[None] | None = None
        self._again: asyncio.Task[None] | None = None
        self._open_calls: dict[str, OpenCall] | None = None

    def recover(self, open_calls: list[OpenCall]) -> None:
        """Calls the database shows in progress at start-up: the first resynchronisation adopts
        those the PBX still has and closes the others."""
        self._open_calls = {c.id: c for c in open_calls}

    def start(self, *, periodic: bool = False, deep: bool = False) -> None:
        """Run one resynchronisation; after a (re)connect it replaces any run under way."""
        if periodic:
            if self._task is not None and not self._task.done():
                return
            self._task = asyncio.create_task(self.run(periodic=True, deep=deep), name="acd-reconcile-run")
            return
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.create_task(self.run(), name="acd-resync")

    async def stop(self) -> None:
        for task in (self._again, self._task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def run(self, periodic: bool = False, *, deep: bool = False) -> None:
        """Bring the engine in line with the channels the PBX has now (logged when it corrects).

        A `periodic` check lists the channels only when their count differs from callserver's (or
        when `deep`). The listing runs with the collector's automatic collections paused (see
        `collections_paused`)."""
        if periodic and not deep and not await self._needs_listing():
            return
        with collections_paused():
            await self._listed(periodic)

    async def _listed(self, periodic: bool) -> None:
        engine = self.engine
        asked = self.clock()
        calls_before = set(engine.calls)  # a call's channel exists before the call is known
        names_before = self.channels.known()
        try:
            snapshots = await self.pbx.core_show_channels()
        except PbxError as err:
            log.warning("resynchronisation failed (%s); waiting for the next connect", err)
            return
        pace = Pacer(self.pace_budget)  # starts now, after the wait for the listing
        by_id: dict[str, ChannelSnapshot] = {}
        for snap in snapshots:
            by_id[snap.uniqueid] = snap
            self.channels.learn(snap.uniqueid, snap.channel)
            await pace()
        await pace.hand_back()  # the comparison below goes over every channel at once
        self.channels.forget_missing(names_before, set(by_id))
        await pace.hand_back()
        now = self.clock()
        ending = self.pbx_state.vanished(now)
        for call_id in calls_before:
            await pace()
            call = engine.calls.get(call_id)
            if call_id in by_id or call is None or call.channel == "" or call.kind is not CallKind.CALL:
                continue
            log.warning("call %s has no channel any more: %s", call_id, ending.reason)
            self.apply(engine.caller_hung_up(call_id, self.clock(), ending))
        settled = asked - RESYNC_SETTLE
        young = 0  # unlisted legs too recent to judge: their channel may not exist yet
        for leg_id in list(engine.legs):
            await pace()
            leg = engine.legs.get(leg_id)
            if leg is None:
                continue
            listed = by_id.get(leg_id)
            if listed is None:
                if self.commands.leg_started(leg_id) > settled:
                    young += 1
                    continue
                log.warning("agent %s: leg %s has no channel any more: corrected", leg.agent_id, leg_id)
                self.apply(engine.leg_hung_up(leg_id, self.clock(), ending))
            elif not leg.answered and listed.bridge_id:
                self.apply(engine.leg_answered(leg_id, self.clock()))
        if not periodic:
            await self._adopt(snapshots, pace)
            await self._check_phones()
            self._close_open_calls()
            self.pbx_state.resynchronised()
            if young:
                self._look_again(young)
        for pending in self.commands.messages_to_retry(set(by_id)):
            self.spawn(self.commands.play_message(pending))
        self.runs += 1
        self.yields += pace.yields
        self.longest_stretch = max(self.longest_stretch, pace.longest)
        self.longest_stretch_cpu = max(self.longest_stretch_cpu, pace.longest_cpu)
        log.info("resynchronised: %d channels, %d live calls", len(snapshots), len(engine.calls))
        # the listing is freed a slice at a time: 20,000 snapshots freed at once when this returned
        # held the loop 5-10 ms, outside any paced stretch
        by_id.clear()
        while snapshots:
            del snapshots[-_FREE_SLICE:]
            await pace()
        if not engine.pbx_ready:
            # offers were held while the link was down: everything waiting is looked at again. A
            # periodic check with the link up has nothing to release (its corrections dispatched
            # as they were applied), and looking at 20,000 waiting calls again held the loop 13 ms
            self.apply(engine.set_pbx_ready(True, self.clock()))

    def _look_again(self, young: int) -> None:
        """After a (re)connect, legs originated just before the link went down and not listed are
        judged by a second listing once old enough. Their channel may have ended while the link was
        down (the agent declined, the call was over): without it each would hold its agent ringing
        until the ring time-out. Periodic checks do not do this: under traffic they always find
        young legs, and the next check sees them anyway. A later reconnect puts the second look
        off until its own young legs are old enough too (the earlier ones are older still)."""
        if self._again is not None:
            self._again.cancel()
        self._again = asyncio.create_task(self._again_later(young), name="acd-resync-again")

    async def _again_later(self, young: int) -> None:
        await asyncio.sleep(RESYNC_SETTLE)  # until those legs are old enough to judge
        log.info("listing the channels again: %d agent leg(s) were too recent to judge", young)
        self.start(periodic=True, deep=True)

    async def _needs_listing(self) -> bool:
        """A periodic check: does the PBX's channel count say callserver missed something?"""
        if (self.checks + self.runs) % DEEP_EVERY == DEEP_EVERY - 1:
            return True
        try:
            count = await self.pbx.channel_count()
        except PbxError as err:
            log.warning("periodic check failed (%s); trying again at the next", err)
            return False
        if count == len(self.channels):
            self.checks += 1
            return False
        log.info("the PBX has %d channels, callserver knows %d: listing them", count, len(self.channels))
        return True

    # -- after a (re)connect ------------------------------------------------------------------

    async def _adopt(self, snapshots: list[ChannelSnapshot], pace: Pacer) -> None:
        engine = self.engine
        open_calls = self._open_calls or {}
        endpoints = {a.endpoint for a in engine.agents.values() if a.endpoint}
        unknown = []
        for snap in snapshots:
            await pace()
            if snap.uniqueid not in engine.calls and snap.uniqueid not in engine.legs:
                unknown.append(snap)
        wanted: list[tuple[ChannelSnapshot, bool]] = []  # (channel, agent leg?) whose variables to read
        for snap in unknown:
            if may_be_agent_leg(snap, endpoints):
                wanted.append((snap, True))
            elif is_caller(snap) and not (snap.uniqueid in open_calls and open_calls[snap.uniqueid].queue):
                wanted.append((snap, False))
        variables: dict[str, ChannelVars] = {}
        for start in range(0, len(wanted), GETVAR_BATCH):
            batch = wanted[start : start + GETVAR_BATCH]
            found = await asyncio.gather(*(self._read_vars(snap, leg) for snap, leg in batch))
            pace.restart()
            for (snap, _), value in zip(batch, found, strict=True):
                variables[snap.uniqueid] = value
        steps = plan(
            unknown,
            variables,
            open_calls,
            known=lambda uniqueid: uniqueid in engine.calls or uniqueid in engine.legs,
            now=self.clock(),
        )
        for step in steps:
            await pace()
            self._take(step)

    async def _read_vars(self, snap: ChannelSnapshot, agent_leg: bool) -> ChannelVars:
        try:
            if not agent_leg:
                return ChannelVars(queue=await self.pbx.getvar(snap.channel, Var.QUEUE) or "")
            agent = await self.pbx.getvar(snap.channel, Var.AGENT) or ""
            if not agent or agent not in self.engine.agents:
                return ChannelVars()
            return ChannelVars(agent=agent, call=await self.pbx.getvar(snap.channel, Var.CALL) or "")
        except PbxError as err:
            log.warning("could not read the variables of channel %s: %s", snap.channel, err)
            return ChannelVars()

    def _take(self, step: Step) -> None:
        """Apply one adoption step; a leg that could not be linked keeps its agent busy anyway."""
        engine = self.engine
        now = self.clock()
        match step:
            case AdoptWaiting():
                log.info("adopting waiting call %s (%s) in %s", step.call_id, step.channel, step.queue)
                self.apply(
                    engine.call_arrived(
                        step.call_id,
                        channel=step.channel,
                        caller_num=step.caller_num,
                        caller_name=step.caller_name,
                        dnis=step.dnis,
                        queue=step.queue,
                        now=now,
                        arrived_at=step.arrived_at,
                        kind=step.kind,
                        adopted=True,
                    )
                )
            case AdoptConnected():
                log.info(
                    "adopting %s call %s with agent %s on leg %s",
                    "held" if step.on_hold else "connected",
                    step.call_id,
                    step.agent_id,
                    step.leg_id,
                )
                self.apply(
                    engine.adopt_connected(
                        step.call_id,
                        channel=step.channel,
                        caller_num=step.caller_num,
                        caller_name=step.caller_name,
                        queue=step.queue,
                        agent_id=step.agent_id,
                        leg_id=step.leg_id,
                        now=now,
                        arrived_at=step.arrived_at,
                        answered_at=step.answered_at,
                        on_hold=step.on_hold,
                        kind=step.kind,
                    )
                )
                self._unlinked(step.leg_id, step.agent_id, hang_up=False)
            case AdoptOffer():
                log.info(
                    "adopting the offer of call %s to %s on leg %s", step.call_id, step.agent_id, step.leg_id
                )
                self.apply(
                    engine.adopt_offer(
                        step.call_id,
                        agent_id=step.agent_id,
                        leg_id=step.leg_id,
                        now=now,
                        picked_up=step.picked_up,
                        claimed=step.claimed,
                    )
                )
                self._unlinked(step.leg_id, step.agent_id, hang_up=True)
            case AdoptConsult():
                log.info("adopting %s's consultation on call %s", step.agent_id, step.call_id)
                self.apply(
                    engine.adopt_consult(
                        step.call_id,
                        agent_id=step.agent_id,
                        leg_id=step.leg_id,
                        now=now,
                        answered=step.answered,
                    )
                )
                self._unlinked(step.leg_id, step.agent_id, hang_up=not step.answered)
            case AdoptStrayLeg():
                self._unlinked(step.leg_id, step.agent_id, hang_up=step.hang_up)

    def _unlinked(self, leg_id: str, agent_id: str, *, hang_up: bool) -> None:
        if leg_id in self.engine.legs:
            return
        log.warning(
            "agent %s: leg %s belongs to no call callserver has: %s",
            agent_id,
            leg_id,
            "hung up" if hang_up else "the agent stays busy until it ends",
        )
        self.apply(self.engine.adopt_stray_leg(leg_id, agent_id=agent_id, now=self.clock(), hang_up=hang_up))

    async def _check_phones(self) -> None:
        """Device states at (re)connect: a phone that went away while we were not looking."""
        try:
            states = await self.pbx.device_states()
        except ActionRefused as err:
            log.info("the PBX lists no device states (%s): phones are followed by events only", err)
            return
        except PbxError as err:
            log.warning("device states not read: %s", err)
            return
        for state in states:
            self.device_state(state)

    def _close_open_calls(self) -> None:
        """Once, after a restart: what the database had open and nothing live matched is closed."""
        if self._open_calls is None:
            return
        open_calls, self._open_calls = self._open_calls, None
        facts = close_open_calls(
            open_calls.values(),
            live=self.engine.knows,
            pbx_restarted_since=self.pbx_state.up_since,
        )
        closed = sum(1 for f in facts if isinstance(f, CallEnded))
        if open_calls:
            log.warning(
                "start-up: %d call(s) were in progress in the database: %d adopted, %d closed",
                len(open_calls),
                len(open_calls) - closed,
                closed,
            )
        for fact in facts:
            self.publish(fact)
