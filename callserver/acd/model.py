"""Calls and agents as the ACD sees them, with their state machines as tables of allowed moves.

Agent *status* is the agent's choice (logged out, available, paused + reason); agent *state* is what
the system does with them (idle, ringing, on call, wrap-up). They are kept apart on purpose.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from enum import StrEnum

from . import queue_options as default
from .expr import BoundRequirement, Requirement, parse
from .queue_options import Strategy as Strategy  # re-exported: the engine names it from here

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
    # CONNECTED -> WAITING: blind transfer back into a queue or to another agent
    CallState.CONNECTED: frozenset({CallState.WAITING, CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


class CallKind(StrEnum):
    CALL = "call"  # a caller on the line
    CALLBACK = "callback"  # the caller hung up keeping their place; the agent calls them back
    VOICEMAIL = "voicemail"  # a voicemail to deal with: work routed like a call, no caller on the line


@dataclass(frozen=True, slots=True)
class Ending:
    """How a call ended when callserver did not see it end: cut by the PBX (a restart, a network
    failure), or gone while the PBX link or callserver itself was down.

    `at` is when it ended, or with `estimated` the last moment it was known to be up. A `cut` call
    that nobody had answered failed (it was not abandoned); one that was answered stays answered.
    """

    at: float
    reason: str
    estimated: bool = False
    cut: bool = False


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a caller goes when a queue cannot keep them: queue, voicemail box, number or message."""

    kind: str  # "queue" | "voicemail" | "number" | "message"
    target: str


@dataclass(frozen=True, slots=True)
class RoutingStep:
    """From `after` seconds of waiting in the queue, a call needs agents matching `requirement`."""

    after: float
    requirement: Requirement


@functools.lru_cache(maxsize=1024)
def requirement_for_skills(skills: frozenset[str]) -> Requirement:
    """The plain requirement `a and b and ...` (every listed skill at any level).

    Kept per skill set: a queue without explicit steps asks for it each time a call is queued and
    at each routing step, and parsing it again was about 80 µs a call. A Requirement is immutable,
    and the number of distinct skill sets is bounded by the configuration's queues."""
    return parse(" and ".join(sorted(skills)) if skills else "true")


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """What the engine needs of a queue's configuration.

    Built from the configuration by `acd.specs.queue_spec` alone; the defaults (from
    `queue_options`, shared with the configuration schema) serve tests that write a spec by hand.
    """

    name: str
    skills: frozenset[str] = frozenset()
    max_wait: float = default.MAX_WAIT
    overflow_queue: str | None = None
    timeout_message: str | None = default.TIMEOUT_MESSAGE
    ring_timeout: float = default.RING_TIMEOUT
    wrapup: float = default.WRAPUP
    wrapup_max: float = 0.0  # how long the agent may extend the wrap-up to (never below `wrapup`)
    steps: tuple[RoutingStep, ...] = ()
    strategy: Strategy = default.STRATEGY
    priority: int = default.PRIORITY
    vip_priority: int = default.VIP_PRIORITY
    max_length: int | None = None
    on_full: Destination | None = None
    on_timeout: Destination | None = None  # overrides overflow_queue / timeout_message
    refuse_without_agents: bool = False
    on_no_agents: Destination | None = None
    announce_every: float | None = None
    callback_key: str | None = None
    pause_after_no_answers: int = default.PAUSE_AFTER_NO_ANSWERS
    task_priority: int = default.TASK_PRIORITY

    def routing_steps(self) -> tuple[RoutingStep, ...]:
        if self.steps:
            return self.steps
        return (RoutingStep(0.0, requirement_for_skills(self.skills)),)

    def served_by(self, skills: dict[str, int]) -> bool:
        """Whether an agent with these skills serves the queue: some step admits them, no call data known."""
        return any(step.requirement.matches(skills) for step in self.routing_steps())

    def timeout_destination(self) -> Destination:
        if self.on_timeout is not None:
            return self.on_timeout
        if self.overflow_queue is not None:
            return Destination("queue", self.overflow_queue)
        return Destination("message", self.timeout_message or default.TIMEOUT_MESSAGE)


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """What the engine needs of an agent's configuration; `endpoint` is what Originate dials."""

    id: str
    name: str
    endpoint: str
    skills: dict[str, int] = field(default_factory=dict)
    remote: bool = False  # must press 1 to accept each offer (home or mobile phone)


@dataclass(slots=True)
class Agent:
    spec: AgentSpec
    queues: frozenset[str] = frozenset()
    status: AgentStatus = AgentStatus.LOGGED_OUT
    reason: str = ""
    state: AgentState = AgentState.IDLE
    idle_since: float = 0.0
    call_id: str | None = None
    leg_id: str | None = None
    state_deadline: float | None = None
    resume_at: float | None = None
    calls_today: int = 0
    busy_time: float = 0.0  # seconds ringing, talking or in wrap-up today (occupancy)
    busy_since: float | None = None
    logged_in_time: float = 0.0
    logged_in_since: float | None = None
    no_answers: int = 0  # consecutive offers not answered
    endpoint: str = ""
    remote: bool = False
    wrapup_limit: float | None = None  # the latest the current wrap-up may be extended to
    phone_reachable: bool = True  # the PBX says the phone can be reached (contact / device state)
    engaged: str | None = None  # busy with work outside the ACD (a campaign call): no offers
    line_id: str | None = None  # uniqueid of the agent's persistent line while it is up

    def __post_init__(self) -> None:
        if not self.endpoint:
            self.endpoint = self.spec.endpoint
            self.remote = self.spec.remote

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
        return (
            self.status is AgentStatus.AVAILABLE
            and self.state is AgentState.IDLE
            and self.phone_reachable
            and self.engaged is None
        )

    def occupancy(self, now: float) -> float:
        busy = self.busy_time + (now - self.busy_since if self.busy_since is not None else 0.0)
        staffed = self.logged_in_time + (
            now - self.logged_in_since if self.logged_in_since is not None else 0.0
        )
        return busy / staffed if staffed > 0 else 0.0


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
    kind: CallKind = CallKind.CALL
    data: dict[str, object] = field(default_factory=dict)
    priority: int = 0
    step: int = 0
    bound: BoundRequirement | None = None
    declined: set[str] = field(default_factory=set)
    ring_legs: set[str] = field(default_factory=set)  # ring-all: every leg ringing for this call
    target_agent: str | None = None  # transferred to one agent: only they may take it
    # a task's own requirement (a script's task "for agents meeting billing >= 3"), instead of the
    # queue's routing steps; None for calls
    requirement: Requirement | None = None
    excluded: str | None = None  # the agent who transferred it away: kept from them (see handling)
    transferred_by: str | None = None  # a transfer to `target_agent` under way, by this agent
    transfer_deadline: float | None = None  # ...returned if the target has not answered by then
    exclusion_check: float | None = None  # when to see whether `excluded` is the only one left
    callback_leg: str | None = None  # a voicemail task: the agent's callback to the customer is up
    done_requested: bool = False  # a voicemail task closed while its callback is up: ends with it
    on_hold: bool = False
    hold_started: float | None = None
    hold_total: float = 0.0
    consult_leg: str | None = None
    next_announce: float | None = None

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
    purpose: str = "offer"  # "offer" (to take the call), "consult" (a colleague asked by the agent)
    picked_up: bool = False  # the phone answered (a remote agent may still refuse)
    claimed: bool = False  # the agent accepted: this leg, and no other, gets the caller
    answered: bool = False  # bridged to the caller
    cancelled: bool = False
