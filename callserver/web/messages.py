"""Facts as live-channel messages: one mapping per fact type, chosen by one exhaustive `match`.

Each mapping names the message type, its public fields, the agent who may also see it (supervisors
see everything) and the queues whose tiles it changes. A fact type the channel does not show is
listed too, so a new fact type fails the type check until someone decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: str
    data: dict[str, Any]
    agent_id: str | None = None  # besides supervisors, this agent gets it
    queues: frozenset[str] = field(default_factory=frozenset)
    other_agent: str | None = None  # ...and this one too (the target of a transfer)


def _queued(f: CallQueued) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "queue": f.queue,
        "caller_num": f.caller_num,
        "caller_name": f.caller_name,
        "customer_name": _customer_name(f.data),
    }
    return LiveEvent("call.queued", data, None, frozenset({f.queue}))


def _customer_name(data: dict[str, object] | None) -> str | None:
    """The customer the call data names (IVR or caller-number match), for the monitor."""
    name = (data or {}).get("customer.name")
    return name if isinstance(name, str) and name else None


def _requeued(f: CallRequeued) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "from_queue": f.from_queue, "to_queue": f.to_queue}
    return LiveEvent("call.requeued", data, None, frozenset({f.from_queue, f.to_queue}))


def _offered(f: CallOffered) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "queue": f.queue, "agent_id": f.agent_id, "attempt": f.attempt}
    return LiveEvent("call.offered", data, f.agent_id, frozenset({f.queue}))


def _offer_ended(f: OfferEnded) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "agent_id": f.agent_id, "result": f.result.value}
    return LiveEvent("offer.ended", data, f.agent_id)


def _answered(f: CallAnswered) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "queue": f.queue, "agent_id": f.agent_id, "wait": f.wait}
    return LiveEvent("call.answered", data, f.agent_id, frozenset({f.queue}))


def _ended(f: CallEnded) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "queue": f.queue,
        "outcome": f.outcome.value,
        "agent_id": f.agent_id,
        "wait": f.wait,
    }
    if isinstance(f, CallEndedWithReason):
        data |= {"reason": f.reason, "estimated": f.estimated}
    return LiveEvent("call.ended", data, f.agent_id, frozenset({f.queue}))


def _wrapped_up(f: CallWrappedUp) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "agent_id": f.agent_id,
        "code": f.code,
        "note": f.note,
        "by": f.by,
        "timed_out": f.timed_out,
    }
    return LiveEvent("call.wrapped_up", data, f.agent_id)


def _customer_linked(f: CallLinkedToCustomer) -> LiveEvent:
    data = {"call_id": f.call_id, "at": f.at, "customer_id": f.customer_id, "by": f.by}
    return LiveEvent("call.customer_linked", data, None)


def _status(f: AgentStatusChanged) -> LiveEvent:
    data = {"agent_id": f.agent_id, "at": f.at, "status": f.status, "reason": f.reason}
    return LiveEvent("agent.status", data, f.agent_id)


def _state(f: AgentStateChanged) -> LiveEvent:
    data = {
        "agent_id": f.agent_id,
        "at": f.at,
        "old": f.old,
        "new": f.new,
        "call_id": f.call_id,
        "until": f.until,
    }
    return LiveEvent("agent.state", data, f.agent_id)


def _script_started(f: ScriptRunStarted) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "run_id": f.run_id,
        "script_id": f.script_id,
        "version": f.version,
        "agent_id": f.agent_id,
    }
    return LiveEvent("script.started", data, f.agent_id)


def _script_step(f: ScriptStepReached) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "run_id": f.run_id,
        "script_id": f.script_id,
        "agent_id": f.agent_id,
        "step": f.step,
        "title": f.title,
        "position": f.position,
    }
    return LiveEvent("script.step", data, f.agent_id)


def _script_ended(f: ScriptRunEnded) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "run_id": f.run_id,
        "script_id": f.script_id,
        "agent_id": f.agent_id,
        "ended_as": f.ended_as,
        "outcome": f.outcome,
    }
    return LiveEvent("script.ended", data, f.agent_id)


def _wrapup_extended(f: WrapupExtended) -> LiveEvent:
    data = {"agent_id": f.agent_id, "at": f.at, "call_id": f.call_id, "until": f.until}
    return LiveEvent("agent.wrapup_extended", data, f.agent_id)


def _transfer(f: TransferProgress) -> LiveEvent:
    data = {
        "call_id": f.call_id,
        "at": f.at,
        "agent_id": f.agent_id,
        "mode": f.mode,
        "kind": f.kind,
        "target": f.target,
        "state": f.state.value,
    }
    target = f.target if f.kind == "agent" else None
    return LiveEvent("call.transfer", data, f.agent_id, other_agent=target)


def _phone(f: AgentPhoneChanged) -> LiveEvent:
    data = {"agent_id": f.agent_id, "at": f.at, "reachable": f.reachable}
    return LiveEvent("agent.phone", data, f.agent_id)


def live_event(fact: Fact) -> LiveEvent | None:
    """The public message for a fact, or None for facts the live channel does not show."""
    match fact:
        case CallQueued():
            return _queued(fact)
        case CallRequeued():
            return _requeued(fact)
        case CallOffered():
            return _offered(fact)
        case OfferEnded():
            return _offer_ended(fact)
        case CallAnswered():
            return _answered(fact)
        case CallEnded():
            return _ended(fact)
        case CallWrappedUp():
            return _wrapped_up(fact)
        case CallLinkedToCustomer():
            return _customer_linked(fact)
        case ScriptRunStarted():
            return _script_started(fact)
        case ScriptStepReached():
            return _script_step(fact)
        case ScriptRunEnded():
            return _script_ended(fact)
        case ScriptAnswered() | CustomerFieldSet():
            # the answering agent's panel has the answer from its own request; answers and field
            # values are customer data, kept off the supervisors' screens (MQTT, store, export)
            return None
        case AgentStatusChanged():
            return _status(fact)
        case AgentStateChanged():
            return _state(fact)
        case WrapupExtended():
            return _wrapup_extended(fact)
        case TransferProgress():
            return _transfer(fact)
        case AgentPhoneChanged():
            return _phone(fact)
        case IvrNodeEntered() | IvrLeft():
            return None  # the hub's own ivr.progress message already tells the live monitor
        case CallHeld() | CallResumed() | CallTransferred() | CallbackRequested() | CallRejected():
            # not on the live channel: the acting agent's desk learns from its own request and
            # the agent.state that follows; these reach MQTT, the store and the server log
            return None
        case _:
            return _campaign_event(fact)


def _campaign_event(fact: CampaignFact) -> LiveEvent | None:
    """Campaign facts for the monitor and the agent concerned. Lead data is not in facts: the
    campaign service sends the preview card and the pop (`campaign.preview`, `campaign.pop`)."""
    match fact:
        case CampaignSaved():
            return LiveEvent("campaign.saved", {"campaign": fact.campaign, "at": fact.at, "by": fact.by})
        case CampaignStateChanged():
            data = {"campaign": fact.campaign, "at": fact.at, "old": fact.old, "new": fact.new}
            return LiveEvent("campaign.state", data)
        case CampaignModeChanged():
            data = {
                "campaign": fact.campaign,
                "at": fact.at,
                "old": fact.old,
                "new": fact.new,
                "reason": fact.reason,
            }
            return LiveEvent("campaign.mode", data)
        case LeadsImported():
            data = {
                "campaign": fact.campaign,
                "at": fact.at,
                "list_name": fact.list_name,
                "leads": len(fact.leads),
                "rows": fact.rows,
                "duplicates": fact.duplicates,
                "dnc_hits": fact.dnc_hits,
                "by": fact.by,
            }
            return LiveEvent("campaign.list_imported", data)
        case AttemptStarted():
            data = {
                "attempt_id": fact.attempt_id,
                "campaign": fact.campaign,
                "at": fact.at,
                "lead_id": fact.lead_id,
                "agent_id": fact.agent_id,
            }
            return LiveEvent("campaign.attempt_started", data, fact.agent_id)
        case AttemptConnected():
            data = {
                "attempt_id": fact.attempt_id,
                "campaign": fact.campaign,
                "at": fact.at,
                "agent_id": fact.agent_id,
                "lead_id": fact.lead_id,
                "wait": fact.wait,
            }
            return LiveEvent("campaign.attempt_connected", data, fact.agent_id)
        case AttemptEnded():
            data = {
                "attempt_id": fact.attempt_id,
                "campaign": fact.campaign,
                "at": fact.at,
                "lead_id": fact.lead_id,
                "result": fact.result,
                "agent_id": fact.agent_id,
                "abandoned": fact.abandoned,
                "info_message": fact.info_message,
            }
            return LiveEvent("campaign.attempt_ended", data, fact.agent_id)
        case AttemptCoded():
            data = {
                "attempt_id": fact.attempt_id,
                "campaign": fact.campaign,
                "at": fact.at,
                "agent_id": fact.agent_id,
                "outcome": fact.outcome,
            }
            return LiveEvent("campaign.attempt_coded", data, fact.agent_id)
        case CallbackBooked():
            data = {
                "campaign": fact.campaign,
                "at": fact.at,
                "lead_id": fact.lead_id,
                "callback_at": fact.callback_at,
                "agent_id": fact.agent_id,
            }
            return LiveEvent("campaign.callback_booked", data, fact.agent_id)
        case AgentSlotChanged():
            data = {
                "agent_id": fact.agent_id,
                "campaign": fact.campaign,
                "at": fact.at,
                "old": fact.old,
                "new": fact.new,
            }
            return LiveEvent("campaign.agent_slot", data, fact.agent_id)
        case (
            AttemptRinging()
            | AttemptAnswered()
            | AttemptAmd()
            | LeadUpdated()
            | DialRefused()
            | PreviewOffered()
            | PreviewSkipped()
            | DncAdded()
            | DncImported()
        ):
            # the tiles carry their figures (`campaign.stats`); the agent gets the preview card
            # itself (`campaign.preview`); all reach MQTT, the store and the server log
            return None
        case _:
            assert_never(fact)
