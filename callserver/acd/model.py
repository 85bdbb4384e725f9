"""Calls and agents as the ACD sees them, with their state machines as tables of allowed moves.

Agent *status* is the agent's choice (logged out, available, paused + reason); agent *state* is what
the system does with them (idle, ringing, on call, wrap-up). They are kept apart on purpose.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger("callserver.acd.transitions")


class AgentStatus(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


class AgentState(StrEnum):
    IDLE = "idle"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAPUP = "wrapup"


class CallState(StrEnum):
    WAITING = "waiting"
    OFFERING = "offering"
    CONNECTED = "connected"
    ENDED = "ended"


class InvalidTransition(Exception):
    """A state change the table does not allow: a bug in the caller, never silently ignored."""

    def __init__(self, what: str, ident: str, old: str, new: str) -> None:
        super().__init__(f"{what} {ident}: cannot go from {old} to {new}")


AGENT_TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    AgentState.IDLE: frozenset({AgentState.RINGING}),
    # RINGING -> IDLE: the leg ended unanswered (or was cancelled) and is gone
    AgentState.RINGING: frozenset({AgentState.IDLE, AgentState.ON_CALL}),
    AgentState.ON_CALL: frozenset({AgentState.WRAPUP, AgentState.IDLE}),
    AgentState.WRAPUP: frozenset({AgentState.IDLE}),
}

CALL_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.WAITING: frozenset({CallState.OFFERING, CallState.ENDED}),
    CallState.OFFERING: frozenset({CallState.WAITING, CallState.CONNECTED, CallState.ENDED}),
    CallState.CONNECTED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """What the engine needs of a queue's configuration."""

    name: str
    skills: frozenset[str] = frozenset()
    max_wait: float = 300.0
    overflow_queue: str | None = None
    timeout_message: str | None = "vm-goodbye"
    ring_timeout: float = 15.0
    wrapup: float = 0.0


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """What the engine needs of an agent's configuration; `endpoint` is what Originate dials."""

    id: str
    name: str
    endpoint: str
    skills: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Agent:
    spec: AgentSpec
    queues: frozenset[str]
    status: AgentStatus = AgentStatus.LOGGED_OUT
    reason: str = ""
    state: AgentState = AgentState.IDLE
    idle_since: float = 0.0
    call_id: str | None = None
    leg_id: str | None = None
    state_deadline: float | None = None
    resume_at: float | None = None
    calls_today: int = 0

    @property
    def id(self) -> str:
        return self.spec.id

    def move(self, new: AgentState) -> AgentState:
        old = self.state
        if new not in AGENT_TRANSITIONS[old]:
            raise InvalidTransition("agent", self.id, old, new)
        log.debug("agent %s: %s -> %s", self.id, old, new)
        self.state = new
        return old

    @property
    def can_take_call(self) -> bool:
        return self.status is AgentStatus.AVAILABLE and self.state is AgentState.IDLE


@dataclass(slots=True)
class Call:
    id: str
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    queue: str
    arrived_at: float
    queued_at: float
    deadline: float
    state: CallState = CallState.WAITING
    agent_id: str | None = None
    leg_id: str | None = None
    attempts: int = 0
    visited: list[str] = field(default_factory=list)
    answered_at: float | None = None

    def move(self, new: CallState) -> CallState:
        old = self.state
        if new not in CALL_TRANSITIONS[old]:
            raise InvalidTransition("call", self.id, old, new)
        log.debug("call %s: %s -> %s", self.id, old, new)
        self.state = new
        return old


@dataclass(slots=True)
class Leg:
    """An agent leg we originated: it lives from the Originate until its channel is gone."""

    id: str
    call_id: str
    agent_id: str
    answered: bool = False
    cancelled: bool = False
