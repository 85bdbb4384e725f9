"""Wrap-up drafts: what agents have chosen and typed before sending the form, saved when the
wrap-up ends without it, so nothing typed is ever thrown away.

Sans-I/O and fed the ACD's facts in order: a wrap-up that ends (its time ran out, or the queue has
none) with no form sent yields a `CallWrappedUp` carrying the draft, marked `timed_out` when the
time ran out; nothing chosen is saved as an empty code, which the call's record shows as timed out
with no outcome. A form sent (the engine's `finish_wrapup`, or a supervisor's) replaces the draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.campaign import CampaignFact
from ..facts.model import (
    AgentPhoneChanged,
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
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


@dataclass(frozen=True, slots=True)
class Draft:
    call_id: str
    code: str
    note: str


@dataclass(slots=True)
class _Wrapping:
    """An agent's call from the moment they talk until their wrap-up ends."""

    call_id: str
    until: float | None = None  # the end of wrap-up once it started
    sent: bool = False  # the form was sent: nothing to save at the end


class WrapupDrafts:
    def __init__(self) -> None:
        self._drafts: dict[str, Draft] = {}  # agent id -> their latest draft
        self._calls: dict[str, _Wrapping] = {}  # agent id -> the call they talk on or wrap up

    def save(self, agent_id: str, call_id: str, code: str, note: str) -> bool:
        """Keep the agent's draft for `call_id`; False when they are not on it or wrapping it up."""
        current = self._calls.get(agent_id)
        if current is None or current.call_id != call_id or current.sent:
            return False
        self._drafts[agent_id] = Draft(call_id, code, note)
        return True

    def draft(self, agent_id: str) -> Draft | None:
        return self._drafts.get(agent_id)

    def on_fact(self, fact: Fact) -> list[CallWrappedUp]:
        """Follow one fact; returns the wrap-ups to save because of it."""
        match fact:
            case AgentStateChanged():
                return self._state(fact)
            case WrapupExtended():
                current = self._calls.get(fact.agent_id)
                if current is not None:
                    current.until = fact.until
            case CallWrappedUp():
                for agent_id, current in self._calls.items():
                    if current.call_id == fact.call_id and (fact.agent_id in (None, agent_id)):
                        current.sent = True
                        self._drop_draft(agent_id, fact.call_id)
            case (
                CallQueued()
                | CallOffered()
                | OfferEnded()
                | CallAnswered()
                | CallRequeued()
                | CallEnded()
                | CallHeld()
                | CallResumed()
                | CallTransferred()
                | CallbackRequested()
                | CallRejected()
                | CallLinkedToCustomer()
                | AgentStatusChanged()
                | TransferProgress()
                | CustomerFieldSet()
                | ScriptRunStarted()
                | ScriptStepReached()
                | ScriptAnswered()
                | ScriptRunEnded()
                | AgentPhoneChanged()
                | IvrNodeEntered()
                | IvrLeft()
            ):
                pass
            case _:
                _outbound(fact)
        return []

    def _state(self, fact: AgentStateChanged) -> list[CallWrappedUp]:
        agent_id = fact.agent_id
        if fact.new == "on_call" and fact.call_id is not None:
            self._calls[agent_id] = _Wrapping(fact.call_id)
            return []
        if fact.new == "wrapup" and fact.call_id is not None:
            current = self._calls.get(agent_id)
            if current is None or current.call_id != fact.call_id:
                current = self._calls[agent_id] = _Wrapping(fact.call_id)
            current.until = fact.until
            return []
        if fact.new != "idle" or fact.old not in ("wrapup", "on_call"):
            return []
        current = self._calls.pop(agent_id, None)
        if current is None:
            return []
        draft = self._drafts.pop(agent_id, None)
        if draft is not None and draft.call_id != current.call_id:
            draft = None
        if current.sent:
            return []
        if fact.old == "on_call":
            # no wrap-up time (or a consulted colleague's part ending): only a draft is worth saving
            timed_out = True
            if draft is None:
                return []
        else:
            timed_out = current.until is not None and fact.at >= current.until
            if draft is None and not timed_out:
                return []  # ended early with nothing typed: nothing to save
        code, note = (draft.code, draft.note) if draft is not None else ("", "")
        return [CallWrappedUp(current.call_id, fact.at, agent_id, code, note, "", timed_out=timed_out)]

    def _drop_draft(self, agent_id: str, call_id: str) -> None:
        draft = self._drafts.get(agent_id)
        if draft is not None and draft.call_id == call_id:
            del self._drafts[agent_id]


def _outbound(fact: CampaignFact) -> None:
    """Campaign calls are coded through the campaign desk, not the ACD's wrap-up."""
