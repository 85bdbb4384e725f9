"""One log line per fact, in one format, so an operator can follow calls in the server log.

At INFO the log has a line per call (its end: outcome, agent, wait, and why when it was cut) and one
for everything out of the ordinary (an offer the agent let ring out, a hold, a transfer, a status
change); the routine steps of every call (queued, offered, answered, agent states) and each IVR
node are at DEBUG. The database's event log keeps every fact whatever the level: at 200 calls/s
seven INFO lines per call would be 1,400 lines a second, a fifth of the server's time spent
formatting lines nobody reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import assert_never

from .campaign import (
    AgentSlotChanged,
    AttemptAmd,
    AttemptAnswered,
    AttemptCoded,
    AttemptConnected,
    AttemptEnded,
    AttemptRinging,
    AttemptStarted,
    CallbackBooked,
    CampaignFact,
    CampaignModeChanged,
    CampaignSaved,
    CampaignStateChanged,
    DialRefused,
    DncAdded,
    DncImported,
    LeadsImported,
    LeadUpdated,
    PreviewOffered,
    PreviewSkipped,
)
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
    IvrLeft,
    IvrNodeEntered,
    OfferEnded,
    OfferResult,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)


def _by(agent_id: str | None) -> str:
    return f" by {agent_id}" if agent_id else ""


_ROUTINE = (IvrNodeEntered, IvrLeft, CallQueued, CallOffered, CallAnswered, AgentStateChanged)


def log_level(fact: Fact) -> int:
    """DEBUG for the steps every call takes (its end line says how it went), INFO for the rest."""
    if isinstance(fact, _ROUTINE):
        return logging.DEBUG
    if isinstance(fact, OfferEnded) and fact.result is OfferResult.CANCELLED:
        return logging.DEBUG  # the caller hung up while it rang: the call's end line says so
    return logging.INFO


def fact_logger(log: logging.Logger) -> Callable[[Fact], None]:
    """A bus subscriber writing each fact's line to `log`; a line below the log's level is not
    even formatted."""

    def log_fact(fact: Fact) -> None:
        level = log_level(fact)
        if log.isEnabledFor(level):
            log.log(level, "%s", describe(fact))

    return log_fact


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
        case IvrNodeEntered():
            return f"call {fact.call_id}: IVR {fact.flow} at node {fact.node}"
        case IvrLeft():
            return f"call {fact.call_id}: IVR {fact.flow} left from node {fact.node or '-'}: {fact.outcome}"
        case _:
            return _campaign(fact)


def _when(at: float | None) -> str:
    return "never" if at is None else datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _campaign(fact: CampaignFact) -> str:
    match fact:
        case CampaignSaved():
            return f"campaign {fact.campaign} saved by {fact.by}"
        case CampaignStateChanged():
            return f"campaign {fact.campaign}: {fact.old} -> {fact.new}"
        case CampaignModeChanged():
            return f"campaign {fact.campaign} dials {fact.new} (was {fact.old}): {fact.reason}"
        case LeadsImported():
            return (
                f"campaign {fact.campaign}: list {fact.list_name} imported by {fact.by},"
                f" {len(fact.leads)} leads from {fact.rows} rows"
            )
        case AttemptStarted():
            reserved = f" for {fact.agent_id}" if fact.agent_id else ""
            return f"attempt {fact.attempt_id} of campaign {fact.campaign} dials {fact.number}{reserved}"
        case AttemptRinging():
            return f"attempt {fact.attempt_id} of campaign {fact.campaign} rings"
        case AttemptAnswered():
            return f"attempt {fact.attempt_id} of campaign {fact.campaign} answered"
        case AttemptAmd():
            what = f"AMD {fact.decision} in {fact.duration:.1f}s"
            return f"attempt {fact.attempt_id} of campaign {fact.campaign}: {what}"
        case AttemptConnected():
            return (
                f"attempt {fact.attempt_id} of campaign {fact.campaign} connected to {fact.agent_id}"
                f" {fact.wait:.1f}s after the greeting"
            )
        case AttemptEnded():
            dropped = " (abandoned)" if fact.abandoned else ""
            return f"attempt {fact.attempt_id} of campaign {fact.campaign} ended {fact.result}{dropped}"
        case AttemptCoded():
            what = f"coded {fact.outcome} by {fact.agent_id}"
            return f"attempt {fact.attempt_id} of campaign {fact.campaign} {what}"
        case LeadUpdated():
            due = "" if fact.next_at <= fact.at else f", not before {_when(fact.next_at)}"
            return f"campaign {fact.campaign}: lead {fact.lead_id} {fact.state}{due}"
        case DialRefused():
            return f"campaign {fact.campaign}: lead {fact.lead_id} not dialled now: {fact.reason}"
        case CallbackBooked():
            who = f" for {fact.agent_id}" if fact.agent_id else ""
            return (
                f"campaign {fact.campaign}: lead {fact.lead_id} called back at {_when(fact.callback_at)}{who}"
            )
        case PreviewOffered():
            return f"campaign {fact.campaign}: lead {fact.lead_id} previewed by {fact.agent_id}"
        case PreviewSkipped():
            return f"campaign {fact.campaign}: lead {fact.lead_id} skipped by {fact.agent_id}: {fact.reason}"
        case AgentSlotChanged():
            return f"agent {fact.agent_id} in campaign {fact.campaign}: {fact.old} -> {fact.new}"
        case DncAdded():
            where = f"campaign {fact.campaign}" if fact.campaign else "the global list"
            return f"do-not-call: {fact.number} added to {where} ({fact.source})"
        case DncImported():
            where = f"campaign {fact.campaign}" if fact.campaign else "the global list"
            return f"do-not-call: {len(fact.numbers)} numbers imported into {where} ({fact.source})"
        case _:
            assert_never(fact)
