"""The voicemails repository: add, read and move messages through their statuses.

The table lives in the main store (`callserver.store.models.VoicemailRow`, created by its
migrations) and this repository works on the store's sessions, so voicemail shares the server's
one database connection pool and schema history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from callserver.store.models import VoicemailRow
from callserver.store.store import Store
from callserver.voicemail.model import Mailbox, Voicemail, VoicemailStatus, check_transition


class VoicemailStore:
    """Built on the open main store; closing the store ends it too."""

    def __init__(self, store: Store) -> None:
        self._sessions = store.sessions

    async def add(
        self,
        *,
        call_id: str,
        caller_num: str,
        caller_name: str,
        customer_id: int | None,
        box: Mailbox,
        queue: str,
        recorded_at: datetime,
        duration: float | None,
        path: str | None,
        data: dict[str, str],
    ) -> Voicemail:
        row = VoicemailRow(
            call_id=call_id,
            caller_num=caller_num,
            caller_name=caller_name,
            customer_id=customer_id,
            box=str(box),
            queue=queue,
            recorded_at=recorded_at,
            duration=duration,
            path=path,
            status=VoicemailStatus.NEW.value,
            data=dict(data),
            updated_at=recorded_at,
        )
        async with self._sessions.begin() as s:
            s.add(row)
            await s.flush()
            return _record(row)

    async def get(self, voicemail_id: int) -> Voicemail | None:
        async with self._sessions() as s:
            row = await s.get(VoicemailRow, voicemail_id)
            return _record(row) if row is not None else None

    async def update(
        self,
        voicemail_id: int,
        at: datetime,
        *,
        status: VoicemailStatus | None = None,
        **fields: str | None,
    ) -> Voicemail:
        """Change status (checked against the transition table) and/or agent, outcome, callback id."""
        allowed = {"agent_id", "outcome", "callback_call_id"}
        if not set(fields) <= allowed:
            raise ValueError(f"cannot set {sorted(set(fields) - allowed)} on a voicemail")
        async with self._sessions.begin() as s:
            row = await s.get(VoicemailRow, voicemail_id, with_for_update=True)
            if row is None:
                raise KeyError(f"unknown voicemail {voicemail_id}")
            if status is not None and status.value != row.status:
                check_transition(voicemail_id, VoicemailStatus(row.status), status)
                row.status = status.value
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = at
            return _record(row)

    async def open_items(self, *, agent_id: str | None = None, limit: int = 500) -> list[Voicemail]:
        """Messages not done, oldest first; only `agent_id`'s when given."""
        query = select(VoicemailRow).where(VoicemailRow.status != VoicemailStatus.DONE.value)
        if agent_id is not None:
            query = query.where(VoicemailRow.agent_id == agent_id)
        query = query.order_by(VoicemailRow.recorded_at, VoicemailRow.id).limit(limit)
        async with self._sessions() as s:
            return [_record(r) for r in (await s.scalars(query)).all()]

    async def waiting_count(self, box: Mailbox) -> int:
        """Messages in `box` nobody has taken yet (for message-waiting lights)."""
        query = (
            select(func.count())
            .select_from(VoicemailRow)
            .where(VoicemailRow.box == str(box), VoicemailRow.status == VoicemailStatus.NEW.value)
        )
        async with self._sessions() as s:
            return int(await s.scalar(query) or 0)

    async def by_call(self, call_id: str) -> Sequence[Voicemail]:
        query = select(VoicemailRow).where(VoicemailRow.call_id == call_id).order_by(VoicemailRow.id)
        async with self._sessions() as s:
            return [_record(r) for r in (await s.scalars(query)).all()]


def _record(row: VoicemailRow) -> Voicemail:
    return Voicemail(
        id=row.id,
        call_id=row.call_id,
        caller_num=row.caller_num,
        caller_name=row.caller_name,
        customer_id=row.customer_id,
        box=Mailbox.parse(row.box),
        queue=row.queue,
        recorded_at=row.recorded_at,
        duration=row.duration,
        path=row.path,
        status=VoicemailStatus(row.status),
        agent_id=row.agent_id,
        outcome=row.outcome,
        callback_call_id=row.callback_call_id,
        data={str(k): str(v) for k, v in (row.data or {}).items()},
    )
