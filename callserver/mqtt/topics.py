"""The MQTT topic layout and payloads: one message per fact, mapped explicitly field by field.

`<prefix>/<site>/calls/<call-id>/<event>`, `<prefix>/<site>/agents/<agent-id>/<event>` and
`<prefix>/<site>/campaigns/<campaign>/<event>` (`_` for the global do-not-call list); payloads
are JSON objects with `v` (format version), `event`, `at` (Unix seconds) and the event's fields.
The mapping is one exhaustive `match`, so a fact type without a topic fails the type check.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, assert_never

from callserver.facts.campaign import (
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
from callserver.facts.model import (
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
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)

VERSION = 1
# MQTT wildcards and the level separator must never come from an id into a topic
_UNSAFE = re.compile(r"[/+#\x00]")


def topic_part(value: str) -> str:
    return _UNSAFE.sub("_", value) or "_"


@dataclass(frozen=True, slots=True)
class _Message:
    level: str  # "calls", "agents" or "campaigns"
    key: str  # the payload field naming the subject: call_id, agent_id or campaign
    subject: str
    event: str
    fields: dict[str, Any]


def _call(call_id: str, event: str, /, **fields: Any) -> _Message:
    return _Message("calls", "call_id", call_id, event, fields)


def _agent(agent_id: str, event: str, /, **fields: Any) -> _Message:
    return _Message("agents", "agent_id", agent_id, event, fields)


def _why(fact: CallEndedWithReason) -> dict[str, Any]:
    return {"reason": fact.reason, "estimated": fact.estimated}


def _campaign(campaign: str, event: str, /, **fields: Any) -> _Message:
    return _Message("campaigns", "campaign", campaign, event, fields)


def _message(fact: Fact) -> _Message:
    match fact:
        case CallQueued():
            return _call(
                fact.call_id,
                "queued",
                queue=fact.queue,
                caller_num=fact.caller_num,
                caller_name=fact.caller_name,
                dnis=fact.dnis,
            )
        case CallRequeued():
            return _call(fact.call_id, "requeued", from_queue=fact.from_queue, to_queue=fact.to_queue)
        case CallOffered():
            return _call(
                fact.call_id, "offered", queue=fact.queue, agent_id=fact.agent_id, attempt=fact.attempt
            )
        case OfferEnded():
            return _call(fact.call_id, "offer_ended", agent_id=fact.agent_id, result=fact.result.value)
        case CallAnswered():
            return _call(fact.call_id, "answered", queue=fact.queue, agent_id=fact.agent_id, wait=fact.wait)
        case CallEnded():
            return _call(
                fact.call_id,
                "ended",
                queue=fact.queue,
                outcome=fact.outcome.value,
                agent_id=fact.agent_id,
                wait=fact.wait,
                **(_why(fact) if isinstance(fact, CallEndedWithReason) else {}),
            )
        case CallHeld():
            return _call(fact.call_id, "held", agent_id=fact.agent_id)
        case CallResumed():
            return _call(fact.call_id, "resumed", agent_id=fact.agent_id, held=fact.held)
        case CallTransferred():
            return _call(
                fact.call_id, "transferred", agent_id=fact.agent_id, kind=fact.kind, target=fact.target
            )
        case CallbackRequested():
            return _call(fact.call_id, "callback_requested", queue=fact.queue, number=fact.number)
        case CallRejected():
            return _call(
                fact.call_id, "rejected", caller_num=fact.caller_num, dnis=fact.dnis, reason=fact.reason
            )
        case CallWrappedUp():
            return _call(
                fact.call_id,
                "wrapped_up",
                agent_id=fact.agent_id,
                code=fact.code,
                note=fact.note,
                by=fact.by,
                timed_out=fact.timed_out,
            )
        case CallLinkedToCustomer():
            return _call(fact.call_id, "customer_linked", customer_id=fact.customer_id, by=fact.by)
        case CustomerFieldSet():
            return _call(
                fact.call_id,
                "customer_field_set",
                customer_id=fact.customer_id,
                field=fact.field,
                value=fact.value,
                by=fact.by,
            )
        case ScriptRunStarted():
            return _call(
                fact.call_id,
                "script_started",
                run_id=fact.run_id,
                script_id=fact.script_id,
                version=fact.version,
                agent_id=fact.agent_id,
                customer_id=fact.customer_id,
            )
        case ScriptStepReached():
            return _call(
                fact.call_id,
                "script_step",
                run_id=fact.run_id,
                script_id=fact.script_id,
                agent_id=fact.agent_id,
                step=fact.step,
                title=fact.title,
                position=fact.position,
            )
        case ScriptAnswered():
            return _call(
                fact.call_id,
                "script_answered",
                run_id=fact.run_id,
                agent_id=fact.agent_id,
                position=fact.position,
                step=fact.step,
                question=fact.question,
                kind=fact.question_kind,
                value=fact.value,
                shown=fact.shown,
                by=fact.by,
            )
        case ScriptRunEnded():
            path = fact.record.get("path")
            return _call(
                fact.call_id,
                "script_ended",
                run_id=fact.run_id,
                script_id=fact.script_id,
                agent_id=fact.agent_id,
                ended_as=fact.ended_as,
                outcome=fact.outcome,
                path=[str(step) for step in path] if isinstance(path, list) else [],
            )
        case AgentStatusChanged():
            return _agent(fact.agent_id, "status", status=fact.status, reason=fact.reason)
        case AgentStateChanged():
            return _agent(
                fact.agent_id, "state", old=fact.old, new=fact.new, call_id=fact.call_id, until=fact.until
            )
        case WrapupExtended():
            return _agent(fact.agent_id, "wrapup_extended", call_id=fact.call_id, until=fact.until)
        case TransferProgress():
            return _call(
                fact.call_id,
                "transfer_progress",
                agent_id=fact.agent_id,
                mode=fact.mode,
                kind=fact.kind,
                target=fact.target,
                state=fact.state.value,
            )
        case AgentPhoneChanged():
            return _agent(fact.agent_id, "phone", reachable=fact.reachable, endpoint=fact.endpoint)
        case IvrNodeEntered():
            return _call(fact.call_id, "ivr_node", flow=fact.flow, node=fact.node)
        case IvrLeft():
            return _call(fact.call_id, "ivr_left", flow=fact.flow, node=fact.node, outcome=fact.outcome)
        case _:
            return _campaign_message(fact)


def _campaign_message(fact: CampaignFact) -> _Message:
    """Campaign facts: lead data (names, fields) never goes to MQTT, only ids and figures."""
    match fact:
        case CampaignSaved():
            return _campaign(fact.campaign, "saved", by=fact.by)
        case CampaignStateChanged():
            return _campaign(fact.campaign, "run_state", old=fact.old, new=fact.new)
        case CampaignModeChanged():
            return _campaign(fact.campaign, "mode", old=fact.old, new=fact.new, reason=fact.reason)
        case LeadsImported():
            return _campaign(
                fact.campaign,
                "list_imported",
                list_name=fact.list_name,
                leads=len(fact.leads),
                rows=fact.rows,
                duplicates=fact.duplicates,
                dnc_hits=fact.dnc_hits,
                by=fact.by,
            )
        case AttemptStarted():
            return _campaign(
                fact.campaign,
                "attempt_started",
                attempt_id=fact.attempt_id,
                lead_id=fact.lead_id,
                number=fact.number,
                agent_id=fact.agent_id,
            )
        case AttemptRinging():
            return _campaign(fact.campaign, "attempt_ringing", attempt_id=fact.attempt_id)
        case AttemptAnswered():
            return _campaign(fact.campaign, "attempt_answered", attempt_id=fact.attempt_id)
        case AttemptAmd():
            return _campaign(
                fact.campaign,
                "attempt_amd",
                attempt_id=fact.attempt_id,
                decision=fact.decision,
                duration=fact.duration,
            )
        case AttemptConnected():
            return _campaign(
                fact.campaign,
                "attempt_connected",
                attempt_id=fact.attempt_id,
                agent_id=fact.agent_id,
                lead_id=fact.lead_id,
                wait=fact.wait,
            )
        case AttemptEnded():
            return _campaign(
                fact.campaign,
                "attempt_ended",
                attempt_id=fact.attempt_id,
                lead_id=fact.lead_id,
                result=fact.result,
                agent_id=fact.agent_id,
                abandoned=fact.abandoned,
                info_message=fact.info_message,
                amd=fact.amd,
            )
        case AttemptCoded():
            return _campaign(
                fact.campaign,
                "attempt_coded",
                attempt_id=fact.attempt_id,
                agent_id=fact.agent_id,
                outcome=fact.outcome,
            )
        case LeadUpdated():
            return _campaign(
                fact.campaign,
                "lead_updated",
                lead_id=fact.lead_id,
                state=fact.state,
                next_at=fact.next_at,
                attempts=fact.attempts,
                last_result=fact.last_result,
            )
        case DialRefused():
            return _campaign(
                fact.campaign,
                "dial_refused",
                lead_id=fact.lead_id,
                rules=list(fact.rules),
                reason=fact.reason,
                next_at=fact.next_at,
            )
        case CallbackBooked():
            return _campaign(
                fact.campaign,
                "callback_booked",
                lead_id=fact.lead_id,
                callback_at=fact.callback_at,
                agent_id=fact.agent_id,
            )
        case PreviewOffered():
            return _campaign(fact.campaign, "preview_offered", agent_id=fact.agent_id, lead_id=fact.lead_id)
        case PreviewSkipped():
            return _campaign(
                fact.campaign,
                "preview_skipped",
                agent_id=fact.agent_id,
                lead_id=fact.lead_id,
                reason=fact.reason,
            )
        case AgentSlotChanged():
            return _campaign(fact.campaign, "agent_slot", agent_id=fact.agent_id, old=fact.old, new=fact.new)
        case DncAdded():
            return _campaign(fact.campaign, "dnc_added", number=fact.number, source=fact.source)
        case DncImported():
            return _campaign(fact.campaign, "dnc_imported", numbers=len(fact.numbers), source=fact.source)
        case _:
            assert_never(fact)


def message_for(fact: Fact, prefix: str, site: str) -> tuple[str, bytes]:
    """The topic and JSON payload for one fact."""
    m = _message(fact)
    topic = f"{topic_part(prefix)}/{topic_part(site)}/{m.level}/{topic_part(m.subject)}/{m.event}"
    payload = {"v": VERSION, "event": m.event, "at": fact.at, m.key: m.subject, **m.fields}
    return topic, json.dumps(payload, separators=(",", ":")).encode()
