"""One log line per fact, in one format, so an operator can follow calls in the server log."""

from __future__ import annotations

from typing import assert_never

from .model import (
    AgentPhoneChanged,
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallEndedWithReason,
    CallHeld,
    CallLinkedToCustomer,
    CallOffered,
    CallQueued,
    CallRejected,
    CallRequeued,
    CallResumed,
    CallTransferred,
    CallWrappedUp,
    CustomerFieldSet,
    Fact,
    OfferEnded,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)


def _by(agent_id: str | None) -> str:
    return f" by {agent_id}" if agent_id else ""


def describe(fact: Fact) -> str:
    match fact:
        case CallQueued():
            return f"call {fact.call_id} from {fact.caller_num} queued in {fact.queue}"
        case CallOffered():
            return f"call {fact.call_id} offered to {fact.agent_id} (attempt {fact.attempt})"
        case OfferEnded():
            return f"call {fact.call_id} offer to {fact.agent_id} ended: {fact.result.value}"
        case CallAnswered():
            return f"call {fact.call_id} answered by {fact.agent_id} after {fact.wait:.1f}s"
        case CallRequeued():
            return f"call {fact.call_id} overflows from {fact.from_queue} to {fact.to_queue}"
        case CallEnded():
            who = f" with {fact.agent_id}" if fact.agent_id else ""
            line = f"call {fact.call_id} ended {fact.outcome.value}{who} (waited {fact.wait:.1f}s)"
            if isinstance(fact, CallEndedWithReason):
                line += f": {fact.reason}" + (", end time estimated" if fact.estimated else "")
            return line
        case CallHeld():
            return f"call {fact.call_id} put on hold{_by(fact.agent_id)}"
        case CallResumed():
            return f"call {fact.call_id} taken off hold{_by(fact.agent_id)} after {fact.held:.1f}s"
        case CallTransferred():
            return f"call {fact.call_id} transferred to {fact.kind} {fact.target}{_by(fact.agent_id)}"
        case CallbackRequested():
            return f"call {fact.call_id} in {fact.queue}: callback requested to {fact.number}"
        case CallRejected():
            return f"call {fact.call_id} from {fact.caller_num} to {fact.dnis} rejected: {fact.reason}"
        case CallWrappedUp():
            if fact.timed_out:
                chosen = f"as {fact.code}" if fact.code else "with no outcome chosen"
                return f"call {fact.call_id} wrap-up of {fact.agent_id} timed out, saved {chosen}"
            return f"call {fact.call_id} wrapped up as {fact.code} by {fact.by}"
        case CallLinkedToCustomer():
            customer = "no customer" if fact.customer_id is None else f"customer {fact.customer_id}"
            return f"call {fact.call_id} linked to {customer} by {fact.by}"
        case CustomerFieldSet():
            return f"call {fact.call_id}: customer {fact.customer_id} field {fact.field} set by {fact.by}"
        case ScriptRunStarted():
            who = f"agent {fact.agent_id}" if fact.agent_id else "web customer"
            return f"call {fact.call_id}: script {fact.script_id} v{fact.version} started by {who}"
        case ScriptStepReached():
            return f"call {fact.call_id}: script run {fact.run_id} at step {fact.step}{_by(fact.agent_id)}"
        case ScriptAnswered():
            question = f"question {fact.question}"
            return f"call {fact.call_id}: script run {fact.run_id} {question} answered by {fact.by}"
        case ScriptRunEnded():
            return f"call {fact.call_id}: script run {fact.run_id} {fact.ended_as}{_by(fact.agent_id)}"
        case AgentStatusChanged():
            reason = f" ({fact.reason})" if fact.reason else ""
            return f"agent {fact.agent_id} is {fact.status}{reason}"
        case AgentStateChanged():
            return f"agent {fact.agent_id}: {fact.old} -> {fact.new}"
        case WrapupExtended():
            return f"agent {fact.agent_id}: wrap-up of call {fact.call_id} extended to {fact.until:.0f}"
        case TransferProgress():
            return (
                f"call {fact.call_id}: {fact.mode} to {fact.kind} {fact.target}{_by(fact.agent_id)}"
                f" {fact.state.value}"
            )
        case AgentPhoneChanged():
            reach = "reachable again" if fact.reachable else "unreachable: no calls offered"
            return f"agent {fact.agent_id}: phone {fact.endpoint} {reach}"
        case _:
            assert_never(fact)
