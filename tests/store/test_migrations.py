"""Migrations build the whole schema from nothing, match the models, and are safe to re-run."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from callserver.store import upgrade
from callserver.store.models import Base

TABLES = {"agents", "queues", "customers", "customer_phones", "calls", "call_offers", "call_events"}


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
    assert revision == "0002"
    assert diff == [], "the migrations and the models disagree"


async def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    _, revision, diff = await _inspect(db_url)
    assert revision == "0002"
    assert diff == []


async def test_sqlite_upgrade_creates_the_missing_data_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "callserver.db"
    await upgrade(f"sqlite+aiosqlite:///{target}")
    assert target.exists()
