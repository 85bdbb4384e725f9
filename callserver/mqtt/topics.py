"""The MQTT topic layout and payloads: one message per fact, mapped explicitly field by field.

`<prefix>/<site>/calls/<call-id>/<event>` and `<prefix>/<site>/agents/<agent-id>/<event>`; payloads
are JSON objects with `v` (format version), `event`, `at` (Unix seconds) and the event's fields.
The mapping is one exhaustive `match`, so a fact type without a topic fails the type check.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, assert_never

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
    level: str  # "calls" or "agents"
    key: str  # the payload field naming the subject: call_id or agent_id
    subject: str
    event: str
    fields: dict[str, Any]


def _call(call_id: str, event: str, /, **fields: Any) -> _Message:
    return _Message("calls", "call_id", call_id, event, fields)


def _agent(agent_id: str, event: str, /, **fields: Any) -> _Message:
    return _Message("agents", "agent_id", agent_id, event, fields)


def _why(fact: CallEndedWithReason) -> dict[str, Any]:
    return {"reason": fact.reason, "estimated": fact.estimated}


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
        case _:
            assert_never(fact)


def message_for(fact: Fact, prefix: str, site: str) -> tuple[str, bytes]:
    """The topic and JSON payload for one fact."""
    m = _message(fact)
    topic = f"{topic_part(prefix)}/{topic_part(site)}/{m.level}/{topic_part(m.subject)}/{m.event}"
    payload = {"v": VERSION, "event": m.event, "at": fact.at, m.key: m.subject, **m.fields}
    return topic, json.dumps(payload, separators=(",", ":")).encode()
