"""A call's timeline: what happened to it, in order, as a supervisor reads it afterwards.

Built from the facts the store logged for the call (the one record of what happened, see
`store/facts.py`), read back with `facts/replay.py`: the IVR path the caller took (each node at the
time it was reached, for calls logged with IVR facts; the path summary the call's data carries in
any case), queueing and
overflows, each offer with its ring-no-answer, the answer after the wait, holds, transfers and
consultations, wrap-up with its outcome code and note, dialogue-script steps, and the voicemail
left in the call. Pure: records in, entries out; the store reads, the web front maps to JSON.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callserver.facts.campaign import CampaignFact
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
    OfferResult,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
    TransferProgress,
    WrapupExtended,
)
from callserver.facts.replay import fact_from_record
from callserver.ivr.summary import IVR_KEY


class EntryKind(StrEnum):
    IVR = "ivr"  # the caller's way through the IVR: flow, path, choices, outcome
    IVR_NODE = "ivr_node"  # the caller reached a node of the IVR, at the time they did
    IVR_LEFT = "ivr_left"  # the caller left the IVR: to a queue, a mailbox, a transfer, ended, hung up
    QUEUED = "queued"
    REQUEUED = "requeued"  # overflow, or a transfer to another queue
    OFFERED = "offered"
    RING_NO_ANSWER = "ring_no_answer"
    OFFER_ENDED = "offer_ended"  # cancelled (the caller left while it rang), failed, unknown
    ANSWERED = "answered"
    HELD = "held"
    RESUMED = "resumed"
    TRANSFERRED = "transferred"
    TRANSFER = "transfer"  # a step of a blind transfer to an agent
    CONSULTATION = "consultation"  # a step of a consultation
    CALLBACK_REQUESTED = "callback_requested"
    ENDED = "ended"
    REJECTED = "rejected"
    WRAPUP_STARTED = "wrapup_started"
    WRAPUP_EXTENDED = "wrapup_extended"
    WRAPPED_UP = "wrapped_up"  # the outcome code and note saved
    WRAPUP_ENDED = "wrapup_ended"
    CUSTOMER_LINKED = "customer_linked"
    CUSTOMER_FIELD_SET = "customer_field_set"
    SCRIPT_STARTED = "script_started"
    SCRIPT_STEP = "script_step"
    SCRIPT_ANSWER = "script_answer"
    SCRIPT_ENDED = "script_ended"
    VOICEMAIL = "voicemail"  # a message left in the call (or the message a voicemail task is)


@dataclass(frozen=True, slots=True)
class Entry:
    """One moment of the call; `detail` holds plain JSON-ready values particular to its kind."""

    at: float  # Unix seconds
    kind: EntryKind
    agent_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VoicemailMark:
    """A voicemail of the call, as the timeline shows it (the web front links its audio)."""

    at: float
    voicemail_id: int
    box: str
    duration: float | None
    has_audio: bool
    status: str


@dataclass(frozen=True, slots=True)
class WrapupSpan:
    """An agent's wrap-up of the call from their state history: the end of a wrap-up is not a fact
    about the call (the agent goes idle, naming no call), so the history supplies it."""

    agent_id: str
    started: float
    ended: float | None


class _Builder:
    """Follows the facts in log order, remembering what later entries measure against."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.queue: str | None = None
        self.offers: dict[str, float] = {}  # leg id -> when it was offered
        self.answered_at: float | None = None
        self.wrapup_from: dict[str, float] = {}  # agent id -> when their wrap-up began

    def add(self, at: float, kind: EntryKind, agent_id: str | None = None, **detail: Any) -> None:
        self.entries.append(Entry(at, kind, agent_id, detail))

    def fact(self, fact: Fact) -> None:
        match fact:
            case CallQueued():
                self._queued(fact)
            case CallOffered():
                self.offers[fact.leg_id] = fact.at
                self.add(fact.at, EntryKind.OFFERED, fact.agent_id, queue=fact.queue, attempt=fact.attempt)
            case OfferEnded():
                rang = fact.at - self.offers[fact.leg_id] if fact.leg_id in self.offers else None
                if fact.result is OfferResult.NO_ANSWER:
                    self.add(fact.at, EntryKind.RING_NO_ANSWER, fact.agent_id, rang=_round(rang))
                else:
                    self.add(
                        fact.at,
                        EntryKind.OFFER_ENDED,
                        fact.agent_id,
                        result=fact.result.value,
                        rang=_round(rang),
                    )
            case CallAnswered():
                self.answered_at = fact.at
                self.add(fact.at, EntryKind.ANSWERED, fact.agent_id, queue=fact.queue, wait=_round(fact.wait))
            case CallRequeued():
                self.queue = fact.to_queue
                self.add(
                    fact.at, EntryKind.REQUEUED, None, from_queue=fact.from_queue, to_queue=fact.to_queue
                )
            case CallEnded():
                self._ended(fact)
            case CallHeld():
                self.add(fact.at, EntryKind.HELD, fact.agent_id)
            case CallResumed():
                self.add(fact.at, EntryKind.RESUMED, fact.agent_id, held=_round(fact.held))
            case CallTransferred():
                self.add(fact.at, EntryKind.TRANSFERRED, fact.agent_id, to_kind=fact.kind, target=fact.target)
            case TransferProgress():
                kind = EntryKind.CONSULTATION if fact.mode == "consult" else EntryKind.TRANSFER
                self.add(
                    fact.at,
                    kind,
                    fact.agent_id,
                    to_kind=fact.kind,
                    target=fact.target,
                    state=fact.state.value,
                )
            case CallbackRequested():
                self.add(fact.at, EntryKind.CALLBACK_REQUESTED, None, queue=fact.queue, number=fact.number)
            case CallRejected():
                self.add(fact.at, EntryKind.REJECTED, None, reason=fact.reason, dnis=fact.dnis)
            case CallWrappedUp():
                self.add(
                    fact.at,
                    EntryKind.WRAPPED_UP,
                    fact.agent_id,
                    code=fact.code or None,
                    note=fact.note,
                    by=fact.by,
                    timed_out=fact.timed_out,
                )
            case CallLinkedToCustomer():
                self.add(fact.at, EntryKind.CUSTOMER_LINKED, None, customer_id=fact.customer_id, by=fact.by)
            case CustomerFieldSet():
                self.add(
                    fact.at,
                    EntryKind.CUSTOMER_FIELD_SET,
                    None,
                    field=fact.field,
                    value=fact.value,
                    by=fact.by,
                )
            case ScriptRunStarted():
                self.add(
                    fact.at,
                    EntryKind.SCRIPT_STARTED,
                    fact.agent_id,
                    run_id=fact.run_id,
                    script_id=fact.script_id,
                )
            case ScriptStepReached():
                self.add(
                    fact.at,
                    EntryKind.SCRIPT_STEP,
                    fact.agent_id,
                    run_id=fact.run_id,
                    step=fact.step,
                    title=fact.title,
                )
            case ScriptAnswered():
                self.add(
                    fact.at,
                    EntryKind.SCRIPT_ANSWER,
                    fact.agent_id,
                    run_id=fact.run_id,
                    question=fact.label,
                    answer=fact.shown,
                    by=fact.by,
                )
            case ScriptRunEnded():
                self.add(
                    fact.at,
                    EntryKind.SCRIPT_ENDED,
                    fact.agent_id,
                    run_id=fact.run_id,
                    ended_as=fact.ended_as,
                    outcome=fact.outcome,
                )
            case AgentStateChanged():
                self._agent_state(fact)
            case WrapupExtended():
                self.add(fact.at, EntryKind.WRAPUP_EXTENDED, fact.agent_id, until=fact.until)
            case IvrNodeEntered():
                self.add(fact.at, EntryKind.IVR_NODE, None, flow=fact.flow, node=fact.node)
            case IvrLeft():
                self.add(
                    fact.at, EntryKind.IVR_LEFT, None, flow=fact.flow, node=fact.node, outcome=fact.outcome
                )
            case AgentStatusChanged() | AgentPhoneChanged():
                pass  # about the agent, not the call (and never logged under a call)
            case _:
                _not_about_a_call(fact)

    def _queued(self, fact: CallQueued) -> None:
        if self.queue == fact.queue:
            return  # re-adopted after a reconnect or a restart: the same wait goes on
        first = self.queue is None
        self.queue = fact.queue
        ivr = (fact.data or {}).get(IVR_KEY) if first else None
        if isinstance(ivr, dict):
            self.add(
                fact.at,
                EntryKind.IVR,
                None,
                flow=ivr.get("flow"),
                path=list(ivr.get("path") or []),
                choices=list(ivr.get("choices") or []),
                entered=dict(ivr.get("entered") or {}),
                self_service=list(ivr.get("self_service") or []),
                outcome=ivr.get("outcome"),
            )
        self.add(
            fact.at,
            EntryKind.QUEUED,
            None,
            queue=fact.queue,
            caller_num=fact.caller_num,
            dnis=fact.dnis,
            task=fact.kind,
        )

    def _ended(self, fact: CallEnded) -> None:
        talk = fact.at - self.answered_at if self.answered_at is not None else None
        reason = fact.reason if isinstance(fact, CallEndedWithReason) else None
        estimated = fact.estimated if isinstance(fact, CallEndedWithReason) else False
        self.add(
            fact.at,
            EntryKind.ENDED,
            fact.agent_id,
            outcome=fact.outcome.value,
            queue=fact.queue,
            wait=_round(fact.wait),
            talk=_round(talk),
            reason=reason,
            estimated=estimated,
            ended_by=fact.ended_by or None,
        )

    def _agent_state(self, fact: AgentStateChanged) -> None:
        if fact.new == "wrapup" and fact.old != "wrapup":
            self.wrapup_from[fact.agent_id] = fact.at
            self.add(fact.at, EntryKind.WRAPUP_STARTED, fact.agent_id, until=fact.until)
        elif fact.old == "wrapup" and fact.new != "wrapup":
            began = self.wrapup_from.pop(fact.agent_id, None)
            lasted = fact.at - began if began is not None else None
            self.add(fact.at, EntryKind.WRAPUP_ENDED, fact.agent_id, lasted=_round(lasted))
        # ringing / on call / on hold / idle repeat what the call's own facts say


def _not_about_a_call(fact: CampaignFact) -> None:
    """Campaign facts name attempts and leads, never a call: the store logs them under no call id.
    (Taking only `CampaignFact` keeps the match above exhaustive over the call facts for mypy.)"""


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def _insert(entries: list[Entry], entry: Entry, after: int = 0) -> None:
    """Facts stay in log order; an entry from elsewhere goes after everything that happened before
    it, and after the entry at index `after - 1`."""
    entries.insert(max(after, bisect.bisect_right([e.at for e in entries], entry.at)), entry)


_WRAPUP = (EntryKind.WRAPUP_STARTED, EntryKind.WRAPUP_EXTENDED, EntryKind.WRAPPED_UP)


def timeline(
    records: Iterable[tuple[str, Mapping[str, Any]]],
    voicemails: Sequence[VoicemailMark] = (),
    wrapups: Sequence[WrapupSpan] = (),
) -> list[Entry]:
    """The entries of one call from its logged facts (`(kind, payload)` in log order), its
    voicemails and its agents' wrap-ups; rows of a kind this version does not know are left out."""
    builder = _Builder()
    for kind, payload in records:
        fact = fact_from_record(kind, dict(payload))
        if fact is not None:
            builder.fact(fact)
    entries = builder.entries
    told = {e.agent_id for e in entries if e.kind is EntryKind.WRAPUP_ENDED}
    for span in wrapups:
        if span.ended is not None and span.agent_id not in told:
            lasted = _round(span.ended - span.started)
            # the wrap-up ends after what was done in it, whichever clock stamped it first
            last = max(
                (i + 1 for i, e in enumerate(entries) if e.kind in _WRAPUP and e.agent_id == span.agent_id),
                default=0,
            )
            _insert(
                entries, Entry(span.ended, EntryKind.WRAPUP_ENDED, span.agent_id, {"lasted": lasted}), last
            )
    for vm in sorted(voicemails, key=lambda v: v.at):
        _insert(
            entries,
            Entry(
                vm.at,
                EntryKind.VOICEMAIL,
                None,
                {
                    "voicemail_id": vm.voicemail_id,
                    "box": vm.box,
                    "duration": _round(vm.duration),
                    "has_audio": vm.has_audio,
                    "status": vm.status,
                },
            ),
        )
    return entries


__all__ = ["Entry", "EntryKind", "VoicemailMark", "WrapupSpan", "timeline"]
