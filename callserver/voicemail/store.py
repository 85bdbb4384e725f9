"""The `voicemails` table and its queries, on the server's database.

This table has its own metadata and is created with `create_all` when the voicemail store opens,
on the same database URL as the main store. The main schema's migrations are maintained
separately; keeping this table out of them lets the feature ship without touching that history.
Folding it into an Alembic revision later only needs the same column definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, MetaData, String, Text, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from callserver.store.models import NAMING, UtcDateTime
from callserver.voicemail.model import Mailbox, Voicemail, VoicemailStatus, check_transition

BigId = BigInteger().with_variant(Integer(), "sqlite")


class _Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class VoicemailRow(_Base):
    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    caller_num: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    # no foreign key: customers live in the other metadata (see the module docstring)
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    box: Mapped[str] = mapped_column(String(140))
    queue: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime]
    duration: Mapped[float | None] = mapped_column(Float)
    path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=VoicemailStatus.NEW.value)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    callback_call_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_voicemails_status_box", "status", "box"),
        Index("ix_voicemails_agent_status", "agent_id", "status"),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class VoicemailStore:
    """Open once (`await VoicemailStore.open(url)`), `await close()` at shutdown."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str) -> VoicemailStore:
        engine = create_async_engine(url)
        if make_url(url).get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        async with engine.begin() as conn:
            await conn.run_sync(_Base.metadata.create_all)
        return cls(engine)

    async def close(self) -> None:
        await self._engine.dispose()

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
