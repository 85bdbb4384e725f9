"""Matching calls and agents: whatever changed since the last dispatch is looked at, nothing else.

A newly free agent takes the best call it may take; a newly waiting call takes the best free agent
(by its queue's strategy). An offer opens one agent leg (several for ring-all), or hands a voicemail
task straight to the agent. While the PBX link is down nothing is offered and changes accumulate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..facts.model import CallAnswered, CallOffered, TransferProgress, TransferState
from .agents import AgentDesk
from .commands import Command, OfferTask, OriginateAgentLeg
from .legs import LegBook
from .model import Agent, AgentState, Call, CallKind, CallState, Strategy
from .state import AcdState


@dataclass(frozen=True, slots=True)
class DecisionWatch:
    """How long routing decisions take, for the metrics: `clock` is a monotonic clock (the engine's
    `now` is the calls' time, not a stopwatch) and `observe` is told each pass's duration in seconds.
    A pass with nothing to match is not a decision and is not timed."""

    clock: Callable[[], float]
    observe: Callable[[float], None]


class Dispatcher:
    def __init__(
        self, acd: AcdState, desk: AgentDesk, legbook: LegBook, watch: DecisionWatch | None = None
    ) -> None:
        self.acd = acd
        self.desk = desk
        self.legbook = legbook
        self.watch = watch

    def dispatch(self, now: float) -> list[Command]:
        """Match what changed: newly free agents take the best call; new calls take the best agent."""
        acd = self.acd
        if not acd.pbx_ready:
            return []
        watch = self.watch
        if watch is None or not (acd.dirty_agents or acd.dirty_calls):
            return self._match(now)
        started = watch.clock()
        out = self._match(now)
        watch.observe(watch.clock() - started)
        return out

    def _match(self, now: float) -> list[Command]:
        acd = self.acd
        router, calls, queues = acd.router, acd.calls, acd.queues
        out: list[Command] = []
        while acd.dirty_agents or acd.dirty_calls:
            agents, acd.dirty_agents = acd.dirty_agents, []
            for agent_id in agents:
                agent = acd.agents[agent_id]
                if agent.id not in router.free:
                    continue
                call = router.best_call(agent, calls, now)
                if call is not None:
                    chosen = [agent]
                    if queues[call.queue].strategy is Strategy.RING_ALL:
                        # ring-all rings every free eligible agent, not just the one who freed up
                        chosen = router.best_agents(call, Strategy.RING_ALL, now) or chosen
                    out += self.offer(call, chosen, now)
            changed, acd.dirty_calls = acd.dirty_calls, []
            ordered = [calls[c] for c in dict.fromkeys(changed) if c in calls]
            ordered = [c for c in ordered if c.state is CallState.WAITING and router.waiting_in(c)]
            ordered.sort(key=lambda c: (-(c.priority + router.ageing * (now - c.arrived_at)), c.arrived_at))
            for call in ordered:
                if not router.free:
                    break
                chosen = router.best_agents(call, queues[call.queue].strategy, now)
                if chosen:
                    out += self.offer(call, chosen, now)
        return out

    def offer(self, call: Call, agents: list[Agent], now: float) -> list[Command]:
        """Offer a waiting call to `agents` (one, or every one chosen for ring-all)."""
        spec = self.acd.queues[call.queue]
        self.acd.router.remove_call(call)
        call.move(CallState.OFFERING)
        call.attempts += 1
        if call.kind is CallKind.VOICEMAIL:
            return [self._hand_task(call, agents[0], now)]
        purpose = "callback" if call.kind is CallKind.CALLBACK else "offer"
        out: list[Command] = []
        for agent in agents:
            leg = self.legbook.open(call, agent, "offer", now)
            call.ring_legs.add(leg.id)
            if len(agents) == 1:
                call.agent_id, call.leg_id = agent.id, leg.id
            self.acd.emit(CallOffered(call.id, now, call.queue, agent.id, leg.id, call.attempts))
            if call.transferred_by is not None:
                self.acd.emit(
                    TransferProgress(
                        call.id,
                        now,
                        call.transferred_by,
                        "transfer",
                        "agent",
                        agent.id,
                        TransferState.RINGING,
                    )
                )
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
                    purpose=purpose,
                    dial=call.caller_num if purpose == "callback" else "",
                )
            )
        return out

    def _hand_task(self, call: Call, agent: Agent, now: float) -> OfferTask:
        """A voicemail task has no line to ring: the agent has it at once (the desktop pops it)."""
        call.agent_id = agent.id
        self.acd.emit(CallOffered(call.id, now, call.queue, agent.id, "", call.attempts))
        self.desk.change_state(agent, AgentState.RINGING, now, call.id)
        call.move(CallState.CONNECTED)
        call.answered_at = now
        self.desk.change_state(agent, AgentState.ON_CALL, now, call.id)
        agent.calls_today += 1
        self.acd.emit(CallAnswered(call.id, now, call.queue, agent.id, now - call.arrived_at))
        return OfferTask(call.id, agent.id, call.kind.value)
