"""ORM rows as the frozen records the store hands out: one mapping per record type."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from callserver.store.models import Call, CallEvent
from callserver.store.records import CallRecord, EventRecord


def call_record(c: Call | Row[Any]) -> CallRecord:
    """A call's record, from its ORM row or a plain row of the same columns."""
    return CallRecord(
        id=c.id,
        channel=c.channel,
        caller_num=c.caller_num,
        caller_name=c.caller_name,
        dnis=c.dnis,
        queue=c.queue,
        first_queue=c.first_queue,
        customer_id=c.customer_id,
        arrived_at=c.arrived_at,
        queued_at=c.queued_at,
        first_offered_at=c.first_offered_at,
        answered_at=c.answered_at,
        ended_at=c.ended_at,
        agent_id=c.agent_id,
        offers=c.offers,
        outcome=c.outcome,
        wait=c.wait,
        wrapup_outcome=c.wrapup_outcome,
        wrapup_note=c.wrapup_note,
        wrapup_timed_out=bool(c.wrapup_timed_out),
        end_reason=c.end_reason,
        end_estimated=bool(c.end_estimated),
    )


def event_record(e: CallEvent) -> EventRecord:
    return EventRecord(e.id, e.at, e.call_id, e.agent_id, e.kind, dict(e.payload))
