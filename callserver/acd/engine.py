"""The ACD engine: waiting calls, agents and the offers between them, on a clock passed in.

Sans-I/O: every method takes `now` (seconds) and returns the commands the PBX adapter must carry out;
what happened is queued as facts (`pop_facts`). Timers are data: ask `next_deadline()`, call
`on_timer(now)` when it passes. Invariants: an agent has at most one leg, a call at most one offer.
"""

from __future__ import annotations

import heapq
import logging
from collections import OrderedDict
from collections.abc import Iterable

from .commands import CancelAgentLeg, Command, OriginateAgentLeg, PlayMessageAndHangup
from .events import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    CallRequeued,
    Fact,
    OfferEnded,
    OfferResult,
    Outcome,
)
from .model import Agent, AgentSpec, AgentState, AgentStatus, Call, CallState, Leg, QueueSpec

log = logging.getLogger("callserver.acd")

NO_ANSWER_REASON = "no answer"
UNREACHABLE_REASON = "phone unreachable"
# a leg whose PBX result never comes (lost event, half-open link) is given up after this long
LEG_GRACE = 10.0
DEFAULT_TIMEOUT_MESSAGE = "vm-goodbye"
# ids of recently ended calls, so a replayed arrival (late AGI, resync race) cannot revive one
ENDED_MEMORY = 10_000


class UnknownQueue(KeyError):
    pass


class AcdEngine:
    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        no_answer_resume: float | None = None,
    ) -> None:
        self.queues: dict[str, QueueSpec] = {q.name: q for q in queues}
        self.agents: dict[str, Agent] = {}
        for spec in agents:
            served = frozenset(q.name for q in self.queues.values() if q.skills <= set(spec.skills))
            self.agents[spec.id] = Agent(spec=spec, queues=served)
        self.calls: dict[str, Call] = {}
        self.legs: dict[str, Leg] = {}
        self.no_answer_resume = no_answer_resume
        self.pbx_ready = True
        self._facts: list[Fact] = []
        self._timers: list[tuple[float, int, str, str]] = []
        self._timer_seq = 0
        self._leg_seq = 0
        self._ended: OrderedDict[str, None] = OrderedDict()

    # -- facts and timers -------------------------------------------------------------------

    def pop_facts(self) -> list[Fact]:
        facts, self._facts = self._facts, []
        return facts

    def next_deadline(self) -> float | None:
        while self._timers and not self._timer_live(self._timers[0]):
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def _arm(self, at: float, kind: str, ident: str) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, kind, ident))

    def _timer_live(self, timer: tuple[float, int, str, str]) -> bool:
        at, _, kind, ident = timer
        if kind == "call":
            call = self.calls.get(ident)
            return call is not None and call.state is CallState.WAITING and call.deadline == at
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
            elif kind == "agent":
                out += self._agent_deadline(self.agents[ident], now)
            elif kind == "leg":
                log.warning("leg %s outlived its call by %ss, given up", ident, LEG_GRACE)
                self._release_leg(self.legs[ident], now)
                out.append(CancelAgentLeg(ident))
            else:
                agent = self.agents[ident]
                agent.resume_at = None
                if agent.status is AgentStatus.PAUSED:
                    self._set_status(agent, AgentStatus.AVAILABLE, "", now)
        out += self._dispatch(now)
        return out

    # -- inputs: calls ----------------------------------------------------------------------

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
    ) -> list[Command]:
        """A caller entered a queue (or was adopted again after a reconnect: same id, no-op)."""
        if call_id in self.calls or call_id in self._ended:
            return []
        spec = self._queue(queue)
        start = now if arrived_at is None else arrived_at
        call = Call(
            id=call_id,
            channel=channel,
            caller_num=caller_num,
            caller_name=caller_name,
            dnis=dnis,
            queue=queue,
            arrived_at=start,
            queued_at=start,
            deadline=start + spec.max_wait,
            visited=[queue],
        )
        self.calls[call_id] = call
        self._facts.append(CallQueued(call_id, now, queue, channel, caller_num, caller_name, dnis))
        self._arm(call.deadline, "call", call_id)
        if call.deadline <= now:
            return self.on_timer(now)
        return self._dispatch(now)

    def caller_hung_up(self, call_id: str, now: float) -> list[Command]:
        call = self.calls.get(call_id)
        if call is None or call.state is CallState.ENDED:
            return []
        out: list[Command] = []
        if call.state is CallState.CONNECTED:
            leg = self.legs.get(call.leg_id) if call.leg_id is not None else None
            self._end_connected(call, now)
            if leg is not None:
                # the agent's phone stays in the call until its leg is gone: no new offer till then
                leg.cancelled = True
                out.append(CancelAgentLeg(leg.id))
                self._arm(now + LEG_GRACE, "leg", leg.id)
        else:
            if call.state is CallState.OFFERING and call.leg_id is not None:
                leg = self.legs[call.leg_id]
                leg.cancelled = True
                self._facts.append(OfferEnded(call.id, now, leg.agent_id, leg.id, OfferResult.CANCELLED))
                out.append(CancelAgentLeg(leg.id))
                agent = self.agents[leg.agent_id]
                agent.call_id = None
                agent.state_deadline = now + LEG_GRACE
                self._arm(agent.state_deadline, "agent", agent.id)
                call.agent_id = None
            self._end(call, Outcome.ABANDONED, now)
        return out + self._dispatch(now)

    def adopt_connected(
        self,
        call_id: str,
        *,
        channel: str,
        caller_num: str,
        queue: str,
        agent_id: str,
        leg_id: str,
        now: float,
        arrived_at: float,
    ) -> list[Command]:
        """A call found bridged to one of our agent legs after a restart or reconnect."""
        if (
            call_id in self.calls
            or call_id in self._ended
            or agent_id not in self.agents
            or queue not in self.queues
        ):
            return []
        agent = self.agents[agent_id]
        if agent.state is not AgentState.IDLE:
            return []
        call = Call(
            id=call_id,
            channel=channel,
            caller_num=caller_num,
            caller_name="",
            dnis="",
            queue=queue,
            arrived_at=arrived_at,
            queued_at=arrived_at,
            deadline=arrived_at + self.queues[queue].max_wait,
            visited=[queue],
        )
        self.calls[call_id] = call
        self._facts.append(CallQueued(call_id, now, queue, channel, caller_num, "", ""))
        self.legs[leg_id] = Leg(id=leg_id, call_id=call_id, agent_id=agent_id)
        call.move(CallState.OFFERING)
        call.agent_id, call.leg_id = agent_id, leg_id
        self._agent_state(agent, AgentState.RINGING, now, call_id)
        agent.leg_id = leg_id
        return self.leg_answered(leg_id, now)

    # -- inputs: agent legs -----------------------------------------------------------------

    def leg_answered(self, leg_id: str, now: float) -> list[Command]:
        """The agent picked up (OriginateResponse success): the dialplan bridges them now."""
        leg = self.legs.get(leg_id)
        if leg is None or leg.answered:
            return []
        leg.answered = True
        if leg.cancelled:
            return [CancelAgentLeg(leg.id)]
        call = self.calls[leg.call_id]
        agent = self.agents[leg.agent_id]
        call.move(CallState.CONNECTED)
        call.answered_at = now
        self._agent_state(agent, AgentState.ON_CALL, now, call.id)
        agent.state_deadline = None
        agent.calls_today += 1
        self._facts.append(CallAnswered(call.id, now, call.queue, agent.id, now - call.arrived_at))
        return []

    def leg_failed(self, leg_id: str, now: float, *, unreachable: bool = False) -> list[Command]:
        """The originate ended without an answer (rang out, rejected, refused by the PBX)."""
        leg = self.legs.get(leg_id)
        if leg is None:
            return []
        if leg.answered:
            # a late or contradictory report: the leg was already seen answered
            return self.leg_hung_up(leg_id, now)
        out = self._release_leg(leg, now)
        if not leg.cancelled:
            call = self.calls[leg.call_id]
            agent = self.agents[leg.agent_id]
            result = OfferResult.FAILED if unreachable else OfferResult.NO_ANSWER
            self._facts.append(OfferEnded(call.id, now, agent.id, leg.id, result))
            reason = UNREACHABLE_REASON if unreachable else NO_ANSWER_REASON
            self._pause_after_failure(agent, reason, now)
            out += self._back_to_waiting(call, now)
        return out + self._dispatch(now)

    def leg_hung_up(self, leg_id: str, now: float) -> list[Command]:
        """The agent leg's channel is gone: end of a connected call, or of an unanswered ring."""
        leg = self.legs.get(leg_id)
        if leg is None:
            return []
        if leg.answered and not leg.cancelled:
            call = self.calls.get(leg.call_id)
            if call is not None and call.state is CallState.CONNECTED:
                self._end_connected(call, now)
            self.legs.pop(leg.id, None)
            return self._dispatch(now)
        if leg.cancelled or leg.answered:
            self._release_leg(leg, now)
            return self._dispatch(now)
        return self.leg_failed(leg_id, now)

    def pbx_error(self, leg_id: str, now: float) -> list[Command]:
        """The originate could not even be sent (link down): not the agent's fault, retry later."""
        leg = self.legs.get(leg_id)
        if leg is None or leg.answered:
            return []
        self.pbx_ready = False
        self._release_leg(leg, now)
        if leg.cancelled:
            return []
        call = self.calls[leg.call_id]
        self._facts.append(OfferEnded(call.id, now, leg.agent_id, leg.id, OfferResult.FAILED))
        return self._back_to_waiting(call, now)

    def set_pbx_ready(self, ready: bool, now: float) -> list[Command]:
        self.pbx_ready = ready
        return self._dispatch(now) if ready else []

    # -- inputs: agents ---------------------------------------------------------------------

    def set_status(self, agent_id: str, status: AgentStatus, now: float, reason: str = "") -> list[Command]:
        agent = self.agents[agent_id]
        agent.resume_at = None
        if agent.status is AgentStatus.LOGGED_OUT and status is not AgentStatus.LOGGED_OUT:
            agent.idle_since = now
        self._set_status(agent, status, reason, now)
        return self._dispatch(now)

    # -- internals --------------------------------------------------------------------------

    def _queue(self, name: str) -> QueueSpec:
        try:
            return self.queues[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def _set_status(self, agent: Agent, status: AgentStatus, reason: str, now: float) -> None:
        if agent.status is status and agent.reason == reason:
            return
        agent.status, agent.reason = status, reason
        self._facts.append(AgentStatusChanged(agent.id, now, status.value, reason))

    def _agent_state(self, agent: Agent, new: AgentState, now: float, call_id: str | None) -> None:
        old = agent.move(new)
        agent.call_id = call_id
        if new is AgentState.IDLE:
            agent.idle_since = now
        self._facts.append(AgentStateChanged(agent.id, now, old.value, new.value, call_id))

    def _pause_after_failure(self, agent: Agent, reason: str, now: float) -> None:
        if agent.status is not AgentStatus.AVAILABLE:
            return
        self._set_status(agent, AgentStatus.PAUSED, reason, now)
        if self.no_answer_resume is not None:
            agent.resume_at = now + self.no_answer_resume
            self._arm(agent.resume_at, "resume", agent.id)

    def _release_leg(self, leg: Leg, now: float) -> list[Command]:
        """The leg is gone: the agent is free again (after wrap-up if they talked)."""
        self.legs.pop(leg.id, None)
        agent = self.agents[leg.agent_id]
        if agent.leg_id == leg.id and agent.state is AgentState.RINGING:
            agent.leg_id = None
            agent.state_deadline = None
            self._agent_state(agent, AgentState.IDLE, now, None)
        return []

    def _back_to_waiting(self, call: Call, now: float) -> list[Command]:
        call.move(CallState.WAITING)
        call.agent_id = None
        call.leg_id = None
        self._arm(call.deadline, "call", call.id)
        if call.deadline <= now:
            return self._wait_expired(call, now)
        return []

    def _end_connected(self, call: Call, now: float) -> None:
        agent = self.agents[call.agent_id] if call.agent_id else None
        self._end(call, Outcome.ANSWERED, now)
        if agent is None or agent.call_id != call.id:
            return
        agent.leg_id = None
        wrapup = self.queues[call.queue].wrapup
        if wrapup > 0:
            self._agent_state(agent, AgentState.WRAPUP, now, call.id)
            agent.state_deadline = now + wrapup
            self._arm(agent.state_deadline, "agent", agent.id)
        else:
            self._agent_state(agent, AgentState.IDLE, now, None)

    def _end(self, call: Call, outcome: Outcome, now: float) -> None:
        call.move(CallState.ENDED)
        end = call.answered_at if call.answered_at is not None else now
        self._facts.append(CallEnded(call.id, now, call.queue, outcome, call.agent_id, end - call.arrived_at))
        del self.calls[call.id]
        self._ended[call.id] = None
        if len(self._ended) > ENDED_MEMORY:
            self._ended.popitem(last=False)

    def _wait_expired(self, call: Call, now: float) -> list[Command]:
        spec = self.queues[call.queue]
        target = spec.overflow_queue
        if target is not None and target not in call.visited:
            new = self.queues[target]
            self._facts.append(CallRequeued(call.id, now, call.queue, target))
            call.queue = target
            call.visited.append(target)
            call.queued_at = now
            call.deadline = now + new.max_wait
            self._arm(call.deadline, "call", call.id)
            return []
        message = spec.timeout_message or DEFAULT_TIMEOUT_MESSAGE
        self._end(call, Outcome.TIMED_OUT, now)
        return [PlayMessageAndHangup(call.id, call.channel, message)]

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
                self._release_leg(leg, now)
            return out
        return []

    def _dispatch(self, now: float) -> list[Command]:
        """Offer waiting calls, oldest first, each to the matching agent idle the longest."""
        if not self.pbx_ready:
            return []
        out: list[Command] = []
        waiting = sorted(
            (c for c in self.calls.values() if c.state is CallState.WAITING),
            key=lambda c: (c.arrived_at, c.id),
        )
        if not waiting:
            return out
        busy = {leg.agent_id for leg in self.legs.values()}
        free = [a for a in self.agents.values() if a.can_take_call and a.id not in busy]
        for call in waiting:
            if not free:
                break
            best: Agent | None = None
            for agent in free:
                if call.queue in agent.queues and (
                    best is None or (agent.idle_since, agent.id) < (best.idle_since, best.id)
                ):
                    best = agent
            if best is None:
                continue
            free.remove(best)
            out.append(self._offer(call, best, now))
        return out

    def _offer(self, call: Call, agent: Agent, now: float) -> OriginateAgentLeg:
        spec = self.queues[call.queue]
        self._leg_seq += 1
        leg_id = f"cs-{self._leg_seq}-{call.id}"
        call.move(CallState.OFFERING)
        call.attempts += 1
        call.agent_id, call.leg_id = agent.id, leg_id
        self.legs[leg_id] = Leg(id=leg_id, call_id=call.id, agent_id=agent.id)
        self._agent_state(agent, AgentState.RINGING, now, call.id)
        agent.leg_id = leg_id
        agent.state_deadline = now + spec.ring_timeout + LEG_GRACE
        self._arm(agent.state_deadline, "agent", agent.id)
        self._facts.append(CallOffered(call.id, now, call.queue, agent.id, leg_id, call.attempts))
        caller_id = f'"{call.caller_name}" <{call.caller_num}>' if call.caller_name else call.caller_num
        return OriginateAgentLeg(
            call_id=call.id,
            agent_id=agent.id,
            leg_id=leg_id,
            endpoint=agent.spec.endpoint,
            caller_channel=call.channel,
            ring_timeout=spec.ring_timeout,
            caller_id=caller_id,
            variables={"CS_CALLER": call.channel, "CS_CALL": call.id, "CS_AGENT": agent.id},
        )
