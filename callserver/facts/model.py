"""Facts: what happened to calls and agents, in order; the only way a call's record changes.

Most come from the ACD engine; the wrap-up and the customer link come from people (an agent's
form, the IVR); outbound campaigns add theirs (`campaign.py`). The bus hands every one of them to
the store (one row per call plus an append-only log), to MQTT, to the live web channel and to the
server log. They are frozen and
carry the time `at` (Unix seconds, float).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .campaign import CampaignFact


class Outcome(StrEnum):
    """How a call ended, from the caller's point of view."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    OVERFLOWED = "overflowed"  # sent out of callserver: voicemail or an outside number
    TRANSFERRED = "transferred"  # an agent transferred it to an outside number
    CALLBACK_FAILED = "callback_failed"  # the customer did not answer the callback


class OfferResult(StrEnum):
    """Why an offer to an agent ended without a connected call."""

    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"  # the caller left while the agent's phone rang
    FAILED = "failed"  # the PBX refused the originate (link down, bad endpoint)


@dataclass(frozen=True, slots=True)
class CallQueued:
    call_id: str
    at: float
    queue: str
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    kind: str = "call"
    priority: int = 0
    data: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class CallOffered:
    call_id: str
    at: float
    queue: str
    agent_id: str
    leg_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class OfferEnded:
    call_id: str
    at: float
    agent_id: str
    leg_id: str
    result: OfferResult


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: str
    at: float
    queue: str
    agent_id: str
    wait: float


@dataclass(frozen=True, slots=True)
class CallRequeued:
    """Max wait passed and the queue overflows to another queue; the caller keeps its music."""

    call_id: str
    at: float
    from_queue: str
    to_queue: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    call_id: str
    at: float
    queue: str
    outcome: Outcome
    agent_id: str | None
    wait: float


@dataclass(frozen=True, slots=True)
class CallHeld:
    call_id: str
    at: float
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class CallResumed:
    call_id: str
    at: float
    agent_id: str | None
    held: float


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """An agent moved the call: `kind` queue / agent / number / consult (completed to a colleague)."""

    call_id: str
    at: float
    agent_id: str | None
    kind: str
    target: str


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The caller pressed the callback key: hung up, keeps their place, will be called back."""

    call_id: str
    at: float
    queue: str
    number: str


@dataclass(frozen=True, slots=True)
class CallRejected:
    """A call callserver could not take at all (e.g. a number no queue answers): kept on record."""

    call_id: str
    at: float
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallWrappedUp:
    """The agent's wrap-up of a call: an outcome code from the configured list and a free note.

    A later wrap-up of the same call replaces the earlier one. `agent_id` is the agent who handled
    the call (None if none did); `by` the web login that saved it (the agent or a supervisor).
    """

    call_id: str
    at: float
    agent_id: str | None
    code: str
    note: str
    by: str


@dataclass(frozen=True, slots=True)
class CallLinkedToCustomer:
    """The call belongs to this customer (None: to no customer), overriding the caller-number match.

    `by` says who knew: `ivr` (the caller identified themself, e.g. by account number) or the web
    login of an agent or supervisor.
    """

    call_id: str
    at: float
    customer_id: int | None
    by: str


@dataclass(frozen=True, slots=True)
class AgentStatusChanged:
    """The agent's own choice (or one forced on them): logged_out, available, paused + reason."""

    agent_id: str
    at: float
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """What the system does with the agent: idle, ringing, on_call, wrapup."""

    agent_id: str
    at: float
    old: str
    new: str
    call_id: str | None


CallFact = (
    CallQueued
    | CallOffered
    | OfferEnded
    | CallAnswered
    | CallRequeued
    | CallEnded
    | CallHeld
    | CallResumed
    | CallTransferred
    | CallbackRequested
    | CallRejected
    | CallWrappedUp
    | CallLinkedToCustomer
    | AgentStatusChanged
    | AgentStateChanged
)

# every fact on the bus: what happened to calls and agents, and to outbound campaigns
Fact = CallFact | CampaignFact
