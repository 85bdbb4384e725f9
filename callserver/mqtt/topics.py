"""The MQTT topic layout and payloads: one message per fact, mapped explicitly field by field.

`<prefix>/<site>/calls/<call-id>/<event>` and `<prefix>/<site>/agents/<agent-id>/<event>`; payloads
are JSON objects with `v` (format version), `event`, `at` (Unix seconds) and the event's fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

from callserver.facts.model import (
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

VERSION = 1
# MQTT wildcards and the level separator must never come from an id into a topic
_UNSAFE = re.compile(r"[/+#\x00]")


def topic_part(value: str) -> str:
    return _UNSAFE.sub("_", value) or "_"


def message_for(fact: Fact, prefix: str, site: str) -> tuple[str, bytes]:
    """The topic and JSON payload for one fact."""
    kind: str
    fields: dict[str, Any]
    if isinstance(fact, AgentStatusChanged | AgentStateChanged):
        if isinstance(fact, AgentStatusChanged):
            kind, fields = "status", {"status": fact.status, "reason": fact.reason}
        else:
            kind, fields = "state", {"old": fact.old, "new": fact.new, "call_id": fact.call_id}
        topic = f"{topic_part(prefix)}/{topic_part(site)}/agents/{topic_part(fact.agent_id)}/{kind}"
        payload = {"v": VERSION, "event": kind, "at": fact.at, "agent_id": fact.agent_id, **fields}
        return topic, json.dumps(payload, separators=(",", ":")).encode()
    if isinstance(fact, CallQueued):
        kind = "queued"
        fields = {
            "queue": fact.queue,
            "caller_num": fact.caller_num,
            "caller_name": fact.caller_name,
            "dnis": fact.dnis,
        }
    elif isinstance(fact, CallRequeued):
        kind, fields = "requeued", {"from_queue": fact.from_queue, "to_queue": fact.to_queue}
    elif isinstance(fact, CallOffered):
        kind, fields = "offered", {"queue": fact.queue, "agent_id": fact.agent_id, "attempt": fact.attempt}
    elif isinstance(fact, OfferEnded):
        kind, fields = "offer_ended", {"agent_id": fact.agent_id, "result": fact.result.value}
    elif isinstance(fact, CallAnswered):
        kind, fields = "answered", {"queue": fact.queue, "agent_id": fact.agent_id, "wait": fact.wait}
    elif isinstance(fact, CallEnded):
        kind = "ended"
        fields = {
            "queue": fact.queue,
            "outcome": fact.outcome.value,
            "agent_id": fact.agent_id,
            "wait": fact.wait,
        }
    elif isinstance(fact, CallRejected):
        kind = "rejected"
        fields = {"caller_num": fact.caller_num, "dnis": fact.dnis, "reason": fact.reason}
    else:
        raise TypeError(f"no MQTT mapping for {type(fact).__name__}")
    topic = f"{topic_part(prefix)}/{topic_part(site)}/calls/{topic_part(fact.call_id)}/{kind}"
    payload = {"v": VERSION, "event": kind, "at": fact.at, "call_id": fact.call_id, **fields}
    return topic, json.dumps(payload, separators=(",", ":")).encode()
