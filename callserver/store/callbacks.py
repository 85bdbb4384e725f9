"""The scheduled-callbacks repository: add requests, read them, move them through their statuses.

The table lives in the main store (`ScheduledCallbackRow`, created by the migrations); like the
voicemail repository it works on the store's sessions. It holds no call rows: a callback's ACD
task gets its call row from the ACD's facts like any task. A write the database turns away for a
moment (SQLite busy beside the fact writer) is tried again with backoff: a customer's callback
request must not be lost to a lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from callserver.callbacks.model import (
    OPEN,
    CallbackKind,
    CallbackStatus,
    NewCallback,
    ScheduledCallback,
    check_transition,
)
from callserver.store.models import ScheduledCallbackRow
from callserver.store.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 6  # 0.05 s doubling: about 1.5 s of waiting in all before giving up


class CallbackStore:
    def __init__(self, store: Store) -> None:
        self._sessions = store.sessions

    async def add(self, new: NewCallback, now: datetime) -> ScheduledCallback:
        row = ScheduledCallbackRow(
            kind=new.kind.value,
            run_id=new.run_id,
            contact_id=new.contact_id,
            customer_id=new.customer_id,
            queue=new.queue,
            reserved_for=new.reserved_for,
            requirement=new.requirement,
            number=new.number,
            title=new.title[:200],
            note=new.note,
            handover=dict(new.handover),
            due_at=new.due_at,
            status=CallbackStatus.SCHEDULED.value,
            created_at=now,
            updated_at=now,
        )

        async def write() -> ScheduledCallback:
            async with self._sessions.begin() as s:
                s.add(row)
                await s.flush()
                return _record(row)

        return await _retrying(write)

    async def get(self, callback_id: int) -> ScheduledCallback | None:
        async with self._sessions() as s:
            row = await s.get(ScheduledCallbackRow, callback_id)
            return _record(row) if row is not None else None

    async def update(
        self,
        callback_id: int,
        at: datetime,
        *,
        status: CallbackStatus | None = None,
        **fields: str | None,
    ) -> ScheduledCallback:
        """Change status (checked against the transition table) and/or agent, outcome, dial id."""
        allowed = {"agent_id", "outcome", "dial_id"}
        if not set(fields) <= allowed:
            raise ValueError(f"cannot set {sorted(set(fields) - allowed)} on a callback")

        async def write() -> ScheduledCallback:
            async with self._sessions.begin() as s:
                row = await s.get(ScheduledCallbackRow, callback_id, with_for_update=True)
                if row is None:
                    raise KeyError(f"unknown callback {callback_id}")
                if status is not None and status.value != row.status:
                    check_transition(callback_id, CallbackStatus(row.status), status)
                    row.status = status.value
                for name, value in fields.items():
                    setattr(row, name, value)
                row.updated_at = at
                return _record(row)

        return await _retrying(write)

    async def open_items(self, *, agent_id: str | None = None, limit: int = 500) -> list[ScheduledCallback]:
        """Requests not done nor cancelled, soonest due first; with `agent_id`: those the agent has
        or that are kept for them."""
        query = select(ScheduledCallbackRow).where(ScheduledCallbackRow.status.in_([s.value for s in OPEN]))
        if agent_id is not None:
            query = query.where(
                (ScheduledCallbackRow.agent_id == agent_id) | (ScheduledCallbackRow.reserved_for == agent_id)
            )
        query = query.order_by(ScheduledCallbackRow.due_at, ScheduledCallbackRow.id).limit(limit)
        async with self._sessions() as s:
            return [_record(r) for r in (await s.scalars(query)).all()]

    async def by_run(self, run_id: str) -> list[ScheduledCallback]:
        query = select(ScheduledCallbackRow).where(ScheduledCallbackRow.run_id == run_id)
        async with self._sessions() as s:
            return [_record(r) for r in (await s.scalars(query.order_by(ScheduledCallbackRow.id))).all()]


async def _retrying(write: Callable[[], Awaitable[T]]) -> T:
    delay = 0.05
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await write()
        except OperationalError as err:
            if attempt == ATTEMPTS:
                raise
            log.warning("callbacks: write refused (%s), attempt %d, again in %.2fs", err.orig, attempt, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _record(row: ScheduledCallbackRow) -> ScheduledCallback:
    return ScheduledCallback(
        id=row.id,
        kind=CallbackKind(row.kind),
        queue=row.queue,
        due_at=row.due_at,
        number=row.number,
        title=row.title,
        note=row.note,
        reserved_for=row.reserved_for,
        requirement=row.requirement,
        handover=dict(row.handover or {}),
        run_id=row.run_id,
        contact_id=row.contact_id,
        customer_id=row.customer_id,
        status=CallbackStatus(row.status),
        agent_id=row.agent_id,
        outcome=row.outcome,
        dial_id=row.dial_id,
        created_at=row.created_at,
    )
