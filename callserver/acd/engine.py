"""The ACD engine: waiting calls, agents and the offers between them, on a clock passed in.

Sans-I/O: every method takes `now` (seconds) and returns the commands the PBX adapter must carry out;
what happened is queued as facts (`pop_facts`). Timers are data: ask `next_deadline()`, call
`on_timer(now)` when it passes. Invariants: an agent has at most one live leg; a call is offered to
one agent at a time (ring-all queues excepted, where the first to accept wins and the others are
cancelled). Matching is indexed (see router.py); call control lives in handling.py.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import OrderedDict
from collections.abc import Iterable

from ..facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallOffered,
    CallQueued,
    CallRequeued,
    Fact,
    OfferEnded,
    OfferResult,
    Outcome,
)
from ..pbx.dialplan import Var
from .commands import (
    Announce,
    CancelAgentLeg,
    Command,
    ConfirmCallback,
    OfferTask,
    OriginateAgentLeg,
    PlayMessageAndHangup,
    SendCallerTo,
)
from .expr import BoundRequirement
from .model import (
    Agent,
    AgentSpec,
    AgentState,
    AgentStatus,
    Call,
    CallKind,
    CallState,
    Destination,
    Leg,
    QueueSpec,
    Strategy,
)
from .queue_options import TIMEOUT_MESSAGE
from .router import DEFAULT_AGEING, Router

log = logging.getLogger("callserver.acd")

NO_ANSWER_REASON = "no answer"
UNREACHABLE_REASON = "phone unreachable"
# a leg whose PBX result never comes (lost event, half-open link) is given up after this long
LEG_GRACE = 10.0
DEFAULT_TIMEOUT_MESSAGE = TIMEOUT_MESSAGE
# ids of recently ended calls, so a replayed arrival (late AGI, resync race) cannot revive one
ENDED_MEMORY = 10_000
DEFAULT_AHT = 180.0  # seconds, until the queue has handled calls of its own
AHT_WEIGHT = 0.1  # exponential smoothing of the live handle time used for wait estimates


class UnknownQueue(KeyError):
    pass


class EngineCore:
    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        no_answer_resume: float | None = None,
        ageing: float = DEFAULT_AGEING,
        seed: int = 0,
        accept_timeout: float = 15.0,
    ) -> None:
        self.queues: dict[str, QueueSpec] = {q.name: q for q in queues}
        self.agents: dict[str, Agent] = {}
        # the queues an agent serves (for views): any routing step it meets with no call data known
        tests = [
            (q.name, [step.requirement.bind({}).test for step in q.routing_steps()])
            for q in self.queues.values()
        ]
        for spec in agents:
            served = frozenset(name for name, step_tests in tests if any(t(spec.skills) for t in step_tests))
            self.agents[spec.id] = Agent(spec=spec, queues=served)
        self.calls: dict[str, Call] = {}
        self.legs: dict[str, Leg] = {}
        self.router = Router(self.agents, ageing=ageing, seed=seed)
        self.no_answer_resume = no_answer_resume
        self.accept_timeout = accept_timeout
        self.pbx_ready = True
        self.aht: dict[str, float] = {}
        self._legs_of: dict[str, set[str]] = {}
        self._facts: list[Fact] = []
        self._timers: list[tuple[float, int, str, str]] = []
        self._timer_seq = 0
        self._leg_seq = 0
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._dirty_calls: list[str] = []
        # binding a requirement to call data compiles it: calls with the same relevant data share one
        self._bound_cache: dict[tuple[str, tuple[tuple[str, str], ...]], BoundRequirement] = {}
        self._dirty_agents: list[str] = []

    # -- facts and timers -------------------------------------------------------------------

    def pop_facts(self) -> list[Fact]:
        facts, self._facts = self._facts, []
        return facts

    def next_deadline(self) -> float | None:
        while self._timers and not self._timer_live(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _arm(self, at: float, kind: str, ident: str) -> None:
        if math.isfinite(at):
            self._timer_seq += 1
            heapq.heappush(self._timers, (at, self._timer_seq, kind, ident))

    def _timer_live(self, timer: tuple[float, int, str, str]) -> bool:
        at, _, kind, ident = timer
        if kind in ("call", "step", "announce"):
            call = self.calls.get(ident)
            if call is None or call.state is not CallState.WAITING:
                return False
            if kind == "call":
                return call.deadline == at
            if kind == "announce":
                return call.next_announce == at
            return self._step_due(call) == at
        if kind == "leg":
            return ident in self.legs
        agent = self.agents.get(ident)
        if agent is None:
            return False
        if kind == "agent":
            return agent.state_deadline == at
        return agent.resume_at == at  # "resume"

    def on_timer(self, now: float) -> list[Command]:
        out: list[Command] = []
        while self._timers and self._timers[0][0] <= now:
            timer = heapq.heappop(self._timers)
            if not self._timer_live(timer):
                continue
            _, _, kind, ident = timer
            if kind == "call":
                out += self._wait_expired(self.calls[ident], now)
            elif kind == "step":
                self._relax(self.calls[ident], now)
            elif kind == "announce":
                out += self._announce(self.calls[ident], now)
            elif kind == "leg":
                leg = self.legs[ident]
                log.warning(
                    "leg %s of agent %s still there %.0fs after its end", leg.id, leg.agent_id, LEG_GRACE
                )
                self._drop_leg(leg, now)
                out.append(CancelAgentLeg(leg.id))
            elif kind == "agent":
                out += self._agent_deadline(self.agents[ident], now)
            else:
                agent = self.agents[ident]
                agent.resume_at = None
                if agent.status is AgentStatus.PAUSED:
                    self._set_status(agent, AgentStatus.AVAILABLE, "", now)
        return out + self._dispatch(now)

    # -- calls entering and leaving queues -----------------------------------------------------

    def call_arrived(
        self,
        call_id: str,
        *,
        channel: str,
        caller_num: str,
        caller_name: str,
        dnis: str,
        queue: str,
        now: float,
        arrived_at: float | None = None,
        data: dict[str, object] | None = None,
        kind: CallKind = CallKind.CALL,
    ) -> list[Command]:
        """A caller entered a queue (or was adopted again after a reconnect: same id, no-op).

        `data` carries what is known of the call as requirement references: `call.language`,
        `call.priority`, `customer.vip`...: it drives requirements, priority and the screen-pop.
        """
        if call_id in self.calls or call_id in self._ended:
            return []
        spec = self._queue(queue)
        start = now if arrived_at is None else arrived_at
        data = dict(data or {})
        priority = spec.priority + _int(data.get("call.priority"))
        if data.get("customer.vip"):
            priority += spec.vip_priority
        if kind is CallKind.VOICEMAIL:
            priority += spec.task_priority
        call = Call(
            id=call_id,
            channel=channel,
            caller_num=caller_num,
            caller_name=caller_name,
            dnis=dnis,
            queue=queue,
            arrived_at=start,
            queued_at=start,
            deadline=math.inf,
            kind=kind,
            data=data,
            priority=priority,
        )
        self.calls[call_id] = call
        self._facts.append(
            CallQueued(
                call_id, now, queue, channel, caller_num, caller_name, dnis, kind.value, priority, data
            )
        )
        if kind is CallKind.CALL:
            refusal = self._refusal(spec, now)
            if refusal is not None:
                return self._send_to(call, refusal, now) + self._dispatch(now)
        self._enter_queue(call, queue, now, start)
        if call.deadline <= now:
            return self.on_timer(now)
        return self._dispatch(now)

    def task_arrived(
        self, task_id: str, *, queue: str, data: dict[str, object] | None, now: float, caller_num: str = ""
    ) -> list[Command]:
        """Work that is not a live call (a voicemail) routed like one, behind live calls."""
        return self.call_arrived(
            task_id,
            channel="",
            caller_num=caller_num,
            caller_name="",
            dnis="",
            queue=queue,
            now=now,
            data=data,
            kind=CallKind.VOICEMAIL,
        )

    def _refusal(self, spec: QueueSpec, now: float) -> Destination | None:
        if spec.max_length is not None and self._waiting_in(spec.name) >= spec.max_length:
            return spec.on_full or Destination("message", DEFAULT_TIMEOUT_MESSAGE)
        if spec.refuse_without_agents and not any(
            spec.name in a.queues and a.status is not AgentStatus.LOGGED_OUT for a in self.agents.values()
        ):
            return spec.on_no_agents or Destination("message", DEFAULT_TIMEOUT_MESSAGE)
        return None

    def _waiting_in(self, queue: str) -> int:
        return sum(b.size for b in self.router.buckets.values() if b.queue == queue)

    def _enter_queue(self, call: Call, queue: str, now: float, since: float | None = None) -> None:
        spec = self.queues[queue]
        call.queue = queue
        call.queued_at = now if since is None else since
        call.step = 0
        if queue not in call.visited:
            call.visited.append(queue)
        if call.kind is CallKind.CALL:
            call.deadline = call.queued_at + spec.max_wait
            self._arm(call.deadline, "call", call.id)
            if spec.announce_every:
                call.next_announce = now + spec.announce_every
                self._arm(call.next_announce, "announce", call.id)
        else:
            call.deadline = math.inf
        self._bind(call)
        self._waiting(call, now)

    def _bind(self, call: Call) -> None:
        steps = self.queues[call.queue].routing_steps()
        # a step already due (an adopted call that waited long) fires at the next timer run
        requirement = steps[call.step].requirement
        key = (
            requirement.text,
            tuple(sorted((ref, repr(call.data.get(ref))) for ref in requirement.data_refs)),
        )
        bound = self._bound_cache.get(key)
        if bound is None:
            bound = self._bound_cache[key] = requirement.bind(call.data)
        call.bound = bound
        due = self._step_due(call)
        if due is not None:
            self._arm(due, "step", call.id)

    def _step_due(self, call: Call) -> float | None:
        steps = self.queues[call.queue].routing_steps()
        if call.step + 1 >= len(steps):
            return None
        return call.queued_at + steps[call.step + 1].after

    def _relax(self, call: Call, now: float) -> None:
        """The next routing step of the queue: the call's requirement widens."""
        self.router.remove_call(call)
        call.step += 1
        self._bind(call)
        log.info(
            "call %s: routing step %d in %s (%s)",
            call.id,
            call.step,
            call.queue,
            call.bound and call.bound.key,
        )
        self.router.add_call(call)
        self._dirty_calls.append(call.id)

    def _waiting(self, call: Call, now: float) -> None:
        """(Back) to waiting: indexed for the router and considered at the next dispatch."""
        self.router.add_call(call)
        self._dirty_calls.append(call.id)

    def caller_hung_up(self, call_id: str, now: float) -> list[Command]:
        call = self.calls.get(call_id)
        if call is None or call.state is CallState.ENDED or call.kind is not CallKind.CALL:
            return []  # callbacks and voicemails have no caller line to lose
        out: list[Command] = []
        if call.consult_leg is not None:
            out += self._cancel_leg(self.legs.get(call.consult_leg), now)
        if call.state is CallState.CONNECTED:
            leg = self.legs.get(call.leg_id) if call.leg_id is not None else None
            self._end_connected(call, now)
            out += self._cancel_leg(leg, now)
        else:
            if call.state is CallState.OFFERING:
                for leg_id in sorted(call.ring_legs):
                    leg = self.legs[leg_id]
                    self._facts.append(OfferEnded(call.id, now, leg.agent_id, leg.id, OfferResult.CANCELLED))
                    out += self._cancel_leg(leg, now)
                call.agent_id = None
            self.router.remove_call(call)
            self._end(call, Outcome.ABANDONED, now)
        return out + self._dispatch(now)

    def dtmf(self, call_id: str, digit: str, now: float) -> list[Command]:
        """A key pressed by a waiting caller: the queue's callback key keeps their place for a callback."""
        call = self.calls.get(call_id)
        if call is None or call.kind is not CallKind.CALL or call.state is not CallState.WAITING:
            return []
        spec = self.queues[call.queue]
        if spec.callback_key is None or digit != spec.callback_key:
            return []
        call.kind = CallKind.CALLBACK
        call.deadline = math.inf
        call.next_announce = None
        self._facts.append(CallbackRequested(call.id, now, call.queue, call.caller_num))
        return [ConfirmCallback(call.id, call.channel)]

    # -- agents -------------------------------------------------------------------------------

    def set_status(self, agent_id: str, status: AgentStatus, now: float, reason: str = "") -> list[Command]:
        agent = self.agents[agent_id]
        agent.resume_at = None
        if status is AgentStatus.AVAILABLE and agent.status is not AgentStatus.AVAILABLE:
            agent.idle_since = now
            agent.no_answers = 0
        self._set_status(agent, status, reason, now)
        return self._dispatch(now)

    def set_endpoint(self, agent_id: str, endpoint: str, *, remote: bool) -> None:
        """Where the agent takes calls now (a remote agent logging in with their home number)."""
        agent = self.agents[agent_id]
        agent.endpoint, agent.remote = endpoint, remote

    def _queue(self, name: str) -> QueueSpec:
        try:
            return self.queues[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def _set_status(self, agent: Agent, status: AgentStatus, reason: str, now: float) -> None:
        if agent.status is status and agent.reason == reason:
            return
        agent.status, agent.reason = status, reason
        staffed = status is AgentStatus.AVAILABLE
        if agent.logged_in_since is not None and not staffed:
            agent.logged_in_time += now - agent.logged_in_since
            agent.logged_in_since = None
        elif staffed and agent.logged_in_since is None:
            agent.logged_in_since = now
        self._facts.append(AgentStatusChanged(agent.id, now, status.value, reason))
        self._refresh(agent)

    def _agent_state(self, agent: Agent, new: AgentState, now: float, call_id: str | None) -> None:
        old = agent.move(new)
        agent.call_id = call_id
        if new is AgentState.IDLE:
            agent.idle_since = now
            if agent.busy_since is not None:
                agent.busy_time += now - agent.busy_since
                agent.busy_since = None
        elif agent.busy_since is None:
            agent.busy_since = now
        self._facts.append(AgentStateChanged(agent.id, now, old.value, new.value, call_id))
        self._refresh(agent)

    def _refresh(self, agent: Agent) -> None:
        """Keep the router's free list exact: free = available, idle, and no leg still up."""
        if agent.can_take_call and not self._legs_of.get(agent.id):
            if agent.id not in self.router.free:
                self.router.agent_free(agent)
                self._dirty_agents.append(agent.id)
        else:
            self.router.agent_busy(agent)

    def _pause_after_failure(self, agent: Agent, reason: str, now: float, *, threshold: int) -> None:
        agent.no_answers += 1
        if agent.status is not AgentStatus.AVAILABLE or agent.no_answers < threshold:
            return
        self._set_status(agent, AgentStatus.PAUSED, reason, now)
        if self.no_answer_resume is not None:
            agent.resume_at = now + self.no_answer_resume
            self._arm(agent.resume_at, "resume", agent.id)

    def _agent_after_call(self, agent: Agent, call: Call, now: float) -> None:
        wrapup = self.queues[call.queue].wrapup
        if wrapup > 0:
            self._agent_state(agent, AgentState.WRAPUP, now, call.id)
            agent.state_deadline = now + wrapup
            self._arm(agent.state_deadline, "agent", agent.id)
        else:
            self._agent_state(agent, AgentState.IDLE, now, None)

    def _agent_deadline(self, agent: Agent, now: float) -> list[Command]:
        agent.state_deadline = None
        if agent.state is AgentState.WRAPUP:
            self._agent_state(agent, AgentState.IDLE, now, None)
            return []
        if agent.state is AgentState.RINGING and agent.leg_id is not None:
            leg_id = agent.leg_id
            log.warning("agent %s: leg %s gave no result in time, given up", agent.id, leg_id)
            leg = self.legs.get(leg_id)
            out: list[Command] = [CancelAgentLeg(leg_id)]
            if leg is not None and not leg.cancelled:
                return out + self.leg_failed(leg_id, now)
            if leg is not None:
                self._drop_leg(leg, now)
            return out
        return []

    # -- legs ---------------------------------------------------------------------------------

    def _new_leg(self, call: Call, agent: Agent, purpose: str, now: float) -> Leg:
        self._leg_seq += 1
        leg = Leg(id=f"cs-{self._leg_seq}-{call.id}", call_id=call.id, agent_id=agent.id, purpose=purpose)
        self.legs[leg.id] = leg
        self._legs_of.setdefault(agent.id, set()).add(leg.id)
        agent.leg_id = leg.id
        self._agent_state(agent, AgentState.RINGING, now, call.id)
        agent.state_deadline = now + self.queues[call.queue].ring_timeout + LEG_GRACE
        if agent.remote:
            agent.state_deadline += self.accept_timeout
        self._arm(agent.state_deadline, "agent", agent.id)
        return leg

    def _drop_leg(self, leg: Leg, now: float) -> None:
        """The leg is gone: the agent is free again (after wrap-up if they talked)."""
        self.legs.pop(leg.id, None)
        legs = self._legs_of.get(leg.agent_id)
        if legs is not None:
            legs.discard(leg.id)
        agent = self.agents[leg.agent_id]
        call = self.calls.get(leg.call_id)
        if call is not None:
            call.ring_legs.discard(leg.id)
            if call.consult_leg == leg.id:
                call.consult_leg = None
        if agent.leg_id == leg.id:
            agent.leg_id = None
            if agent.state is AgentState.RINGING:
                agent.state_deadline = None
                self._agent_state(agent, AgentState.IDLE, now, None)
            elif agent.state is AgentState.ON_CALL and leg.purpose == "consult":
                self._agent_state(agent, AgentState.IDLE, now, None)
        self._refresh(agent)

    def _cancel_leg(self, leg: Leg | None, now: float) -> list[Command]:
        """Hang a leg up; its agent stays busy until the PBX says it is gone (bounded by a timer)."""
        if leg is None or leg.cancelled:
            return []
        leg.cancelled = True
        agent = self.agents[leg.agent_id]
        if agent.leg_id == leg.id and agent.state is AgentState.RINGING:
            agent.call_id = None
        self._arm(now + LEG_GRACE, "leg", leg.id)
        return [CancelAgentLeg(leg.id)]

    def leg_picked_up(self, leg_id: str, now: float) -> list[Command]:
        """The agent's phone answered (OriginateResponse success); a remote agent may still refuse."""
        leg = self.legs.get(leg_id)
        if leg is not None:
            leg.picked_up = True
        return []

    def leg_claim(self, leg_id: str, now: float) -> list[Command]:
        """The agent accepted the offer (the agent-leg script asks before bridging).

        Only one leg per call wins: the first to claim. Check `legs[leg_id].claimed` afterwards.
        """
        leg = self.legs.get(leg_id)
        if leg is None or leg.cancelled or leg.claimed:
            return []
        call = self.calls.get(leg.call_id)
        if call is None:
            return []
        if leg.purpose == "consult":
            leg.claimed = call.consult_leg == leg.id
            return []
        if call.state is not CallState.OFFERING or leg.id not in call.ring_legs:
            return []
        leg.claimed = True
        call.agent_id, call.leg_id = leg.agent_id, leg.id
        out: list[Command] = []
        for other in sorted(call.ring_legs - {leg.id}):
            other_leg = self.legs[other]
            self._facts.append(OfferEnded(call.id, now, other_leg.agent_id, other, OfferResult.CANCELLED))
            out += self._cancel_leg(other_leg, now)
        call.ring_legs = {leg.id}
        return out

    def leg_answered(self, leg_id: str, now: float) -> list[Command]:
        """The agent leg is bridged to the caller: the call is connected."""
        leg = self.legs.get(leg_id)
        if leg is None or leg.answered:
            return []
        out: list[Command] = []
        if not leg.claimed:
            out += self.leg_claim(leg_id, now)
            if not leg.claimed:
                # picked up too late (caller gone, or another agent won a ring-all): hang it up
                leg.answered = True
                if leg.cancelled:
                    return [*out, CancelAgentLeg(leg.id)]
                return out + self._cancel_leg(leg, now)
        leg.answered = True
        call = self.calls[leg.call_id]
        agent = self.agents[leg.agent_id]
        agent.state_deadline = None
        agent.no_answers = 0
        if leg.purpose == "consult":
            self._agent_state(agent, AgentState.ON_CALL, now, call.id)
            return out
        call.move(CallState.CONNECTED)
        call.answered_at = now
        self._agent_state(agent, AgentState.ON_CALL, now, call.id)
        agent.calls_today += 1
        self._facts.append(CallAnswered(call.id, now, call.queue, agent.id, now - call.arrived_at))
        return out

    def leg_failed(self, leg_id: str, now: float, *, unreachable: bool = False) -> list[Command]:
        """The leg ended without being bridged: rang out, refused, rejected by the PBX."""
        leg = self.legs.get(leg_id)
        if leg is None:
            return []
        if leg.answered:
            return self.leg_hung_up(leg_id, now)
        call = self.calls.get(leg.call_id)
        agent = self.agents[leg.agent_id]
        ringing_for_call = call is not None and leg.id in call.ring_legs
        self._drop_leg(leg, now)
        if leg.cancelled or call is None or leg.purpose == "consult":
            return self._dispatch(now)
        out: list[Command] = []
        if call.kind is CallKind.CALLBACK and leg.claimed:
            # the agent took it but the customer did not answer the callback
            self._end(call, Outcome.CALLBACK_FAILED, now)
            return self._dispatch(now)
        result = OfferResult.FAILED if unreachable else OfferResult.NO_ANSWER
        self._facts.append(OfferEnded(call.id, now, agent.id, leg.id, result))
        spec = self.queues[call.queue]
        if spec.strategy is not Strategy.RING_ALL:
            call.declined.add(agent.id)
            reason = UNREACHABLE_REASON if unreachable else NO_ANSWER_REASON
            threshold = 1 if unreachable else spec.pause_after_no_answers
            self._pause_after_failure(agent, reason, now, threshold=threshold)
        if ringing_for_call and not call.ring_legs and call.state is CallState.OFFERING:
            out += self._back_to_waiting(call, now)
        return out + self._dispatch(now)

    def leg_hung_up(self, leg_id: str, now: float) -> list[Command]:
        """The agent leg's channel is gone: end of a connected call, or of an unanswered ring."""
        leg = self.legs.get(leg_id)
        if leg is None:
            return []
        if leg.answered and not leg.cancelled:
            call = self.calls.get(leg.call_id)
            if (
                leg.purpose == "offer"
                and call is not None
                and call.state is CallState.CONNECTED
                and call.leg_id == leg.id
            ):
                out = self._cancel_leg(self.legs.get(call.consult_leg), now) if call.consult_leg else []
                self._end_connected(call, now)
                self._drop_leg(leg, now)
                return out + self._dispatch(now)
            self._drop_leg(leg, now)
            return self._dispatch(now)
        if leg.cancelled or leg.answered:
            self._drop_leg(leg, now)
            return self._dispatch(now)
        return self.leg_failed(leg_id, now)

    def leg_needs_accept(self, leg_id: str) -> bool:
        leg = self.legs.get(leg_id)
        return leg is not None and self.agents[leg.agent_id].remote and leg.purpose != "consult"

    def pbx_error(self, leg_id: str, now: float) -> list[Command]:
        """The originate could not even be sent (link down): not the agent's fault, retry later."""
        leg = self.legs.get(leg_id)
        if leg is None or leg.answered:
            return []
        self.pbx_ready = False
        call = self.calls.get(leg.call_id)
        ringing_for_call = call is not None and leg.id in call.ring_legs
        self._drop_leg(leg, now)
        if leg.cancelled or call is None or leg.purpose == "consult":
            return []
        self._facts.append(OfferEnded(call.id, now, leg.agent_id, leg.id, OfferResult.FAILED))
        if ringing_for_call and not call.ring_legs and call.state is CallState.OFFERING:
            return self._back_to_waiting(call, now)
        return []

    def set_pbx_ready(self, ready: bool, now: float) -> list[Command]:
        self.pbx_ready = ready
        if not ready:
            return []
        self._dirty_calls.extend(c.id for c in self.calls.values() if c.state is CallState.WAITING)
        self._dirty_agents.extend(self.router.free)
        return self._dispatch(now)

    # -- endings --------------------------------------------------------------------------------

    def _back_to_waiting(self, call: Call, now: float) -> list[Command]:
        call.move(CallState.WAITING)
        call.agent_id = None
        call.leg_id = None
        call.ring_legs.clear()
        if call.kind is CallKind.CALL:
            self._arm(call.deadline, "call", call.id)
            if call.next_announce is not None:
                self._arm(call.next_announce, "announce", call.id)
        due = self._step_due(call)
        if due is not None:
            self._arm(due, "step", call.id)
        if call.deadline <= now:
            return self._wait_expired(call, now)
        self._waiting(call, now)
        return []

    def _end_connected(self, call: Call, now: float) -> None:
        agent = self.agents[call.agent_id] if call.agent_id else None
        if call.on_hold and call.hold_started is not None:
            call.hold_total += now - call.hold_started
            call.on_hold, call.hold_started = False, None
        if call.answered_at is not None:
            handle = now - call.answered_at + self.queues[call.queue].wrapup
            previous = self.aht.get(call.queue, DEFAULT_AHT)
            self.aht[call.queue] = previous + AHT_WEIGHT * (handle - previous)
        self._end(call, Outcome.ANSWERED, now)
        if agent is None or agent.call_id != call.id:
            return
        agent.leg_id = None
        self._agent_after_call(agent, call, now)

    def _end(self, call: Call, outcome: Outcome, now: float) -> None:
        call.move(CallState.ENDED)
        self.router.remove_call(call)
        end = call.answered_at if call.answered_at is not None else now
        self._facts.append(CallEnded(call.id, now, call.queue, outcome, call.agent_id, end - call.arrived_at))
        del self.calls[call.id]
        self._ended[call.id] = None
        if len(self._ended) > ENDED_MEMORY:
            self._ended.popitem(last=False)

    def _wait_expired(self, call: Call, now: float) -> list[Command]:
        self.router.remove_call(call)
        return self._send_to(call, self.queues[call.queue].timeout_destination(), now)

    def _send_to(self, call: Call, dest: Destination, now: float) -> list[Command]:
        """The caller leaves this queue: another queue, voicemail, a number, or a message then hang-up."""
        if dest.kind == "queue" and dest.target in self.queues and dest.target not in call.visited:
            self._facts.append(CallRequeued(call.id, now, call.queue, dest.target))
            call.target_agent = None  # overflowing is for other agents: no longer kept for one
            self._enter_queue(call, dest.target, now)
            return []
        if dest.kind in ("voicemail", "number"):
            self._end(call, Outcome.OVERFLOWED, now)
            return [SendCallerTo(call.id, call.channel, dest.kind, dest.target)]
        message = dest.target if dest.kind == "message" else DEFAULT_TIMEOUT_MESSAGE
        self._end(call, Outcome.TIMED_OUT, now)
        return [PlayMessageAndHangup(call.id, call.channel, message)]

    def _announce(self, call: Call, now: float) -> list[Command]:
        """Position and estimated wait, from the live handle time of the agents who can take it."""
        spec = self.queues[call.queue]
        if spec.announce_every is None:
            return []
        call.next_announce = now + spec.announce_every
        self._arm(call.next_announce, "announce", call.id)
        return [Announce(call.id, call.channel, *self.estimate(call))]

    def estimate(self, call: Call) -> tuple[int, int]:
        """(position, estimated seconds to wait) for a waiting call."""
        position = self.router.position(call, self.calls)
        bucket_agents = self.router.buckets.get((call.queue, call.bound.key if call.bound else "", ""))
        eligible = bucket_agents.eligible if bucket_agents is not None else frozenset()
        staffed = sum(1 for a in eligible if self.agents[a].status is AgentStatus.AVAILABLE)
        aht = self.aht.get(call.queue, DEFAULT_AHT)
        return position, round(position * aht / max(1, staffed))

    # -- dispatch -------------------------------------------------------------------------------

    def _dispatch(self, now: float) -> list[Command]:
        """Match what changed: newly free agents take the best call; new calls take the best agent."""
        if not self.pbx_ready:
            return []
        out: list[Command] = []
        while self._dirty_agents or self._dirty_calls:
            agents, self._dirty_agents = self._dirty_agents, []
            for agent_id in agents:
                agent = self.agents[agent_id]
                if agent.id not in self.router.free:
                    continue
                call = self.router.best_call(agent, self.calls, now)
                if call is not None:
                    chosen = [agent]
                    if self.queues[call.queue].strategy is Strategy.RING_ALL:
                        # ring-all rings every free eligible agent, not just the one who freed up
                        chosen = self.router.best_agents(call, Strategy.RING_ALL, now) or chosen
                    out += self._offer(call, chosen, now)
            calls, self._dirty_calls = self._dirty_calls, []
            ordered = [self.calls[c] for c in dict.fromkeys(calls) if c in self.calls]
            ordered = [c for c in ordered if c.state is CallState.WAITING and self.router.waiting_in(c)]
            ordered.sort(
                key=lambda c: (-(c.priority + self.router.ageing * (now - c.arrived_at)), c.arrived_at)
            )
            for call in ordered:
                if not self.router.free:
                    break
                chosen = self.router.best_agents(call, self.queues[call.queue].strategy, now)
                if chosen:
                    out += self._offer(call, chosen, now)
        return out

    def _offer(self, call: Call, agents: list[Agent], now: float) -> list[Command]:
        spec = self.queues[call.queue]
        self.router.remove_call(call)
        call.move(CallState.OFFERING)
        call.attempts += 1
        out: list[Command] = []
        if call.kind is CallKind.VOICEMAIL:
            agent = agents[0]
            call.agent_id = agent.id
            self._facts.append(CallOffered(call.id, now, call.queue, agent.id, "", call.attempts))
            self._agent_state(agent, AgentState.RINGING, now, call.id)
            call.move(CallState.CONNECTED)
            call.answered_at = now
            self._agent_state(agent, AgentState.ON_CALL, now, call.id)
            agent.calls_today += 1
            self._facts.append(CallAnswered(call.id, now, call.queue, agent.id, now - call.arrived_at))
            return [OfferTask(call.id, agent.id, call.kind.value)]
        purpose = "callback" if call.kind is CallKind.CALLBACK else "offer"
        for agent in agents:
            leg = self._new_leg(call, agent, "offer", now)
            call.ring_legs.add(leg.id)
            if len(agents) == 1:
                call.agent_id, call.leg_id = agent.id, leg.id
            self._facts.append(CallOffered(call.id, now, call.queue, agent.id, leg.id, call.attempts))
            variables: dict[str, str] = {Var.CALLER: call.channel, Var.CALL: call.id, Var.AGENT: agent.id}
            if purpose == "callback":
                variables[Var.DIAL] = call.caller_num
            caller_id = f'"{call.caller_name}" <{call.caller_num}>' if call.caller_name else call.caller_num
            out.append(
                OriginateAgentLeg(
                    call_id=call.id,
                    agent_id=agent.id,
                    leg_id=leg.id,
                    endpoint=agent.endpoint,
                    caller_channel=call.channel,
                    ring_timeout=spec.ring_timeout,
                    caller_id=caller_id,
                    variables=variables,
                    purpose=purpose,
                )
            )
        return out


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0
