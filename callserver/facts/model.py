"""Facts: what happened to calls and agents, in order; the only way a call's record changes.

Most come from the ACD engine; the wrap-up and the customer link come from people (an agent's
form, the IVR); dialogue-script runs and the customer fields they set come from the script desks
(an agent's panel, the public self-service page); outbound campaigns add theirs (`campaign.py`). The
bus hands every one of them to the store (one row per call plus an append-only log), to MQTT, to the
live web channel and to the server log. They are frozen and carry the time `at` (Unix seconds, float).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    UNKNOWN = "unknown"  # ended while callserver was not running: closed at start-up, how is not known


class OfferResult(StrEnum):
    """Why an offer to an agent ended without a connected call."""

    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"  # the caller left while the agent's phone rang
    FAILED = "failed"  # the PBX refused the originate (link down, bad endpoint)
    UNKNOWN = "unknown"  # still open when callserver stopped; closed at start-up


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
    """`ended_by`: for an answered call, whose line went first, `caller` or `agent` (empty when not
    known: cut by the PBX, ended unseen, or not a call with a caller)."""

    call_id: str
    at: float
    queue: str
    outcome: Outcome
    agent_id: str | None
    wait: float
    ended_by: str = field(default="", kw_only=True)


@dataclass(frozen=True, slots=True)
class CallEndedWithReason(CallEnded):
    """A `CallEnded` that neither the caller nor the agent brought about: cut by the PBX (a
    restart, a network failure) or gone while the PBX link or callserver was down. `reason` says
    which; `estimated` when `at` is not the moment the PBX ended it but the last moment the call
    was known to be up. Every consumer of `CallEnded` takes it as one; those that show why read it.
    """

    reason: str
    estimated: bool = False


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
    the call (None if none did); `by` the web login that saved it (the agent or a supervisor), empty
    when the server saved it. `timed_out`: the wrap-up time ran out and the server saved what the
    agent had chosen or typed so far (`code` empty when nothing was chosen).
    """

    call_id: str
    at: float
    agent_id: str | None
    code: str
    note: str
    by: str
    timed_out: bool = False


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
class CustomerFieldSet:
    """A field of a customer's record was set during a contact (a dialogue script's `set-field`).

    `field` is a record field (email, language, notes) or an extra field of `customers.fields`;
    `value` is canonical text. `call_id` is the call, or the web contact (`web-…`), it happened in;
    `by` an agent id, or `customer` on the web.
    """

    call_id: str
    at: float
    customer_id: int
    field: str
    value: str
    by: str


@dataclass(frozen=True, slots=True)
class ScriptRunStarted:
    """A dialogue script began: an agent's run on a call, or a customer's run on the web (`agent_id`
    None, `call_id` the web contact's id, `web-…`)."""

    call_id: str
    at: float
    run_id: str
    script_id: str
    version: int
    agent_id: str | None
    customer_id: int | None


@dataclass(frozen=True, slots=True)
class ScriptStepReached:
    """A run is now at `step` (forward, back or a jump): what a supervisor sees an agent is on."""

    call_id: str
    at: float
    run_id: str
    script_id: str
    agent_id: str | None
    step: str
    title: str
    position: int


@dataclass(frozen=True, slots=True)
class ScriptAnswered:
    """An answer in a run: `value` canonical (None: an optional answer cleared), `shown` as the person
    saw it, `label` the question as shown, `by` an agent id or `customer`."""

    call_id: str
    at: float
    run_id: str
    agent_id: str | None
    position: int
    step: str
    question: str
    question_kind: str
    label: str
    value: str | None
    shown: str
    by: str


@dataclass(frozen=True, slots=True)
class ScriptRunEnded:
    """A run is over: `ended_as` finished, handed_off or abandoned; `record` is the engine's whole
    record (`RunRecord.as_dict()`: path, answers, events), what the store keeps for good."""

    call_id: str
    at: float
    run_id: str
    script_id: str
    agent_id: str | None
    ended_as: str
    outcome: str | None
    record: dict[str, object]


@dataclass(frozen=True, slots=True)
class AgentStatusChanged:
    """The agent's own choice (or one forced on them): logged_out, available, paused + reason."""

    agent_id: str
    at: float
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentPhoneChanged:
    """The PBX says the agent's phone can (or can no longer) be reached: an unreachable phone is
    offered no call, whatever the agent's status, until it is reachable again."""

    agent_id: str
    at: float
    reachable: bool
    endpoint: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """What the system does with the agent: idle, ringing, on_call, wrapup.

    `until`: when the new state ends unless something happens first (the end of wrap-up).
    """

    agent_id: str
    at: float
    old: str
    new: str
    call_id: str | None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class WrapupExtended:
    """The agent asked for more wrap-up time: it now ends at `until` (never past the queue's maximum)."""

    agent_id: str
    at: float
    call_id: str | None
    until: float


class TransferState(StrEnum):
    """Where a transfer to an agent, or a consultation, stands; both agents' desktops show it."""

    WAITING = "waiting"  # the caller hears music until the target agent is free
    RINGING = "ringing"  # the target (agent or number) is being rung
    ANSWERED = "answered"  # the target took it (transfer) or talks with the agent (consultation)
    GONE = "gone"  # the consulted party hung up or could not be reached
    RETURNED = "returned"  # nobody took it in time: back to the queue or to the transferring agent
    ABANDONED = "abandoned"  # the caller hung up meanwhile
    COMPLETED = "completed"  # the consulted party took the caller
    CANCELLED = "cancelled"  # the agent ended the consultation and has the caller back


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """A step of a blind transfer to an agent (`mode` transfer) or of a consultation (`mode` consult).

    `agent_id` is the agent who transfers or consults; `kind` and `target` say whom to (`agent` and
    an agent id, or `number` and a phone number).
    """

    call_id: str
    at: float
    agent_id: str | None
    mode: str
    kind: str
    target: str
    state: TransferState


@dataclass(frozen=True, slots=True)
class IvrNodeEntered:
    """The caller reached `node` of IVR `flow` (each visit, so a menu repeated counts again): the
    IVR reports and the call's timeline read these."""

    call_id: str
    at: float
    flow: str
    node: str


@dataclass(frozen=True, slots=True)
class IvrLeft:
    """The caller left IVR `flow` from `node`: `outcome` queue, voicemail, transfer, ended (finished
    in self-service), hangup (hung up in the IVR) or failed (the flow broke; the caller was queued
    without it). `node` is "" when the caller left before reaching any node."""

    call_id: str
    at: float
    flow: str
    node: str
    outcome: str


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
    | CustomerFieldSet
    | ScriptRunStarted
    | ScriptStepReached
    | ScriptAnswered
    | ScriptRunEnded
    | AgentStatusChanged
    | AgentStateChanged
    | WrapupExtended
    | TransferProgress
    | AgentPhoneChanged
    | IvrNodeEntered
    | IvrLeft
)

# every fact on the bus: what happened to calls and agents, and to outbound campaigns
Fact = CallFact | CampaignFact
