"""Bring a database to the newest schema from code, with no alembic.ini on disk.

The composition root calls `upgrade(url)` before opening the store; it is a no-op when the schema
is already current.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str, region: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations; the URL travels as an attribute
    because ini interpolation would mangle '%' in passwords. `region` (customers.default_region)
    is how data migrations read phone numbers written in national form."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    config.attributes["default_region"] = region
    return config


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder; a fresh data_dir must not fail."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


async def upgrade(url: str, revision: str = "head", *, region: str | None = None) -> None:
    """Apply every pending migration. Alembic's env runs its own loop, hence the worker thread."""
    ensure_sqlite_dir(url)
    await asyncio.to_thread(command.upgrade, alembic_config(url, region), revision)
