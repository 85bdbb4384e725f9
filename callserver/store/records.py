"""Plain frozen records the store hands out; callers never see ORM objects or sessions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Key in a call's data (CallQueued.data) holding the ids of the customers the caller's number
# matched, looked up once when the call arrived; the store links the call from it without
# searching again (one match: that customer; none or several: nobody).
CUSTOMER_MATCHES = "customer_matches"


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    id: int
    name: str
    phones: tuple[str, ...]  # E.164 (rows from before E.164 that could not be converted: as written)
    account: str | None
    email: str | None
    language: str | None
    vip: bool
    notes: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """What a person sets on a customer (screen-pop form): phones already in E.164."""

    name: str
    phones: tuple[str, ...]
    account: str | None
    email: str | None
    language: str | None
    vip: bool
    notes: str


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: str
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    queue: str
    first_queue: str
    customer_id: int | None
    arrived_at: datetime
    queued_at: datetime | None
    first_offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    agent_id: str | None
    offers: int
    outcome: str | None  # answered / abandoned / timed_out / failed, None while in progress
    wait: float | None
    wrapup_outcome: str | None = None  # the agent's outcome code, None until wrap-up is saved
    wrapup_note: str | None = None
    wrapup_timed_out: bool = False  # the server saved the wrap-up when its time ran out
    end_reason: str | None = None  # why, when neither the caller nor the agent ended it
    end_estimated: bool = False  # ended_at is the last moment it was known up, not its real end


@dataclass(frozen=True, slots=True)
class AgentInterval:
    """One interval of an agent's day (see `models.AgentStateRow`); `ended_at` None while it lasts."""

    agent_id: str
    kind: str  # login / status / state
    state: str
    reason: str
    call_id: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class OpenCallRecord:
    """A call the database shows in progress (no outcome), with what recovery needs of it."""

    id: str
    queue: str
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    arrived_at: datetime
    answered_at: datetime | None
    agent_id: str | None
    last_seen: datetime  # when its last recorded fact happened
    open_offers: tuple[tuple[str, str], ...]  # (agent id, leg id) of offers with no end


@dataclass(frozen=True, slots=True)
class OfferRecord:
    call_id: str
    attempt: int
    agent_id: str
    leg_id: str
    offered_at: datetime
    ended_at: datetime | None
    result: str | None  # answered / no_answer / cancelled / failed, None while ringing


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    at: datetime
    call_id: str | None
    agent_id: str | None
    kind: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a customer seed load did; each error reads `file:line: what is wrong`."""

    source: str
    created: int = 0
    updated: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)
    skipped: int = 0  # already known and left as they were (a load without `update`)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class ScriptAnswerRecord:
    position: int
    step: str
    question: str
    kind: str
    label: str  # the question as shown
    value: str  # canonical text
    shown: str  # as the person saw it
    by: str  # an agent id, or "customer"
    at: datetime


@dataclass(frozen=True, slots=True)
class ScriptRunRecord:
    """One use of a dialogue script as stored: by an agent on a call or a customer on the web."""

    run_id: str
    call_id: str  # the call, or the web contact (web-…)
    script_id: str
    version: int
    channel: str  # "agent" or "web"
    agent_id: str | None
    customer_id: int | None
    status: str  # active, finished, handed_off, abandoned
    step: str  # where it is, or ended
    title: str
    outcome: str | None
    path: tuple[str, ...]
    started_at: datetime
    ended_at: datetime | None
    answers: tuple[ScriptAnswerRecord, ...]
