"""Facts as live-channel messages: one mapping per fact type, listed in one table.

Each entry names the message type, its public fields, the agent who may also see it (supervisors
see everything) and the queues whose tiles it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    CallRequeued,
    Fact,
    OfferEnded,
)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: str
    data: dict[str, Any]
    agent_id: str | None = None  # besides supervisors, this agent gets it
    queues: frozenset[str] = field(default_factory=frozenset)


def _queued(f: CallQueued) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "queue": f.queue,
        "caller_num": f.caller_num,
        "caller_name": f.caller_name,
    }
    return LiveEvent("call.queued", data, None, frozenset({f.queue}))


def _requeued(f: CallRequeued) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "from_queue": f.from_queue, "to_queue": f.to_queue}
    return LiveEvent("call.requeued", data, None, frozenset({f.from_queue, f.to_queue}))


def _offered(f: CallOffered) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "queue": f.queue, "agent_id": f.agent_id, "attempt": f.attempt}
    return LiveEvent("call.offered", data, f.agent_id, frozenset({f.queue}))


def _offer_ended(f: OfferEnded) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "agent_id": f.agent_id, "result": f.result.value}
    return LiveEvent("offer.ended", data, f.agent_id)


def _answered(f: CallAnswered) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "queue": f.queue, "agent_id": f.agent_id, "wait": f.wait}
    return LiveEvent("call.answered", data, f.agent_id, frozenset({f.queue}))


def _ended(f: CallEnded) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "queue": f.queue,
        "outcome": f.outcome.value,
        "agent_id": f.agent_id,
        "wait": f.wait,
    }
    return LiveEvent("call.ended", data, f.agent_id, frozenset({f.queue}))


def _status(f: AgentStatusChanged) -> LiveEvent:
    data = {"agent_id": f.agent_id, "at": f.at, "status": f.status, "reason": f.reason}
    return LiveEvent("agent.status", data, f.agent_id)


def _state(f: AgentStateChanged) -> LiveEvent:
    data = {"agent_id": f.agent_id, "at": f.at, "old": f.old, "new": f.new, "call_id": f.call_id}
    return LiveEvent("agent.state", data, f.agent_id)


MAPPINGS: dict[type[Any], Callable[[Any], LiveEvent]] = {
    CallQueued: _queued,
    CallRequeued: _requeued,
    CallOffered: _offered,
    OfferEnded: _offer_ended,
    CallAnswered: _answered,
    CallEnded: _ended,
    AgentStatusChanged: _status,
    AgentStateChanged: _state,
}


def live_event(fact: Fact) -> LiveEvent | None:
    """The public message for a fact, or None for facts the live channel does not show."""
    mapping = MAPPINGS.get(type(fact))
    return None if mapping is None else mapping(fact)
