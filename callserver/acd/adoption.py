"""Inputs from resynchronisation with the PBX: the link goes down or comes back, and what the PBX
still has after a restart or reconnect is adopted rather than lost.

Whatever an agent leg is doing when callserver finds it (ringing, talking, parked while its caller
is on hold, consulting, dialling a callback), it is linked again to its call and its agent, so the
agent is busy exactly as long as the PBX says. A leg that cannot be linked to a call keeps its agent
busy until it is gone. Waiting calls found on the PBX are adopted as ordinary arrivals with their
original arrival time (`Arrivals.call_arrived`).
"""

from __future__ import annotations

from ..facts.model import CallAnswered, CallOffered, OfferEnded, OfferResult
from .agents import AgentDesk
from .arrivals import Arrivals
from .commands import CancelAgentLeg, Command
from .dispatch import Dispatcher
from .legs import LEG_GRACE, LegBook
from .model import AgentState, Call, CallKind, CallState, Leg
from .state import AcdState
from .timers import TimerKind


class Adoption:
    def __init__(
        self,
        acd: AcdState,
        desk: AgentDesk,
        legbook: LegBook,
        arrivals: Arrivals,
        dispatcher: Dispatcher,
    ) -> None:
        self.acd = acd
        self.desk = desk
        self.legbook = legbook
        self.arrivals = arrivals
        self.dispatcher = dispatcher

    def set_pbx_ready(self, ready: bool, now: float) -> list[Command]:
        """Link down: offers are held. Link back (and resynchronised): everything waiting is looked at."""
        acd = self.acd
        acd.pbx_ready = ready
        if not ready:
            return []
        acd.dirty_calls.extend(c.id for c in acd.calls.values() if c.state is CallState.WAITING)
        acd.dirty_agents.extend(acd.router.free)
        return self.dispatcher.dispatch(now)

    def _agent_free_for(self, agent_id: str) -> bool:
        agent = self.acd.agents.get(agent_id)
        return agent is not None and agent.state is AgentState.IDLE and not self.acd.has_legs(agent_id)

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
        answered_at: float | None = None,
        caller_name: str = "",
        on_hold: bool = False,
        kind: CallKind = CallKind.CALL,
    ) -> list[Command]:
        """A call found talking to (or parked by, when `on_hold`) one of our agent legs.

        It arrives, is offered on the leg the PBX already has, and that leg is answered at once:
        WAITING -> OFFERING -> CONNECTED for the call, IDLE -> RINGING -> ON_CALL for the agent.
        `answered_at` (default `now`) is when the call was answered, as far as anyone knows.
        """
        acd = self.acd
        if acd.known(call_id) or queue not in acd.queues or not self._agent_free_for(agent_id):
            return []
        out = self.arrivals.call_arrived(
            call_id,
            channel=channel,
            caller_num=caller_num,
            caller_name=caller_name,
            dnis="",
            queue=queue,
            now=now,
            arrived_at=arrived_at,
            kind=kind,
            adopted=True,
        )
        call = acd.calls.get(call_id)
        if call is None:
            return out
        out += self._withdraw_offers(call, now)
        leg = self._open(call, agent_id, "offer", leg_id, now)
        self._connect(call, leg, now, now if answered_at is None else min(answered_at, now))
        if on_hold:
            call.on_hold, call.hold_started = True, now
        return out

    def adopt_offer(
        self, call_id: str, *, agent_id: str, leg_id: str, now: float, picked_up: bool, claimed: bool
    ) -> list[Command]:
        """An agent leg found ringing (or answered and about to bridge, when `claimed`) for an
        adopted call that is still waiting: the offer goes on where it was."""
        acd = self.acd
        call = acd.calls.get(call_id)
        if call is None or call.state not in (CallState.WAITING, CallState.OFFERING):
            return []
        if not self._agent_free_for(agent_id) or (claimed and call.ring_legs):
            return []
        if call.state is CallState.WAITING:
            acd.router.remove_call(call)
            call.move(CallState.OFFERING)
            call.attempts += 1
        leg = self._open(call, agent_id, "offer", leg_id, now)
        leg.picked_up = picked_up or claimed
        leg.claimed = claimed
        call.ring_legs.add(leg.id)
        if len(call.ring_legs) == 1:
            call.agent_id, call.leg_id = agent_id, leg.id
        acd.emit(CallOffered(call.id, now, call.queue, agent_id, leg.id, call.attempts))
        return []

    def adopt_consult(
        self, call_id: str, *, agent_id: str, leg_id: str, now: float, answered: bool
    ) -> list[Command]:
        """A colleague's consultation leg for an adopted connected call."""
        acd = self.acd
        call = acd.calls.get(call_id)
        if call is None or call.state is not CallState.CONNECTED or call.consult_leg is not None:
            return []
        if not self._agent_free_for(agent_id):
            return []
        leg = self._open(call, agent_id, "consult", leg_id, now)
        call.consult_leg = leg.id
        if answered:
            leg.picked_up = leg.claimed = leg.answered = True
            agent = acd.agents[agent_id]
            agent.state_deadline = None
            self.desk.change_state(agent, AgentState.ON_CALL, now, call.id)
        return []

    def adopt_stray_leg(self, leg_id: str, *, agent_id: str, now: float, hang_up: bool) -> list[Command]:
        """An agent leg no call can be found for: its agent stays busy until the PBX says it is gone.

        With `hang_up` it is hung up (a leg left over from before a restart); without, it is left to
        end by itself (a conversation callserver cannot place, which cutting would hurt)."""
        acd = self.acd
        if leg_id in acd.legs or agent_id not in acd.agents:
            return []
        leg = Leg(id=leg_id, call_id="", agent_id=agent_id, answered=not hang_up, cancelled=hang_up)
        acd.legs[leg.id] = leg
        acd.legs_of.setdefault(agent_id, set()).add(leg.id)
        self.desk.refresh(acd.agents[agent_id])
        if not hang_up:
            return []
        acd.timers.arm(now + LEG_GRACE, TimerKind.LEG_GRACE, leg.id)
        return [CancelAgentLeg(leg.id)]

    # -- the steps adoptions share ------------------------------------------------------------

    def _open(self, call: Call, agent_id: str, purpose: str, leg_id: str, now: float) -> Leg:
        return self.legbook.open(call, self.acd.agents[agent_id], purpose, now, leg_id=leg_id)

    def _withdraw_offers(self, call: Call, now: float) -> list[Command]:
        """The arrival was just offered to someone: withdraw that, the PBX already has its agent."""
        out: list[Command] = []
        if call.state is CallState.OFFERING:
            for other in sorted(call.ring_legs):
                leg = self.acd.legs[other]
                self.acd.emit(OfferEnded(call.id, now, leg.agent_id, leg.id, OfferResult.CANCELLED))
                out += self.legbook.cancel(leg, now)
            call.ring_legs.clear()
            call.agent_id = call.leg_id = None
            call.move(CallState.WAITING)
        self.acd.router.remove_call(call)
        return out

    def _connect(self, call: Call, leg: Leg, now: float, answered_at: float) -> None:
        """The adopted leg is the call's, already answered: the states follow, facts say when."""
        acd = self.acd
        agent = acd.agents[leg.agent_id]
        call.move(CallState.OFFERING)
        call.ring_legs = {leg.id}
        call.agent_id, call.leg_id = agent.id, leg.id
        leg.picked_up = leg.claimed = leg.answered = True
        agent.state_deadline = None
        agent.no_answers = 0
        call.move(CallState.CONNECTED)
        call.answered_at = answered_at
        self.desk.change_state(agent, AgentState.ON_CALL, now, call.id)
        agent.calls_today += 1
        acd.emit(CallAnswered(call.id, answered_at, call.queue, agent.id, answered_at - call.arrived_at))
