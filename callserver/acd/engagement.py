"""Agents busy with work the ACD does not route: an outbound campaign has reserved them, or they
talk to a campaign's customer or code that call. The ACD offers such an agent no call.

The campaign service says so through `AcdService.engage` / `release` as its agents change slot:
a blended agent is never offered an inbound call while a campaign line is dialled for them or
while they are on or wrapping up a campaign call.
"""

from __future__ import annotations

from .agents import AgentDesk
from .commands import Command
from .dispatch import Dispatcher
from .state import AcdState


class Engagements:
    def __init__(self, acd: AcdState, desk: AgentDesk, dispatcher: Dispatcher) -> None:
        self.acd = acd
        self.desk = desk
        self.dispatcher = dispatcher

    def engage(self, agent_id: str, by: str, now: float) -> list[Command]:
        """`by` (e.g. `campaign:spring`) has the agent: no ACD offer until it releases them."""
        agent = self.acd.agents[agent_id]
        agent.engaged = by
        self.desk.refresh(agent)
        return []

    def release(self, agent_id: str, now: float) -> list[Command]:
        """The outside work is over: the agent takes calls again, as if just freed."""
        agent = self.acd.agents[agent_id]
        if agent.engaged is None:
            return []
        agent.engaged = None
        agent.idle_since = now
        self.desk.refresh(agent)
        return self.dispatcher.dispatch(now)
