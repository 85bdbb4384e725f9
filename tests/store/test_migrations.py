"""Migrations build the whole schema from nothing, match the models, are safe to re-run, and adopt
what earlier releases created outside them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from callserver.store import Store, upgrade
from callserver.store.migrate import alembic_config
from callserver.store.models import Base
from callserver.voicemail.model import Mailbox, VoicemailStatus
from callserver.voicemail.store import VoicemailStore

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

TABLES = {
    "agents",
    "queues",
    "customers",
    "customer_phones",
    "calls",
    "call_offers",
    "call_events",
    "voicemails",
    "customer_fields",
    "script_runs",
    "script_answers",
    "scheduled_callbacks",
}


async def _inspect(url: str) -> tuple[set[str], str | None, list[object]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def look(sync: Connection) -> tuple[set[str], str | None, list[object]]:
                context = MigrationContext.configure(sync, opts={"compare_type": True})
                diff = compare_metadata(context, Base.metadata)
                return set(inspect(sync).get_table_names()), context.get_current_revision(), diff

            return await conn.run_sync(look)
    finally:
        await engine.dispose()


async def test_upgrade_creates_every_table_from_an_empty_database(db_url: str) -> None:
    await upgrade(db_url)
    tables, revision, diff = await _inspect(db_url)
    assert tables >= TABLES | {"alembic_version"}
    assert revision == HEAD
    assert diff == [], "the migrations and the models disagree"


async def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    _, revision, diff = await _inspect(db_url)
    assert revision == HEAD
    assert diff == []


async def test_sqlite_upgrade_creates_the_missing_data_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "callserver.db"
    await upgrade(f"sqlite+aiosqlite:///{target}")
    assert target.exists()


def _voicemails_as_created_before_the_migration() -> MetaData:
    """The table as the voicemail feature used to make it itself (`create_all`) beside revision 0002."""
    metadata = MetaData()
    Table(
        "voicemails",
        metadata,
        Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
        Column("call_id", String(64), nullable=False),
        Column("caller_num", String(64), nullable=False),
        Column("caller_name", String(200), nullable=False),
        Column("customer_id", BigInteger()),
        Column("box", String(140), nullable=False),
        Column("queue", String(64), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("duration", Float()),
        Column("path", Text()),
        Column("status", String(16), nullable=False),
        Column("agent_id", String(64)),
        Column("outcome", String(64)),
        Column("callback_call_id", String(64)),
        Column("data", JSON(), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("id", name="pk_voicemails"),
        Index("ix_voicemails_status_box", "status", "box"),
        Index("ix_voicemails_agent_status", "agent_id", "status"),
    )
    return metadata


async def test_upgrade_adopts_the_voicemails_table_an_earlier_release_made_and_keeps_its_messages(
    db_url: str,
) -> None:
    await upgrade(db_url, "0002")
    old = _voicemails_as_created_before_the_migration()
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(old.create_all)
            await conn.execute(
                old.tables["voicemails"].insert(),
                [
                    {
                        "call_id": "1765.1",
                        "caller_num": "+33140000001",
                        "caller_name": "Ann",
                        "box": "queue:support",
                        "queue": "support",
                        "recorded_at": at,
                        "status": "new",
                        "data": {"product": "billing"},
                        "updated_at": at,
                    }
                ],
            )
    finally:
        await engine.dispose()

    store = await Store.open(db_url)
    try:
        (kept,) = await VoicemailStore(store).open_items()
    finally:
        await store.close()
    _, revision, diff = await _inspect(db_url)
    assert revision == HEAD
    assert diff == [], "the adopted table and the model disagree"
    assert (kept.call_id, kept.box, kept.status, kept.data) == (
        "1765.1",
        Mailbox("queue", "support"),
        VoicemailStatus.NEW,
        {"product": "billing"},
    )
    assert kept.recorded_at == at
