"""Every store test runs twice: on a SQLite file and on a real PostgreSQL (private cluster)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from callserver.store import Store
from tests.pg import PgServer, PgUnavailable, start_postgres


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    try:
        server = start_postgres(tmp_path_factory.mktemp("pg"))
    except PgUnavailable as err:
        pytest.skip(f"PostgreSQL UNAVAILABLE, postgres variants of the store tests skipped: {err}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (no schema yet) of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'store.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = await server.create_database()
    yield url
    await server.drop_database(url)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(db_url)
    yield opened
    await opened.close()
