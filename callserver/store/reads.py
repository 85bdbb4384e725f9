"""The reads every call makes (the caller's lookup when it arrives, the screen-pop's history), run
where they cost the event loop least.

Through the async engine a statement crosses SQLAlchemy's greenlet bridge and, on SQLite, makes
several trips to aiosqlite's worker thread (check-out, cursor, execute, fetch, rollback on
check-in). Measured here, one indexed caller lookup cost the loop's thread 500-600 µs of CPU that
way, the query itself 40-60 µs. So:

- on a SQLite file the reads run on the loop's own thread, on a plain pysqlite connection in
  autocommit. In WAL mode a reader never waits for the writer; the connection has no busy timeout
  and is read-only, so it never holds the loop past its own query. Should SQLite still say the file
  is busy (WAL recovery after a crash), the read goes once through the async engine, which waits in
  its thread;
- on PostgreSQL (and an in-memory SQLite, which a second connection would not see) they run on the
  async engine, PostgreSQL's on a pool of its own in autocommit: no BEGIN and ROLLBACK round trips
  around one SELECT.

A read is written once, as a plan: a generator that yields statements and is sent their rows, so
the same plan runs on a blocking or an async connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import Row, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from callserver import jsontext

T = TypeVar("T")
Query = tuple[Executable, Mapping[str, Any]]
Plan = Generator[Query, Sequence[Row[Any]], T]
# a plan is made anew for each run: one run may start it on one connection and retry on another
PlanOf = Callable[[], Plan[T]]

log = logging.getLogger("callserver.store")

READ_POOL_SIZE = 10
# what SQLite says when another connection holds the file: worth waiting for, not on the loop
_BUSY = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_RECOVERY", "SQLITE_BUSY_SNAPSHOT"})


class Reads(Protocol):
    async def run(self, plan_of: PlanOf[T]) -> T: ...

    async def close(self) -> None: ...


def run_blocking(conn: Connection, plan: Plan[T]) -> T:
    try:
        query = next(plan)
        while True:
            query = plan.send(conn.execute(*query).all())
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(conn: AsyncConnection, plan: Plan[T]) -> T:
    try:
        query = next(plan)
        while True:
            query = plan.send((await conn.execute(*query)).all())
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class EngineReads:
    """Plans on an async engine; `owned` when the engine was made for the reads alone."""

    def __init__(self, engine: AsyncEngine, *, owned: bool) -> None:
        self._engine = engine
        self._owned = owned

    async def run(self, plan_of: PlanOf[T]) -> T:
        async with self._engine.connect() as conn:
            return await run_async(conn, plan_of())

    async def close(self) -> None:
        if self._owned:
            await self._engine.dispose()


class LoopReads:
    """Plans on the event loop's thread, on a read-only pysqlite connection to the store's file.

    The connection stays checked out between reads: in autocommit it holds no snapshot of the
    file while idle, and the pool's check-out and check-in were a third of SQLAlchemy's cost of a
    read. It is dropped after an error and opened again for the next read.
    """

    def __init__(self, url: str, fallback: EngineReads) -> None:
        self._engine: Engine = create_engine(
            make_url(url).set(drivername="sqlite+pysqlite"),
            isolation_level="AUTOCOMMIT",
            pool_size=1,
            json_serializer=jsontext.dumps,
            json_deserializer=jsontext.loads,
        )
        event.listen(self._engine, "connect", _read_only)
        self._fallback = fallback
        self._conn: Connection | None = None

    async def run(self, plan_of: PlanOf[T]) -> T:
        conn = self._conn or self._engine.connect()
        self._conn = None  # held again only after a read that went through
        try:
            found = run_blocking(conn, plan_of())
            conn.rollback()  # ends SQLAlchemy's own transaction; autocommit has none in SQLite
        except OperationalError as err:
            conn.close()
            if getattr(err.orig, "sqlite_errorname", "") not in _BUSY:
                raise
            log.warning(
                "store: a read found the database busy (%s); read through the worker thread", err.orig
            )
            return await self._fallback.run(plan_of)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return found

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA query_only=1")
    cursor.close()


def reads_for(url: str, engine: AsyncEngine) -> Reads:
    """The cheapest place for the per-call reads of the database at `url` (`engine` is the
    store's own)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        shared = EngineReads(engine, owned=False)
        if database in ("", ":memory:") or database.startswith("file:") or parsed.query:
            return shared
        return LoopReads(url, shared)
    autocommit = create_async_engine(
        parsed,
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
        pool_size=READ_POOL_SIZE,
        json_serializer=jsontext.dumps,
        json_deserializer=jsontext.loads,
    )
    return EngineReads(autocommit, owned=True)
