"""What becomes of an offer: the agent's phone picks up, the agent accepts (claims) it, the leg is
bridged to the caller, or it fails (rang out, refused, unreachable) or simply ends.

Only one leg per call wins a claim (ring-all: the first); the others are cancelled. A failed offer
puts the call back to waiting and counts against the agent, who is paused after too many.
"""

from __future__ import annotations

import logging

from ..facts.model import CallAnswered, OfferEnded, OfferResult, Outcome, TransferProgress, TransferState
from .agents import AgentDesk
from .commands import CancelAgentLeg, Command
from .dispatch import Dispatcher
from .legs import LegBook
from .model import AgentState, CallKind, CallState, Ending, Strategy
from .queueing import Queueing
from .state import AcdState
from .timers import TimerHandler

log = logging.getLogger("callserver.acd")

NO_ANSWER_REASON = "no answer"
UNREACHABLE_REASON = "phone unreachable"


class Offers:
    def __init__(
        self,
        acd: AcdState,
        desk: AgentDesk,
        legbook: LegBook,
        queueing: Queueing,
        dispatcher: Dispatcher,
    ) -> None:
        self.acd = acd
        self.desk = desk
        self.legbook = legbook
        self.queueing = queueing
        self.dispatcher = dispatcher

    def leg_picked_up(self, leg_id: str, now: float) -> list[Command]:
        """The agent's phone answered (OriginateResponse success); a remote agent may still refuse."""
        leg = self.acd.legs.get(leg_id)
        if leg is not None:
            leg.picked_up = True
        return []

    def leg_needs_accept(self, leg_id: str) -> bool:
        leg = self.acd.legs.get(leg_id)
        return leg is not None and self.acd.agents[leg.agent_id].remote and leg.purpose != "consult"

    def leg_claim(self, leg_id: str, now: float) -> list[Command]:
        """The agent accepted the offer (the agent-leg script asks before bridging).

        Only one leg per call wins: the first to claim. Check `legs[leg_id].claimed` afterwards.
        """
        acd = self.acd
        leg = acd.legs.get(leg_id)
        if leg is None or leg.cancelled or leg.claimed:
            return []
        call = acd.calls.get(leg.call_id)
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
            other_leg = acd.legs[other]
            acd.emit(OfferEnded(call.id, now, other_leg.agent_id, other, OfferResult.CANCELLED))
            out += self.legbook.cancel(other_leg, now)
        call.ring_legs = {leg.id}
        return out

    def leg_answered(self, leg_id: str, now: float) -> list[Command]:
        """The agent leg is bridged to the caller: the call is connected."""
        acd = self.acd
        leg = acd.legs.get(leg_id)
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
                return out + self.legbook.cancel(leg, now)
        leg.answered = True
        call = acd.calls[leg.call_id]
        agent = acd.agents[leg.agent_id]
        agent.state_deadline = None
        agent.no_answers = 0
        if leg.purpose == "consult":
            self.desk.change_state(agent, AgentState.ON_CALL, now, call.id)
            acd.emit(
                TransferProgress(
                    call.id, now, call.agent_id, "consult", "agent", agent.id, TransferState.ANSWERED
                )
            )
            return out
        if call.transferred_by is not None:
            acd.emit(
                TransferProgress(
                    call.id, now, call.transferred_by, "transfer", "agent", agent.id, TransferState.ANSWERED
                )
            )
            call.transferred_by = call.transfer_deadline = None
        call.move(CallState.CONNECTED)
        call.answered_at = now
        self.desk.change_state(agent, AgentState.ON_CALL, now, call.id)
        agent.calls_today += 1
        acd.emit(CallAnswered(call.id, now, call.queue, agent.id, now - call.arrived_at))
        return out

    def leg_failed(self, leg_id: str, now: float, *, unreachable: bool = False) -> list[Command]:
        """The leg ended without being bridged: rang out, refused, rejected by the PBX."""
        acd = self.acd
        leg = acd.legs.get(leg_id)
        if leg is None:
            return []
        if leg.answered:
            return self.leg_hung_up(leg_id, now)
        call = acd.calls.get(leg.call_id)
        agent = acd.agents[leg.agent_id]
        ringing_for_call = call is not None and leg.id in call.ring_legs
        self.legbook.drop(leg, now)
        if leg.cancelled or call is None or leg.purpose == "consult":
            return self.dispatcher.dispatch(now)
        out: list[Command] = []
        if call.kind is CallKind.CALLBACK and leg.claimed:
            # the agent took it but the customer did not answer the callback
            self.queueing.end(call, Outcome.CALLBACK_FAILED, now)
            return self.dispatcher.dispatch(now)
        result = OfferResult.FAILED if unreachable else OfferResult.NO_ANSWER
        acd.emit(OfferEnded(call.id, now, agent.id, leg.id, result))
        spec = acd.queues[call.queue]
        if spec.strategy is not Strategy.RING_ALL:
            call.declined.add(agent.id)
            reason = UNREACHABLE_REASON if unreachable else NO_ANSWER_REASON
            threshold = 1 if unreachable else spec.pause_after_no_answers
            self.desk.pause_after_failure(agent, reason, now, threshold=threshold)
        if ringing_for_call and not call.ring_legs and call.state is CallState.OFFERING:
            out += self.queueing.back_to_waiting(call, now)
        return out + self.dispatcher.dispatch(now)

    def leg_hung_up(self, leg_id: str, now: float, ending: Ending | None = None) -> list[Command]:
        """The agent leg's channel is gone: end of a connected call, or of an unanswered ring.

        `ending` when it went unseen (link or server down) or was cut by the PBX."""
        acd = self.acd
        leg = acd.legs.get(leg_id)
        if leg is None:
            return []
        if leg.answered and not leg.cancelled:
            call = acd.calls.get(leg.call_id)
            if (
                leg.purpose == "offer"
                and call is not None
                and call.state is CallState.CONNECTED
                and call.leg_id == leg.id
            ):
                out = self.legbook.cancel_by_id(call.consult_leg, now) if call.consult_leg else []
                self.queueing.end_connected(call, now, ending, ended_by="agent")
                self.legbook.drop(leg, now)
                return out + self.dispatcher.dispatch(now)
            self.legbook.drop(leg, now)
            return self.dispatcher.dispatch(now)
        if leg.cancelled or leg.answered:
            self.legbook.drop(leg, now)
            return self.dispatcher.dispatch(now)
        return self.leg_failed(leg_id, now)

    def pbx_error(self, leg_id: str, now: float) -> list[Command]:
        """The originate could not even be sent (link down): not the agent's fault, retry later."""
        acd = self.acd
        leg = acd.legs.get(leg_id)
        if leg is None or leg.answered:
            return []
        acd.pbx_ready = False
        call = acd.calls.get(leg.call_id)
        ringing_for_call = call is not None and leg.id in call.ring_legs
        self.legbook.drop(leg, now)
        if leg.cancelled or call is None or leg.purpose == "consult":
            return []
        acd.emit(OfferEnded(call.id, now, leg.agent_id, leg.id, OfferResult.FAILED))
        if ringing_for_call and not call.ring_legs and call.state is CallState.OFFERING:
            return self.queueing.back_to_waiting(call, now)
        return []

    # -- timers ---------------------------------------------------------------------------------

    def agent_deadline_timer(self) -> TimerHandler:
        """An agent's wrap-up is over, or the leg ringing them gave no result in time."""
        return TimerHandler(self._deadline_live, self._deadline)

    def _deadline_live(self, agent_id: str, at: float) -> bool:
        agent = self.acd.agents.get(agent_id)
        return agent is not None and agent.state_deadline == at

    def _deadline(self, agent_id: str, now: float) -> list[Command]:
        agent = self.acd.agents[agent_id]
        agent.state_deadline = None
        if agent.state is AgentState.WRAPUP:
            self.desk.wrapup_over(agent, now)
            return []
        if agent.state is AgentState.RINGING and agent.leg_id is not None:
            leg_id = agent.leg_id
            log.warning("agent %s: leg %s gave no result in time, given up", agent.id, leg_id)
            leg = self.acd.legs.get(leg_id)
            out: list[Command] = [CancelAgentLeg(leg_id)]
            if leg is not None and not leg.cancelled:
                return out + self.leg_failed(leg_id, now)
            if leg is not None:
                self.legbook.drop(leg, now)
            return out
        return []
