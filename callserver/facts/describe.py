"""One log line per ACD fact, in one format, so an operator can follow calls in the server log."""

from __future__ import annotations

from .model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    CallRejected,
    CallRequeued,
    Fact,
    OfferEnded,
)


def describe(fact: Fact) -> str:
    if isinstance(fact, CallQueued):
        return f"call {fact.call_id} from {fact.caller_num} queued in {fact.queue}"
    if isinstance(fact, CallOffered):
        return f"call {fact.call_id} offered to {fact.agent_id} (attempt {fact.attempt})"
    if isinstance(fact, OfferEnded):
        return f"call {fact.call_id} offer to {fact.agent_id} ended: {fact.result.value}"
    if isinstance(fact, CallAnswered):
        return f"call {fact.call_id} answered by {fact.agent_id} after {fact.wait:.1f}s"
    if isinstance(fact, CallRequeued):
        return f"call {fact.call_id} overflows from {fact.from_queue} to {fact.to_queue}"
    if isinstance(fact, CallEnded):
        who = f" with {fact.agent_id}" if fact.agent_id else ""
        return f"call {fact.call_id} ended {fact.outcome.value}{who} (waited {fact.wait:.1f}s)"
    if isinstance(fact, CallRejected):
        return f"call {fact.call_id} from {fact.caller_num} to {fact.dnis} rejected: {fact.reason}"
    if isinstance(fact, AgentStatusChanged):
        reason = f" ({fact.reason})" if fact.reason else ""
        return f"agent {fact.agent_id} is {fact.status}{reason}"
    if isinstance(fact, AgentStateChanged):
        return f"agent {fact.agent_id}: {fact.old} -> {fact.new}"
    return repr(fact)
