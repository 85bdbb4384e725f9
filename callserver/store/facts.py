"""Turning facts into rows: the fact log plus the current picture of each call and offer (and,
through `store/scripts.py`, of each dialogue-script run and the customer fields scripts set).

This is the only code that writes call rows. Every handler tolerates repeats and gaps (a call
re-adopted after a reconnect is queued again; a fact may arrive for a call the store never saw),
because a failed batch would otherwise block the writer for good.
"""

from __future__ import annotations

import dataclasses
import logging
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callserver.facts.campaign import LeadsImported
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
from callserver.store import scripts
from callserver.store.campaign_facts import apply_campaign_fact, summary_of
from callserver.store.customers import customer_ids_for_number
from callserver.store.models import AgentStateRow, Call, CallEvent, CallOffer, Customer, utc

log = logging.getLogger("callserver.store.facts")

ANSWERED = "answered"


def payload_of(fact: Fact) -> dict[str, Any]:
    """The whole fact as JSON-ready data (enums as their values); a list import as its figures."""
    if isinstance(fact, LeadsImported):
        return summary_of(fact)
    data = dataclasses.asdict(fact)
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}


def event_row(fact: Fact) -> CallEvent:
    call_id = getattr(fact, "call_id", None)
    agent_id = getattr(fact, "agent_id", None)
    return CallEvent(
        at=utc(fact.at),
        call_id=call_id,
        agent_id=agent_id,
        kind=type(fact).__name__,
        payload=payload_of(fact),
    )


async def _call(session: AsyncSession, call_id: str, at: float, queue: str = "") -> Call:
    """The call's row, made on the spot if this is the first fact the store sees for it."""
    call = await session.get(Call, call_id)
    if call is None:
        call = Call(
            id=call_id,
            channel="",
            caller_num="",
            caller_name="",
            dnis="",
            queue=queue,
            first_queue=queue,
            arrived_at=utc(at),
            offers=0,
        )
        session.add(call)
    return call


async def _queued(session: AsyncSession, f: CallQueued) -> None:
    existing = await session.get(Call, f.call_id)
    call = await _call(session, f.call_id, f.at, f.queue)
    call.channel = f.channel
    call.caller_num = f.caller_num
    call.caller_name = f.caller_name
    call.dnis = f.dnis
    call.queue = f.queue
    call.first_queue = call.first_queue or f.queue
    if call.queued_at is None:
        call.queued_at = utc(f.at)
    if existing is None and f.caller_num and call.customer_id is None:
        ids = await customer_ids_for_number(session, f.caller_num)
        # A number shared by several customers identifies none of them.
        if len(ids) == 1:
            call.customer_id = ids[0]


async def _offered(session: AsyncSession, f: CallOffered) -> None:
    call = await _call(session, f.call_id, f.at, f.queue)
    offer = await session.scalar(
        select(CallOffer).where(CallOffer.call_id == f.call_id, CallOffer.leg_id == f.leg_id)
    )
    if offer is not None:
        return
    session.add(
        CallOffer(
            call_id=f.call_id,
            attempt=f.attempt,
            agent_id=f.agent_id,
            leg_id=f.leg_id,
            offered_at=utc(f.at),
        )
    )
    call.offers = (call.offers or 0) + 1
    if call.first_offered_at is None:
        call.first_offered_at = utc(f.at)


async def _offer_ended(session: AsyncSession, f: OfferEnded) -> None:
    await _call(session, f.call_id, f.at)
    offer = await session.scalar(
        select(CallOffer).where(CallOffer.call_id == f.call_id, CallOffer.leg_id == f.leg_id)
    )
    if offer is None:
        offer = CallOffer(
            call_id=f.call_id, attempt=0, agent_id=f.agent_id, leg_id=f.leg_id, offered_at=utc(f.at)
        )
        session.add(offer)
    offer.ended_at = utc(f.at)
    offer.result = str(f.result.value)


async def _answered(session: AsyncSession, f: CallAnswered) -> None:
    call = await _call(session, f.call_id, f.at, f.queue)
    call.answered_at = utc(f.at)
    call.agent_id = f.agent_id
    call.wait = f.wait
    offer = await session.scalar(
        select(CallOffer)
        .where(CallOffer.call_id == f.call_id, CallOffer.agent_id == f.agent_id)
        .order_by(CallOffer.result.is_not(None), CallOffer.offered_at.desc(), CallOffer.id.desc())
        .limit(1)
    )
    if offer is not None:
        offer.result = ANSWERED
        offer.ended_at = offer.ended_at or utc(f.at)


async def _requeued(session: AsyncSession, f: CallRequeued) -> None:
    call = await _call(session, f.call_id, f.at, f.from_queue)
    call.queue = f.to_queue


async def _ended(session: AsyncSession, f: CallEnded) -> None:
    call = await _call(session, f.call_id, f.at, f.queue)
    call.ended_at = utc(f.at)
    call.outcome = str(f.outcome.value)
    call.wait = f.wait
    call.queue = f.queue or call.queue
    if isinstance(f, CallEndedWithReason):
        call.end_reason, call.end_estimated = f.reason, f.estimated
    if f.agent_id is not None:
        call.agent_id = f.agent_id


async def _rejected(session: AsyncSession, f: CallRejected) -> None:
    call = await _call(session, f.call_id, f.at)
    call.channel = f.channel
    call.caller_num = f.caller_num
    call.caller_name = f.caller_name
    call.dnis = f.dnis
    call.ended_at = utc(f.at)
    call.outcome = "failed"
    call.wait = 0.0


async def _wrapped_up(session: AsyncSession, f: CallWrappedUp) -> None:
    call = await _call(session, f.call_id, f.at)
    # nothing chosen when the time ran out: no code on the row, and the row says it timed out
    call.wrapup_outcome = f.code or None
    call.wrapup_note = f.note
    call.wrapup_at = utc(f.at)
    call.wrapup_timed_out = f.timed_out


# -- agent state intervals --------------------------------------------------------------------
# kinds of interval (see models.AgentStateRow); an agent has at most one open row of each kind

LOGIN, STATUS, STATE = "login", "status", "state"


async def _close_interval(session: AsyncSession, agent_id: str, kind: str, at: float) -> AgentStateRow | None:
    """End the agent's open interval of this kind at `at`; returns it (None when none was open)."""
    rows = (
        await session.scalars(
            select(AgentStateRow).where(
                AgentStateRow.agent_id == agent_id,
                AgentStateRow.kind == kind,
                AgentStateRow.ended_at.is_(None),
            )
        )
    ).all()
    end = utc(at)
    for row in rows:  # more than one only after a lost fact: close them all
        row.ended_at = max(end, row.started_at)
    return rows[-1] if rows else None


def _open_interval(
    session: AsyncSession,
    agent_id: str,
    kind: str,
    state: str,
    at: float,
    *,
    reason: str = "",
    call: str | None,
) -> None:
    session.add(
        AgentStateRow(
            agent_id=agent_id, kind=kind, state=state, reason=reason, call_id=call, started_at=utc(at)
        )
    )


async def _status_interval(session: AsyncSession, f: AgentStatusChanged) -> None:
    await _close_interval(session, f.agent_id, STATUS, f.at)
    if f.status == "logged_out":
        await _close_interval(session, f.agent_id, LOGIN, f.at)
        return
    _open_interval(session, f.agent_id, STATUS, f.status, f.at, reason=f.reason, call=None)
    login = await session.scalar(
        select(AgentStateRow.id).where(
            AgentStateRow.agent_id == f.agent_id,
            AgentStateRow.kind == LOGIN,
            AgentStateRow.ended_at.is_(None),
        )
    )
    if login is None:
        _open_interval(session, f.agent_id, LOGIN, "logged_in", f.at, call=None)


async def _state_interval(
    session: AsyncSession, agent_id: str, state: str, at: float, call: str | None
) -> None:
    await _close_interval(session, agent_id, STATE, at)
    _open_interval(session, agent_id, STATE, state, at, call=call)


async def _linked(session: AsyncSession, f: CallLinkedToCustomer) -> None:
    call = await _call(session, f.call_id, f.at)
    if f.customer_id is not None and await session.get(Customer, f.customer_id) is None:
        # the fact stays in the log; the row keeps its customer rather than failing the batch
        log.warning("call %s: link by %s to unknown customer %s ignored", f.call_id, f.by, f.customer_id)
        return
    call.customer_id = f.customer_id


async def apply_fact(session: AsyncSession, fact: Fact) -> None:
    """Log the fact and update the call rows it concerns, inside the caller's transaction."""
    if not isinstance(fact, Fact):  # untyped callers: refuse before anything is written
        raise TypeError(f"the store does not know the fact {type(fact).__name__}")
    session.add(event_row(fact))
    match fact:
        case CallQueued():
            await _queued(session, fact)
        case CallOffered():
            await _offered(session, fact)
        case OfferEnded():
            await _offer_ended(session, fact)
        case CallAnswered():
            await _answered(session, fact)
        case CallRequeued():
            await _requeued(session, fact)
        case CallEnded():
            await _ended(session, fact)
        case CallRejected():
            await _rejected(session, fact)
        case CallWrappedUp():
            await _wrapped_up(session, fact)
        case CallLinkedToCustomer():
            await _linked(session, fact)
        case CustomerFieldSet():
            await scripts.field_set(session, fact)
        case ScriptRunStarted():
            await scripts.run_started(session, fact)
        case ScriptStepReached():
            await scripts.step_reached(session, fact)
        case ScriptAnswered():
            await scripts.answered(session, fact)
        case ScriptRunEnded():
            await scripts.run_ended(session, fact)
        case CallHeld():
            if fact.agent_id is not None:
                await _state_interval(session, fact.agent_id, "on_hold", fact.at, fact.call_id)
        case CallResumed():
            if fact.agent_id is not None:
                await _state_interval(session, fact.agent_id, "on_call", fact.at, fact.call_id)
        case CallTransferred() | CallbackRequested() | TransferProgress():
            pass  # only in the log; the facts that follow them (requeued, answered, ended) update the row
        case AgentStatusChanged():
            await _status_interval(session, fact)
        case AgentStateChanged():
            await _state_interval(session, fact.agent_id, fact.new, fact.at, fact.call_id)
        case WrapupExtended():
            pass  # the wrap-up interval ends when the state changes
        case AgentPhoneChanged():
            pass  # only in the log: the agent's status and state intervals are unchanged
        case _:
            await apply_campaign_fact(session, fact)
    await session.flush()
