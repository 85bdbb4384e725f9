"""A customer's contact history for a screen-pop: their earlier calls and dialogue-script runs.

A pop is built for every offer to an agent with a browser, so this read is on the busiest path the
store has after the fact writer. It is a plan for `store/reads.py` (one connection for all the
customers the caller matched, where a read costs the event loop least), with Core statements built
once (no ORM session to set up, no objects to identity-map), and it needs no read of the call being
popped: the caller's arrival time bounds the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from callserver.store.models import Call, ScriptAnswerRow, ScriptRunRow
from callserver.store.reads import Plan
from callserver.store.records import CallRecord, ScriptAnswerRecord, ScriptRunRecord
from callserver.store.rows import call_record
from callserver.store.scripts import answer_record, run_record

CALLS = Call.__table__
RUNS = ScriptRunRow.__table__
ANSWERS = ScriptAnswerRow.__table__

_CALLS = (
    select(CALLS)
    .where(CALLS.c.customer_id == bindparam("customer"), CALLS.c.arrived_at < bindparam("until"))
    .order_by(CALLS.c.arrived_at.desc(), CALLS.c.id.desc())
    .limit(bindparam("limit"))
)
_RUNS = (
    select(RUNS)
    .where(RUNS.c.customer_id == bindparam("customer"))
    .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
    .limit(bindparam("limit"))
)
_ANSWERS = (
    select(ANSWERS)
    .where(ANSWERS.c.run_id.in_(bindparam("runs", expanding=True)))
    .order_by(ANSWERS.c.run_id, ANSWERS.c.position)
)


@dataclass(frozen=True, slots=True)
class ContactHistory:
    calls: list[CallRecord]  # newest first
    runs: list[ScriptRunRecord]  # newest first, with their answers


def contact_histories(
    customer_ids: Sequence[int],
    *,
    limit: int,
    until: datetime,
    exclude: Sequence[str],
) -> Plan[dict[int, ContactHistory]]:
    """For each customer: up to `limit` calls that arrived before `until` (leaving out the calls
    in `exclude`), and their `limit` latest script runs (a plan for `store/reads.py`)."""
    found: dict[int, ContactHistory] = {}
    # the calls left out are dropped here rather than by a NOT IN, whose list SQLAlchemy renders
    # into the statement at each execution: fetching as many more rows costs less
    skip = set(exclude)
    wanted = {"limit": limit + len(skip), "until": until}
    for customer in customer_ids:
        params: dict[str, Any] = {"customer": customer, "limit": limit}
        rows = yield _CALLS, {**wanted, "customer": customer}
        calls = [call_record(row) for row in rows if row.id not in skip][:limit]
        runs = yield _RUNS, params
        answers: dict[str, list[ScriptAnswerRecord]] = {run.id: [] for run in runs}
        if runs:
            for row in (yield _ANSWERS, {"runs": list(answers)}):
                answers[row.run_id].append(answer_record(row))
        found[customer] = ContactHistory(calls, [run_record(run, answers[run.id]) for run in runs])
    return found
