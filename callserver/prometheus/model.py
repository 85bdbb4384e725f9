"""What the metrics call an agent's activity: one word from the status (the agent's choice) and
the state (what the system does with them), so a dashboard can stack them and they add up."""

from __future__ import annotations

from callserver.acd.model import AgentStatus
from callserver.acd.views import AgentView

ACTIVITIES = ("logged_out", "paused", "idle", "ringing", "on_call", "wrapup")


def activity(agent: AgentView) -> str:
    """logged_out or paused while idle (a paused agent finishing a call shows the call), else the
    state: idle, ringing, on_call, wrapup."""
    if agent.status is AgentStatus.LOGGED_OUT:
        return "logged_out"
    state = agent.state.value
    if agent.status is AgentStatus.PAUSED and state == "idle":
        return "paused"
    return state
