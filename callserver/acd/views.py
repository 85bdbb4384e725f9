"""Read-only snapshots of the ACD for everyone outside the engine: the web, call control, scripts.

Each view is copied out of the engine's state at the moment it is asked for, so a holder can keep
it (a response, a pop) without seeing later changes or being able to make any. What the engine
keeps but no reader needs (routing buckets, timers, offer bookkeeping) is left out on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .model import Agent, AgentState, AgentStatus, Call, CallKind, CallState, Leg


@dataclass(frozen=True, slots=True)
class AgentView:
    id: str
    name: str
    status: AgentStatus
    reason: str
    state: AgentState
    call_id: str | None  # the call they ring for, talk on or wrap up
    idle_since: float
    calls_today: int
    queues: tuple[str, ...]  # sorted
    endpoint: str  # where they take calls now
    remote: bool  # must accept each offer with a key press
    wrapup_until: float | None = None  # in wrap-up: when it ends
    wrapup_limit: float | None = None  # ...and the latest it may be extended to
    phone_reachable: bool = True  # False: the PBX cannot reach their phone, no call is offered


@dataclass(frozen=True, slots=True)
class CallView:
    id: str
    channel: str  # empty for a voicemail task
    caller_num: str
    caller_name: str
    queue: str
    kind: CallKind
    state: CallState
    agent_id: str | None
    leg_id: str | None  # the agent leg talking with the caller (or ringing for them)
    arrived_at: float
    queued_at: float
    on_hold: bool
    consult_leg: str | None  # a colleague's leg the agent consults
    # the call data (from the dialled number, the IVR, the customer record): a copy, read-only
    data: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class LegView:
    id: str
    call_id: str
    agent_id: str
    purpose: str  # "offer" or "consult"
    answered: bool
    needs_accept: bool  # a remote agent must press the accept key before it takes the call


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """A queue right now: calls not yet connected and the agents who serve it."""

    name: str
    waiting: int  # waiting or being offered
    oldest_arrival: float | None  # arrival time of the longest-waiting of them
    agents_available: int  # available and idle
    agents_logged_in: int


def agent_view(agent: Agent) -> AgentView:
    return AgentView(
        id=agent.id,
        name=agent.spec.name,
        status=agent.status,
        reason=agent.reason,
        state=agent.state,
        call_id=agent.call_id,
        idle_since=agent.idle_since,
        calls_today=agent.calls_today,
        queues=tuple(sorted(agent.queues)),
        endpoint=agent.endpoint,
        remote=agent.remote,
        wrapup_until=agent.state_deadline if agent.state is AgentState.WRAPUP else None,
        wrapup_limit=agent.wrapup_limit if agent.state is AgentState.WRAPUP else None,
        phone_reachable=agent.phone_reachable,
    )


def call_view(call: Call) -> CallView:
    return CallView(
        id=call.id,
        channel=call.channel,
        caller_num=call.caller_num,
        caller_name=call.caller_name,
        queue=call.queue,
        kind=call.kind,
        state=call.state,
        agent_id=call.agent_id,
        leg_id=call.leg_id,
        arrived_at=call.arrived_at,
        queued_at=call.queued_at,
        on_hold=call.on_hold,
        consult_leg=call.consult_leg,
        data=MappingProxyType(dict(call.data)),
    )


def leg_view(leg: Leg, agent: Agent) -> LegView:
    return LegView(
        id=leg.id,
        call_id=leg.call_id,
        agent_id=leg.agent_id,
        purpose=leg.purpose,
        answered=leg.answered,
        needs_accept=agent.remote and leg.purpose != "consult",
    )


NOT_CONNECTED = (CallState.WAITING, CallState.OFFERING)


def waiting_calls(calls: Iterable[Call]) -> list[CallView]:
    """Calls not yet connected, in the order they queued (then arrived)."""
    waiting = [c for c in calls if c.state in NOT_CONNECTED]
    return [call_view(c) for c in sorted(waiting, key=lambda c: (c.queued_at, c.arrived_at, c.id))]


def queue_load(name: str, calls: Iterable[Call], agents: Iterable[Agent]) -> QueueLoad:
    waiting = 0
    oldest: float | None = None
    for call in calls:
        if call.queue == name and call.state in NOT_CONNECTED:
            waiting += 1
            oldest = call.arrived_at if oldest is None else min(oldest, call.arrived_at)
    available = logged_in = 0
    for agent in agents:
        if name not in agent.queues or agent.status is AgentStatus.LOGGED_OUT:
            continue
        logged_in += 1
        if agent.can_take_call:
            available += 1
    return QueueLoad(name, waiting, oldest, available, logged_in)
