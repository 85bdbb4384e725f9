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
    phones: tuple[str, ...]  # normalised: digits with a leading + when international
    account: str | None
    email: str | None
    language: str | None
    vip: bool
    notes: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """What a person sets on a customer (screen-pop form): phones already normalised."""

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

    @property
    def ok(self) -> bool:
        return not self.errors
