"""When each agent's current state and status began, on the server's clock.

The monitor's "for" timers count from these, so every browser shows the same figure and a page
loaded later does not start them at zero. Fed by the fact bus (subscribed before the live hub);
an agent who has not changed since the server started counts from the start.
"""

from __future__ import annotations

from collections.abc import Callable

from callserver.facts.model import AgentStateChanged, AgentStatusChanged, Fact


class AgentTimes:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._started = clock()
        self._state: dict[str, float] = {}
        self._status: dict[str, float] = {}

    def on_fact(self, fact: Fact) -> None:
        """Bus subscriber: only agent facts matter here."""
        if isinstance(fact, AgentStateChanged):
            self._state[fact.agent_id] = fact.at
        elif isinstance(fact, AgentStatusChanged):
            self._status[fact.agent_id] = fact.at

    def state_since(self, agent_id: str) -> float:
        return self._state.get(agent_id, self._started)

    def status_since(self, agent_id: str) -> float:
        return self._status.get(agent_id, self._started)
