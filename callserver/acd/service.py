"""The ACD as the rest of callserver uses it: verbs (a status change, a transfer, a voicemail task)
and read-only views (agents, calls, queues), over the engine run against a PBX.

Everything outside `acd/` goes through here, never to the engine itself. The service feeds the
engine the PBX events it subscribes to, runs its timers, carries out its commands (adapter.py),
publishes its facts, and resynchronises it with the PBX on every (re)connect (resync.py). The engine
is only ever touched from the event loop, one input at a time, so it needs no lock.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from ..facts.model import CallEnded, CallRejected, CallWrappedUp, Fact, TransferProgress, TransferState
from ..pbx.actions import PbxActions, PbxError
from ..pbx.channels import ChannelNames
from ..pbx.dialplan import Context
from ..pbx.events import InboundCall
from ..pbx.hub import Subscriptions
from .adapter import PbxCommands
from .commands import Command, OriginateAgentLeg
from .engine import AcdEngine
from .expr import parse
from .inputs import PbxInputs
from .model import AgentStatus, CallKind
from .recovery import OpenCall
from .resync import Resync
from .views import AgentView, CallView, LegView, QueueLoad, agent_view, call_view, leg_view, queue_load
from .views import waiting_calls as waiting_views
from .wrapups import Draft, WrapupDrafts

log = logging.getLogger("callserver.acd.adapter")


class UnknownAgent(KeyError):
    """No agent with that id in the configuration."""


@dataclass(frozen=True, slots=True)
class Deferred:
    """The PBX work an engine decision left to do, held until the caller's channel has moved.

    Call control moves the caller first and then `carry_out`s this, so the hangup of the agent leg
    a transfer releases never reads as "the agent ended the call".
    """

    commands: tuple[Command, ...]


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
        self._engine = engine
        self.channels = channels
        self.on_fact = on_fact
        self.clock = clock
        self.reconcile_every = reconcile_every
        self._inputs = PbxInputs(
            engine,
            apply=self._apply,
            clock=clock,
            on_link_up=lambda: self._resync.start(),
            on_channel_gone=lambda uniqueid: self._commands.channel_gone(uniqueid),
        )
        self._commands = PbxCommands(pbx, channels, self._inputs, clock, lines=self)
        self._drafts = WrapupDrafts()
        self._agent_ends: set[str] = set()  # calls an agent asked to end (see `agent_ends`)
        self._resync = Resync(
            engine,
            pbx,
            channels,
            self._commands,
            pbx_state=self._inputs.pbx_state,
            device_state=self._inputs.device_state,
            apply=self._apply,
            publish=self._publish_outside,
            spawn=self._spawn,
            clock=clock,
        )
        self._wake = asyncio.Event()
        self._armed_for = -math.inf  # the deadline the timer loop sleeps until (inf: none)
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer_task: asyncio.Task[None] | None = None
        self._reconcile_task: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._timer_task = asyncio.create_task(self._timer_loop(), name="acd-timers")
        if self.reconcile_every:
            self._reconcile_task = asyncio.create_task(self._reconcile_loop(), name="acd-reconcile")

    async def stop(self) -> None:
        tasks = [t for t in (self._timer_task, self._reconcile_task) if t is not None]
        tasks += list(self._tasks)
        for task in tasks:
            task.cancel()
        await self._resync.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._flush_facts()

    def hold_offers(self) -> None:
        """No offers until the PBX link is up and resynchronised (the server starting)."""
        self._apply(self._engine.set_pbx_ready(False, self.clock()))

    def recover(self, open_calls: list[OpenCall]) -> None:
        """At start-up, before the PBX link: the calls the database still shows in progress. The
        first resynchronisation adopts those the PBX still has and closes the rest, saying so."""
        self._resync.recover(open_calls)

    @property
    def resyncs(self) -> int:
        """How many resynchronisations with the PBX have completed."""
        return self._resync.runs

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checking after each engine input (for tests, tools)."""
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    # -- PBX events ---------------------------------------------------------------------------

    def subscriptions(self) -> Subscriptions:
        """The PBX events the ACD follows (see inputs.py)."""
        return self._inputs.subscriptions()

    # -- verbs: callers and scripts -------------------------------------------------------------

    def inbound_call(self, call: InboundCall, queue: str, data: dict[str, object] | None = None) -> None:
        """A caller reached the inbound AGI and was routed to `queue` (variables already set).

        `data` (IVR answers, customer record) uses requirement names: `call.language`, `customer.vip`.
        """
        self._inputs.inbound_call(call, queue, data)

    def reject_call(self, call: InboundCall, reason: str) -> None:
        """Record a call no queue takes (the dialplan tells the caller and hangs up)."""
        self._publish(
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
        engine = self._engine
        self._apply(engine.leg_claim(leg_id, self.clock()))
        leg = engine.legs.get(leg_id)
        if leg is None or not leg.claimed:
            return None
        call = engine.calls.get(leg.call_id)
        callback = call is not None and call.kind is CallKind.CALLBACK
        return (Context.AGENT_DIAL if callback else Context.AGENT_BRIDGE).agent_choice

    def leg_refused(self, leg_id: str) -> None:
        """A remote agent did not press the accept key: counts as not answering."""
        self._apply(self._engine.leg_failed(leg_id, self.clock()))

    def task_arrived(
        self,
        task_id: str,
        *,
        queue: str,
        data: dict[str, object] | None,
        caller_num: str = "",
        agent: str | None = None,
        require: str | None = None,
    ) -> None:
        """Work that is not a live call (a voicemail, a callback request) to route like one, behind
        live calls: only to `agent` when given; to agents meeting `require` (a requirement
        expression, docs/requirements.md) instead of the queue's routing steps when given.
        ValueError for an unknown queue or agent, RequirementError for a bad requirement."""
        if not self.has_queue(queue):
            raise ValueError(f"task {task_id}: unknown queue {queue!r}")
        requirement = parse(require) if require is not None else None
        self._apply(
            self._engine.task_arrived(
                task_id,
                queue=queue,
                data=data,
                now=self.clock(),
                caller_num=caller_num,
                agent=agent,
                requirement=requirement,
            )
        )

    def task_done(self, task_id: str) -> None:
        """The agent finished the task: they are free for the next call or task (once the callback
        to the customer, if one is up, is over)."""
        self._apply(self._engine.task_done(task_id, self.clock()))

    def callback_started(self, agent_id: str, leg_id: str, task_id: str | None) -> None:
        """The agent calls a customer back on a leg being placed as `leg_id`: busy until it is gone."""
        self._known_agent(agent_id)
        self._apply(self._engine.callback_started(agent_id, leg_id, task_id, self.clock()))

    def callback_not_placed(self, leg_id: str) -> None:
        """The PBX refused the callback's leg: the agent is free of it."""
        self._apply(self._engine.leg_failed(leg_id, self.clock()))

    # -- verbs: agents --------------------------------------------------------------------------

    def set_status(self, agent_id: str, status: AgentStatus, reason: str = "") -> AgentView:
        """The agent's own choice (or a supervisor's for them): available, paused + reason, logged out."""
        self._known_agent(agent_id)
        self._apply(self._engine.set_status(agent_id, status, self.clock(), reason))
        return agent_view(self._engine.agents[agent_id])

    def set_endpoint(self, agent_id: str, endpoint: str, *, remote: bool) -> AgentView:
        """Where the agent takes calls from now on (a remote agent on their home number)."""
        self._known_agent(agent_id)
        self._engine.set_endpoint(agent_id, endpoint, remote=remote)
        self._endpoint_changed(agent_id)
        return agent_view(self._engine.agents[agent_id])

    def reset_endpoint(self, agent_id: str) -> AgentView:
        """Back to the phone the configuration gives the agent."""
        self._known_agent(agent_id)
        self._engine.reset_endpoint(agent_id)
        self._endpoint_changed(agent_id)
        return agent_view(self._engine.agents[agent_id])

    def _endpoint_changed(self, agent_id: str) -> None:
        # what the PBX said about the old phone says nothing about the new one
        self._inputs.endpoints_changed()
        self._apply(self._engine.phone_reachable(agent_id, True, self.clock()))

    def wrapup_done(self, agent_id: str) -> None:
        """End the agent's wrap-up now (no-op when they are not in wrap-up)."""
        self._apply(self._engine.wrapup_done(agent_id, self.clock()))

    def extend_wrapup(self, agent_id: str, seconds: float) -> float | None:
        """More wrap-up time, up to the queue's maximum: the new end (None: not in wrap-up)."""
        self._known_agent(agent_id)
        until = self._engine.extend_wrapup(agent_id, seconds, self.clock())
        self._apply([])
        return until

    def save_wrapup_draft(self, agent_id: str, call_id: str, code: str, note: str) -> bool:
        """What the agent has chosen and typed so far; saved for them if the wrap-up ends without
        the form. False when they are neither on that call nor wrapping it up."""
        return self._drafts.save(agent_id, call_id, code, note)

    def wrapup_draft(self, agent_id: str) -> Draft | None:
        return self._drafts.draft(agent_id)

    def wrap_up(
        self, call_id: str, agent_id: str | None, code: str, note: str, by: str, *, ends_wrapup: bool = True
    ) -> bool:
        """Record a wrap-up (a `CallWrappedUp` fact). When `agent_id` is in the wrap-up of that
        call and `ends_wrapup` (the agent sent their own form), that wrap-up ends with it (True);
        otherwise the record is simply replaced (a supervisor's or a later correction)."""
        now = self.clock()
        if agent_id is not None and ends_wrapup:
            done, commands = self._engine.finish_wrapup(agent_id, call_id, code, note, by, now)
            if done:
                self._apply(commands)
                return True
        self._publish(CallWrappedUp(call_id, now, agent_id, code, note, by))
        return False

    def consult_number_progress(
        self, call_id: str, agent_id: str | None, number: str, state: TransferState
    ) -> None:
        """A consultation with an outside number moved on (call control follows those legs itself)."""
        self._publish(TransferProgress(call_id, self.clock(), agent_id, "consult", "number", number, state))

    def seed_calls_today(self, answered: dict[str, int]) -> None:
        """Today's answered calls per agent, as the database counted them before this process."""
        for agent_id, count in answered.items():
            self._engine.seed_calls_today(agent_id, count)

    # -- verbs: persistent lines and outside work (campaigns) -------------------------------

    def set_line(self, agent_id: str, line_id: str | None) -> None:
        """The agent's persistent line is up (its channel uniqueid) or gone: while it is up, the
        agent takes offers by a bridge into it (acd/lines.py)."""
        self._known_agent(agent_id)
        self._apply(self._engine.set_line(agent_id, line_id, self.clock()))

    def engage(self, agent_id: str, by: str) -> None:
        """Outside work (`by`, e.g. `campaign:spring`) has the agent: no offer until `release`."""
        self._known_agent(agent_id)
        self._apply(self._engine.engage(agent_id, by, self.clock()))

    def release(self, agent_id: str) -> None:
        self._known_agent(agent_id)
        self._apply(self._engine.release(agent_id, self.clock()))

    # LineFeedback, for the adapter: offers on persistent lines
    def is_line(self, leg_id: str) -> bool:
        return self._engine.lines.is_line(leg_id)

    def claim_line_leg(self, leg_id: str) -> bool:
        self._apply(self._engine.leg_claim(leg_id, self.clock()))
        leg = self._engine.legs.get(leg_id)
        return leg is not None and leg.claimed

    def line_leg_done(self, leg_id: str) -> None:
        self._apply(self._engine.line_leg_done(leg_id, self.clock()))

    def _known_agent(self, agent_id: str) -> None:
        if agent_id not in self._engine.agents:
            raise UnknownAgent(agent_id)

    # -- verbs: call control (NotAllowed when the call's state does not permit it) -------------

    def hold(self, call_id: str) -> None:
        self._apply(self._engine.hold(call_id, self.clock()))

    def resume(self, call_id: str) -> None:
        self._apply(self._engine.resume(call_id, self.clock()))

    def transfer_to_queue(self, call_id: str, queue: str) -> Deferred:
        return Deferred(tuple(self._engine.transfer_to_queue(call_id, queue, self.clock())))

    def transfer_to_agent(self, call_id: str, agent_id: str) -> Deferred:
        return Deferred(tuple(self._engine.transfer_to_agent(call_id, agent_id, self.clock())))

    def transfer_out(self, call_id: str, number: str) -> Deferred:
        return Deferred(tuple(self._engine.transfer_out(call_id, number, self.clock())))

    def consult_agent(self, call_id: str, agent_id: str) -> Deferred:
        """A colleague to ring for the agent to consult; `ring_consult` places the call."""
        return Deferred(tuple(self._engine.consult_agent(call_id, agent_id, self.clock())))

    def consult_complete(self, call_id: str) -> Deferred:
        return Deferred(tuple(self._engine.consult_complete(call_id, self.clock())))

    def consult_cancel(self, call_id: str) -> None:
        self._apply(self._engine.consult_cancel(call_id, self.clock()))

    def carry_out(self, decision: Deferred) -> None:
        """Run what a decision left to do, now that the caller has moved."""
        self._apply(list(decision.commands))

    async def ring_consult(self, decision: Deferred) -> str:
        """Place the consultation leg of `consult_agent` and wait until the PBX has taken it.

        Returns the leg's id; PbxError (the leg then counts as unreachable) when it could not."""
        consult = next(
            c for c in decision.commands if isinstance(c, OriginateAgentLeg) and c.purpose == "consult"
        )
        self._apply([c for c in decision.commands if c is not consult])
        try:
            await self._commands.originate_leg(consult)
        except PbxError as err:
            log.warning("consultation leg %s not placed: %s", consult.leg_id, err)
            self._inputs.leg_unreachable(consult.leg_id)
            raise
        return consult.leg_id

    # -- views ----------------------------------------------------------------------------------

    def agent(self, agent_id: str) -> AgentView | None:
        agent = self._engine.agents.get(agent_id)
        return agent_view(agent) if agent is not None else None

    def agents(self) -> list[AgentView]:
        """Every agent, in configuration order."""
        return [agent_view(a) for a in self._engine.agents.values()]

    def call(self, call_id: str) -> CallView | None:
        """A live call (waiting, offered, connected) or voicemail task; None once it has ended."""
        call = self._engine.calls.get(call_id)
        return call_view(call) if call is not None else None

    def calls(self) -> list[CallView]:
        return [call_view(c) for c in self._engine.calls.values()]

    def waiting_calls(self) -> list[CallView]:
        """Calls not yet connected, in the order they queued."""
        return waiting_views(self._engine.calls.values())

    def leg(self, leg_id: str) -> LegView | None:
        """An agent leg the ACD placed and is still up; None otherwise."""
        leg = self._engine.legs.get(leg_id)
        return leg_view(leg, self._engine.agents[leg.agent_id]) if leg is not None else None

    def legs(self) -> list[LegView]:
        return [leg_view(leg, self._engine.agents[leg.agent_id]) for leg in self._engine.legs.values()]

    def queues(self) -> list[str]:
        """Queue names, in configuration order."""
        return list(self._engine.queues)

    def has_queue(self, name: str) -> bool:
        return name in self._engine.queues

    def queue_load(self, name: str) -> QueueLoad:
        return queue_load(name, self._engine.calls.values(), self._engine.agents.values())

    # -- plumbing -------------------------------------------------------------------------------

    def _apply(self, commands: list[Command]) -> None:
        """Publish the engine's facts, start its commands, and wake whoever waits on a change."""
        self._flush_facts()
        for command in commands:
            self._spawn(self._commands.execute(command))
        # the timer loop sleeps until its deadline: woken only when a sooner one was armed (not
        # after every event, which cost a loop turn and a timeout per PBX event)
        deadline = self._engine.next_deadline()
        if deadline is not None and deadline < self._armed_for:
            self._wake.set()
        self._changed.set()

    def _flush_facts(self) -> None:
        for fact in self._engine.pop_facts():
            self._publish(fact)

    def agent_ends(self, call_id: str, asked: bool = True) -> None:
        """The agent (or a supervisor) asked to end the call: the PBX then hangs up the caller's line,
        which the engine sees as the caller leaving, so the end is recorded as the agent's.
        `asked=False` withdraws it (the hang-up failed)."""
        if asked:
            self._agent_ends.add(call_id)
        else:
            self._agent_ends.discard(call_id)

    def _publish(self, fact: Fact) -> None:
        """Publish a fact, then whatever wrap-up its drafts say to save because of it."""
        if isinstance(fact, CallEnded) and fact.call_id in self._agent_ends:
            self._agent_ends.discard(fact.call_id)
            if fact.ended_by == "caller":
                fact = replace(fact, ended_by="agent")
        self.on_fact(fact)
        for saved in self._drafts.on_fact(fact):
            self._publish(saved)

    def _publish_outside(self, fact: Fact) -> None:
        """A fact from outside the engine (calls closed at start-up), after the engine's own."""
        self._flush_facts()
        self._publish(fact)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _timer_loop(self) -> None:
        while True:
            deadline = self._engine.next_deadline()
            self._armed_for = math.inf if deadline is None else deadline
            delay = None if deadline is None else max(0.0, deadline - self.clock())
            self._wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._armed_for = -math.inf  # awake: the top of the loop looks at the deadlines again
            self._apply(self._engine.on_timer(self.clock()))

    async def _reconcile_loop(self) -> None:
        """Periodic check against the channels the PBX reports: no phantom ringing or on-call agent."""
        assert self.reconcile_every is not None
        while True:
            await asyncio.sleep(self.reconcile_every)  # a period, not a poll for a condition
            if self._engine.pbx_ready:
                self._resync.start(periodic=True)
