"""Dialogue-script runs and customer fields in the store: the rows the script facts change, and the
reads behind the contact history and the export of runs.

Like the call rows, these change only from facts (`store/facts.py` calls the handlers here), and
every handler tolerates repeats and gaps: a run whose start the store never saw is made on the
spot, an answer given twice at the same place in the path replaces the first, and the end of a run
puts its final answers in place of whatever was written during the run (answers on a way the run
did not keep are dropped then).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from callserver.facts.model import (
    CustomerFieldSet,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
)
from callserver.store.models import Customer, CustomerFieldRow, ScriptAnswerRow, ScriptRunRow, utc
from callserver.store.records import ScriptAnswerRecord, ScriptRunRecord

log = logging.getLogger("callserver.store.scripts")

# record fields a fact may set directly on the customer's row; anything else is an extra field
RECORD_COLUMNS = ("email", "language", "notes")
ACTIVE = "active"


async def _customer_id(session: AsyncSession, customer_id: int | None) -> int | None:
    """The id when such a customer exists (a web run may name one deleted since)."""
    if customer_id is None:
        return None
    return customer_id if await session.get(Customer, customer_id) is not None else None


async def _run(session: AsyncSession, run_id: str, call_id: str, at: float) -> ScriptRunRow:
    run = await session.get(ScriptRunRow, run_id)
    if run is None:
        run = ScriptRunRow(
            id=run_id,
            call_id=call_id,
            script_id="",
            version=0,
            channel="agent",
            status=ACTIVE,
            step="",
            title="",
            path=[],
            started_at=utc(at),
            updated_at=utc(at),
            record={},
        )
        session.add(run)
    return run


async def run_started(session: AsyncSession, f: ScriptRunStarted) -> None:
    run = await _run(session, f.run_id, f.call_id, f.at)
    run.script_id, run.version = f.script_id, f.version
    run.channel = "web" if f.agent_id is None else "agent"
    run.agent_id = f.agent_id
    run.customer_id = await _customer_id(session, f.customer_id)
    run.started_at = min(run.started_at, utc(f.at))
    run.updated_at = max(run.updated_at, utc(f.at))


async def step_reached(session: AsyncSession, f: ScriptStepReached) -> None:
    run = await _run(session, f.run_id, f.call_id, f.at)
    if run.status != ACTIVE:
        return  # a late step after the end changes nothing
    run.script_id = run.script_id or f.script_id
    run.step, run.title = f.step, f.title
    path = list(run.path or [])
    run.path = [*path[: f.position], f.step]
    run.updated_at = utc(f.at)


async def answered(session: AsyncSession, f: ScriptAnswered) -> None:
    run = await _run(session, f.run_id, f.call_id, f.at)
    if run.status != ACTIVE:
        return
    row = await session.scalar(
        select(ScriptAnswerRow).where(
            ScriptAnswerRow.run_id == f.run_id, ScriptAnswerRow.position == f.position
        )
    )
    if f.value is None:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        row = ScriptAnswerRow(run_id=f.run_id, position=f.position)
        session.add(row)
    row.step, row.question, row.kind = f.step, f.question, f.question_kind
    row.label, row.value, row.shown = f.label, f.value, f.shown
    row.answered_by, row.at = f.by, utc(f.at)
    run.updated_at = utc(f.at)


async def run_ended(session: AsyncSession, f: ScriptRunEnded) -> None:
    run = await _run(session, f.run_id, f.call_id, f.at)
    record = dict(f.record)
    run.script_id = run.script_id or f.script_id
    run.status, run.outcome = f.ended_as, f.outcome
    run.ended_at = run.updated_at = utc(f.at)
    path = record.get("path")
    if isinstance(path, list) and path:
        run.path = [str(step) for step in path]
        run.step = run.path[-1]
    run.record = record
    answers = record.get("answers")
    if not isinstance(answers, list):
        return
    await session.flush()
    await session.execute(delete(ScriptAnswerRow).where(ScriptAnswerRow.run_id == f.run_id))
    for item in answers:
        if isinstance(item, Mapping):
            session.add(_answer_row(f.run_id, item, f.at))


def _answer_row(run_id: str, item: Mapping[str, Any], at: float) -> ScriptAnswerRow:
    when = item.get("at")
    try:
        answered_at = datetime.fromisoformat(str(when)) if when else utc(at)
    except ValueError:
        answered_at = utc(at)
    return ScriptAnswerRow(
        run_id=run_id,
        position=int(item.get("position", 0)),
        step=str(item.get("step", "")),
        question=str(item.get("question", "")),
        kind=str(item.get("kind", "")),
        label=str(item.get("label", "")),
        value=str(item.get("value", "")),
        shown=str(item.get("shown", "")),
        answered_by=str(item.get("by", "")),
        at=answered_at if answered_at.tzinfo is not None else utc(at),
    )


async def field_set(session: AsyncSession, f: CustomerFieldSet) -> None:
    customer = await session.get(Customer, f.customer_id)
    if customer is None:
        # the fact stays in the log; nothing to change rather than a failed batch
        log.warning("call %s: field %s of unknown customer %s not set", f.call_id, f.field, f.customer_id)
        return
    at = utc(f.at)
    if f.field in RECORD_COLUMNS:
        setattr(customer, f.field, f.value or None if f.field != "notes" else f.value)
    else:
        row = await session.get(CustomerFieldRow, (f.customer_id, f.field))
        if row is None:
            row = CustomerFieldRow(customer_id=f.customer_id, name=f.field)
            session.add(row)
        row.value, row.updated_at = f.value, at
    customer.updated_at = max(customer.updated_at, at)


# ---- reading ------------------------------------------------------------------------------------


async def run_records(session: AsyncSession, rows: Sequence[ScriptRunRow]) -> list[ScriptRunRecord]:
    """Runs with their answers, in the order given."""
    ids = [r.id for r in rows]
    answers: dict[str, list[ScriptAnswerRecord]] = {i: [] for i in ids}
    if ids:
        query = (
            select(ScriptAnswerRow)
            .where(ScriptAnswerRow.run_id.in_(ids))
            .order_by(ScriptAnswerRow.run_id, ScriptAnswerRow.position)
        )
        for a in (await session.scalars(query)).all():
            answers[a.run_id].append(answer_record(a))
    return [run_record(r, answers[r.id]) for r in rows]


def answer_record(a: ScriptAnswerRow | Row[Any]) -> ScriptAnswerRecord:
    """An answer's record, from its ORM row or a plain row of the same columns."""
    return ScriptAnswerRecord(
        a.position, a.step, a.question, a.kind, a.label, a.value, a.shown, a.answered_by, a.at
    )


def run_record(r: ScriptRunRow | Row[Any], answers: list[ScriptAnswerRecord]) -> ScriptRunRecord:
    """A run's record, from its ORM row or a plain row of the same columns."""
    return ScriptRunRecord(
        run_id=r.id,
        call_id=r.call_id,
        script_id=r.script_id,
        version=r.version,
        channel=r.channel,
        agent_id=r.agent_id,
        customer_id=r.customer_id,
        status=r.status,
        step=r.step,
        title=r.title,
        outcome=r.outcome,
        path=tuple(r.path or ()),
        started_at=r.started_at,
        ended_at=r.ended_at,
        answers=tuple(answers),
    )


async def find_runs(
    session: AsyncSession,
    *,
    script_id: str | None = None,
    customer_id: int | None = None,
    call_id: str | None = None,
    agent_id: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[ScriptRunRecord]:
    """Runs newest first, filtered by any of the given fields; `until` is exclusive."""
    query = select(ScriptRunRow)
    if script_id is not None:
        query = query.where(ScriptRunRow.script_id == script_id)
    if customer_id is not None:
        query = query.where(ScriptRunRow.customer_id == customer_id)
    if call_id is not None:
        query = query.where(ScriptRunRow.call_id == call_id)
    if agent_id is not None:
        query = query.where(ScriptRunRow.agent_id == agent_id)
    if status is not None:
        query = query.where(ScriptRunRow.status == status)
    if since is not None:
        query = query.where(ScriptRunRow.started_at >= since)
    if until is not None:
        query = query.where(ScriptRunRow.started_at < until)
    query = query.order_by(ScriptRunRow.started_at.desc(), ScriptRunRow.id.desc()).limit(limit)
    return await run_records(session, (await session.scalars(query)).all())
