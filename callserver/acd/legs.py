"""Agent legs: opened with an offer or a consultation, cancelled by the engine, dropped when gone.

An agent stays busy while any leg of theirs is up, cancelled ones included, until the PBX says the
channel is gone: that is what keeps an agent from ringing twice. A cancelled leg whose hangup never
comes is given up after `LEG_GRACE`, and so is a ringing leg whose result never comes.
"""

from __future__ import annotations

import logging

from ..facts.model import TransferProgress, TransferState
from .agents import AgentDesk
from .commands import CancelAgentLeg, Command
from .model import Agent, AgentState, Call, Leg
from .state import AcdState
from .timers import TimerHandler, TimerKind

log = logging.getLogger("callserver.acd")

# a leg whose PBX result never comes (lost event, half-open link) is given up after this long
LEG_GRACE = 10.0


class LegBook:
    def __init__(self, acd: AcdState, desk: AgentDesk) -> None:
        self.acd = acd
        self.desk = desk
        self._seq = 0

    def open(self, call: Call, agent: Agent, purpose: str, now: float, *, leg_id: str | None = None) -> Leg:
        """A new leg rings `agent` for `call`; `leg_id` names one the PBX already has (adoption)."""
        self._seq += 1
        leg = Leg(
            id=leg_id or f"cs-{self._seq}-{call.id}", call_id=call.id, agent_id=agent.id, purpose=purpose
        )
        self.acd.legs[leg.id] = leg
        self.acd.legs_of.setdefault(agent.id, set()).add(leg.id)
        agent.leg_id = leg.id
        self.desk.change_state(agent, AgentState.RINGING, now, call.id)
        agent.state_deadline = now + self.acd.queues[call.queue].ring_timeout + LEG_GRACE
        if agent.remote:
            agent.state_deadline += self.acd.accept_timeout
        self.acd.timers.arm(agent.state_deadline, TimerKind.AGENT_DEADLINE, agent.id)
        return leg

    def drop(self, leg: Leg, now: float) -> None:
        """The leg is gone: the agent is free again (after wrap-up if they talked)."""
        acd = self.acd
        acd.legs.pop(leg.id, None)
        legs = acd.legs_of.get(leg.agent_id)
        if legs is not None:
            legs.discard(leg.id)
        agent = acd.agents[leg.agent_id]
        call = acd.calls.get(leg.call_id)
        if call is not None:
            call.ring_legs.discard(leg.id)
            if call.consult_leg == leg.id:
                call.consult_leg = None
                if not leg.cancelled:  # the colleague hung up (or never answered)
                    acd.emit(
                        TransferProgress(
                            call.id, now, call.agent_id, "consult", "agent", leg.agent_id, TransferState.GONE
                        )
                    )
        if agent.leg_id == leg.id:
            agent.leg_id = None
            if agent.state is AgentState.RINGING:
                agent.state_deadline = None
                self.desk.change_state(agent, AgentState.IDLE, now, None)
            elif agent.state is AgentState.ON_CALL and leg.purpose == "consult":
                self.desk.change_state(agent, AgentState.IDLE, now, None)
        self.desk.refresh(agent)

    def cancel(self, leg: Leg | None, now: float) -> list[Command]:
        """Hang a leg up; its agent stays busy until the PBX says it is gone (bounded by a timer)."""
        if leg is None or leg.cancelled:
            return []
        leg.cancelled = True
        agent = self.acd.agents[leg.agent_id]
        if agent.leg_id == leg.id and agent.state is AgentState.RINGING:
            agent.call_id = None
        self.acd.timers.arm(now + LEG_GRACE, TimerKind.LEG_GRACE, leg.id)
        return [CancelAgentLeg(leg.id)]

    def cancel_by_id(self, leg_id: str | None, now: float) -> list[Command]:
        return self.cancel(self.acd.legs.get(leg_id) if leg_id is not None else None, now)

    # -- timers ---------------------------------------------------------------------------------

    def grace_timer(self) -> TimerHandler:
        return TimerHandler(lambda leg_id, _at: leg_id in self.acd.legs, self._grace_over)

    def _grace_over(self, leg_id: str, now: float) -> list[Command]:
        leg = self.acd.legs[leg_id]
        log.warning("leg %s of agent %s still there %.0fs after its end", leg.id, leg.agent_id, LEG_GRACE)
        self.drop(leg, now)
        return [CancelAgentLeg(leg.id)]
