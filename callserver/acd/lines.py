"""Persistent agent lines as the ACD uses them: an agent whose phone stays connected takes each
offered call by a bridge into that line, at once, instead of a new leg ringing their phone.

The line itself (dialled at login, kept up, the AMI `Bridge`) belongs to `callserver.lines`; the
ACD only learns which agents have one (`set_line`). An offer to such an agent is still a leg of the
engine, with the same states, facts and timers, whose id is the line's channel uniqueid: the PBX
events about the line (bridge entered, hang-up) and the resynchronisation find it as they find any
leg. Two things differ and the adapter carries them out: the leg is bridged, not originated, and
when the call ends the line stays up (`line_leg_done`), back in its holding context.
"""

from __future__ import annotations

from .agents import AgentDesk
from .commands import Command
from .dispatch import Dispatcher
from .model import CallState
from .offers import Offers
from .queueing import Queueing
from .state import AcdState


class LineDesk:
    def __init__(
        self, acd: AcdState, desk: AgentDesk, offers: Offers, queueing: Queueing, dispatcher: Dispatcher
    ) -> None:
        self.acd = acd
        self.desk = desk
        self.offers = offers
        self.queueing = queueing
        self.dispatcher = dispatcher
        self._agent_of: dict[str, str] = {}  # line uniqueid -> agent id

    def set_line(self, agent_id: str, line_id: str | None, now: float) -> list[Command]:
        """The agent's line is up (its channel's uniqueid) or gone (None)."""
        agent = self.acd.agents[agent_id]
        old = agent.line_id
        if old == line_id:
            return []
        out: list[Command] = []
        agent.line_id = line_id
        if old is not None:
            self._agent_of.pop(old, None)
            if old in self.acd.legs:
                # the line went down during an offer or a call: like an agent leg hanging up
                out += self.offers.leg_hung_up(old, now)
        if line_id is not None:
            self._agent_of[line_id] = agent_id
        self.desk.refresh(agent)
        return out + self.dispatcher.dispatch(now)

    def is_line(self, leg_id: str) -> bool:
        """Whether this leg id is an agent's persistent line (bridge it, never hang it up)."""
        return leg_id in self._agent_of

    def line_leg_done(self, leg_id: str, now: float) -> list[Command]:
        """The line's part in a call is over and the line stays up: the caller hung up or moved,
        the engine cancelled the offer, or the bridge could not be made (the caller was gone)."""
        acd = self.acd
        leg = acd.legs.get(leg_id)
        if leg is None:
            return []
        if leg.answered or leg.cancelled:
            return self.offers.leg_hung_up(leg_id, now)
        # never bridged, and not the agent's doing: the call waits again, nobody is paused
        call = acd.calls.get(leg.call_id)
        leg.cancelled = True
        out = self.offers.leg_hung_up(leg_id, now)
        if call is not None and call.state is CallState.OFFERING and not call.ring_legs:
            out += self.queueing.back_to_waiting(call, now) + self.dispatcher.dispatch(now)
        return out
