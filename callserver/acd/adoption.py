"""Inputs from resynchronisation with the PBX: the link goes down or comes back, and calls found
talking to one of our agents after a restart or reconnect are adopted rather than lost.

(Waiting calls found on the PBX are adopted as ordinary arrivals with their original arrival time.)
"""

from __future__ import annotations

from .arrivals import Arrivals
from .commands import Command
from .dispatch import Dispatcher
from .legs import LegBook
from .model import AgentState, CallState
from .offers import Offers
from .state import AcdState


class Adoption:
    def __init__(
        self,
        acd: AcdState,
        legbook: LegBook,
        arrivals: Arrivals,
        offers: Offers,
        dispatcher: Dispatcher,
    ) -> None:
        self.acd = acd
        self.legbook = legbook
        self.arrivals = arrivals
        self.offers = offers
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
        """A call found bridged to one of our agent legs after a restart or reconnect.

        It arrives, is offered on the leg the PBX already has, and that leg is answered at once:
        WAITING -> OFFERING -> CONNECTED for the call, IDLE -> RINGING -> ON_CALL for the agent.
        """
        acd = self.acd
        if acd.known(call_id) or agent_id not in acd.agents or queue not in acd.queues:
            return []
        agent = acd.agents[agent_id]
        if agent.state is not AgentState.IDLE or acd.has_legs(agent_id):
            return []
        out = self.arrivals.call_arrived(
            call_id,
            channel=channel,
            caller_num=caller_num,
            caller_name="",
            dnis="",
            queue=queue,
            now=now,
            arrived_at=arrived_at,
        )
        call = acd.calls.get(call_id)
        if call is None:
            return out
        if call.state is CallState.OFFERING:
            # the arrival was just offered to someone: withdraw that and take the adopted leg
            for other in sorted(call.ring_legs):
                out += self.legbook.cancel(acd.legs[other], now)
            call.move(CallState.WAITING)
        acd.router.remove_call(call)
        call.move(CallState.OFFERING)
        self.legbook.open(call, agent, "offer", now, leg_id=leg_id)
        call.ring_legs = {leg_id}
        call.agent_id, call.leg_id = agent_id, leg_id
        return out + self.offers.leg_answered(leg_id, now)
