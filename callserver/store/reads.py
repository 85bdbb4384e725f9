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
- on PostgreSQL they run on connections of a pool of their own in autocommit (no BEGIN and
  ROLLBACK round trips around one SELECT), kept checked out between reads, each SELECT sent with
  asyncpg's `fetch` (`PgReads`);
- an in-memory SQLite (which a second connection would not see) runs them on the store's engine.

A read is written once, as a plan: a generator that yields statements and is sent their rows, so
the same plan runs on a blocking or an async connection.

On both, a SELECT runs below SQLAlchemy's execution layer: compiled once (with its parameters'
and columns' type conversions, taken from SQLAlchemy's types), then executed on the pysqlite
cursor or with asyncpg's `fetch`, its rows converted and handed to the plan as named tuples. Alone,
SQLAlchemy's execution context and result set were half of a caller lookup's cost and a third of a
history's on SQLite (`bench/RESULTS.md`, "Per-call reads below SQLAlchemy's execution layer"); on
PostgreSQL the two reads of a call cost the loop 2.2 times less CPU this way ("Per-call reads on
PostgreSQL with asyncpg's fetch"). A statement that needs SQLAlchemy at each execution (a list
rendered into it, text without declared columns) goes through it as before; an error is raised as
SQLAlchemy would raise it.
"""

from __future__ import annotations

import contextlib
import functools
import keyword
import logging
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

import asyncpg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable, Select

from callserver import jsontext

T = TypeVar("T")
Query = tuple[Executable, Mapping[str, Any]]
# the rows a plan is sent: SQLAlchemy rows or named tuples of the same columns, read by attribute
Plan = Generator[Query, Sequence[Any], T]
# a plan is made anew for each run: one run may start it on one connection and retry on another
PlanOf = Callable[[], Plan[T]]

log = logging.getLogger("callserver.store")

READ_POOL_SIZE = 10
# what SQLite says when another connection holds the file: worth waiting for, not on the loop
_BUSY = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_RECOVERY", "SQLITE_BUSY_SNAPSHOT"})


class Reads(Protocol):
    async def run(self, plan_of: PlanOf[T]) -> T: ...

    async def close(self) -> None: ...


async def run_async(conn: AsyncConnection, plan: Plan[T]) -> T:
    try:
        query = next(plan)
        while True:
            query = plan.send((await conn.execute(*query)).all())
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


Convert = Callable[[Any], Any] | None


class _Prepared(NamedTuple):
    """A SELECT compiled for the loop's connection: its SQL, its parameters in order with their
    conversions, and the row type and conversions of its columns."""

    compiled: Any
    sql: str
    names: tuple[str, ...]
    binds: tuple[Convert, ...]
    row: Callable[[Sequence[Any]], Any]
    columns: tuple[Convert, ...]


@functools.lru_cache(maxsize=128)
def _compiled(statement: Executable, dialect: Dialect) -> Any:
    """The statement compiled for `dialect`, or None when SQLAlchemy must run it (see `_prepared`)."""
    if not isinstance(statement, Select):
        return None
    compiled = statement.compile(dialect=dialect)
    if compiled.post_compile_params or compiled.literal_execute_params or compiled.positiontup is None:
        return None
    return compiled


@functools.lru_cache(maxsize=128)
def _prepared(
    statement: Executable, dialect: Dialect, coltypes: tuple[Any, ...] | None = None
) -> _Prepared | None:
    """None when the statement needs SQLAlchemy at each execution (a list rendered into it) or has
    no declared columns (text), or a column name is not an attribute name: SQLAlchemy runs those.

    `coltypes`: the driver's type code of each column, as its cursor describes them (asyncpg's
    type oids; some of SQLAlchemy's result conversions depend on them, PostgreSQL's numbers)."""
    compiled = _compiled(statement, dialect)
    if compiled is None:
        return None
    assert isinstance(statement, Select)
    keys = tuple(statement.selected_columns.keys())
    if len(set(keys)) != len(keys) or not all(k.isidentifier() and not keyword.iskeyword(k) for k in keys):
        return None
    names = tuple(compiled.positiontup)
    binds = tuple(compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
    columns = tuple(
        c.type.dialect_impl(dialect).result_processor(dialect, coltypes[i] if coltypes else None)
        for i, c in enumerate(statement.selected_columns)
    )
    # a named tuple per statement, its fields the statement's columns (so mypy cannot see them)
    row_type: Any = namedtuple("Row", keys)  # type: ignore[misc]
    row = row_type._make
    return _Prepared(compiled, str(compiled), names, binds, row, columns)


def _execute(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
    """One statement of a plan on the loop's connection: below SQLAlchemy's execution layer when
    `_prepared` allows it, through SQLAlchemy otherwise."""
    prepared = _prepared(statement, conn.dialect)
    if prepared is None:
        return conn.execute(statement, params).all()
    args = _args(prepared, params)
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        rows = driver.execute(prepared.sql, args).fetchall()
    except sqlite3.Error as err:
        raise DBAPIError.instance(prepared.sql, args, err, sqlite3.Error) from err
    return _rows(prepared, rows)


def _args(prepared: _Prepared, params: Mapping[str, Any]) -> list[Any]:
    values = prepared.compiled.construct_params(params)
    return [
        v if f is None else f(v)
        for f, v in zip(prepared.binds, (values[n] for n in prepared.names), strict=True)
    ]


def _rows(prepared: _Prepared, rows: Sequence[Sequence[Any]]) -> list[Any]:
    make, columns = prepared.row, prepared.columns
    if not any(columns):
        return [make(r) for r in rows]
    return [make([v if f is None else f(v) for f, v in zip(columns, r, strict=True)]) for r in rows]


async def _fetch(
    conn: AsyncConnection, driver: Any, coltypes: dict[str, tuple[Any, ...]], query: Query
) -> Any:
    """One statement of a plan on a kept PostgreSQL connection: with asyncpg's `fetch` (its own
    cache of prepared statements) when `_prepared` allows it, through SQLAlchemy otherwise."""
    statement, params = query
    compiled = _compiled(statement, conn.dialect)
    if compiled is None:
        return (await conn.execute(statement, params)).all()
    sql = str(compiled)
    types = coltypes.get(sql)
    try:
        if types is None:
            # the columns' type oids, as SQLAlchemy's adapter reads them from the prepared statement
            types = coltypes[sql] = tuple(a.type.oid for a in (await driver.prepare(sql)).get_attributes())
        prepared = _prepared(statement, conn.dialect, types)
        if prepared is None:
            return (await conn.execute(statement, params)).all()
        args = _args(prepared, params)
        rows = await driver.fetch(prepared.sql, *args)
    except asyncpg.PostgresError as err:
        raise DBAPIError.instance(sql, params, err, asyncpg.PostgresError) from err
    return _rows(prepared, rows)


def run_on_file(conn: Connection, plan: Plan[T]) -> T:
    try:
        query = next(plan)
        while True:
            query = plan.send(_execute(conn, *query))
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

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    async def run(self, plan_of: PlanOf[T]) -> T:
        conn = self._conn or self._engine.connect()
        self._conn = None  # held again only after a read that went through
        try:
            found = run_on_file(conn, plan_of())
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


class PgReads:
    """Plans on PostgreSQL, each statement sent with asyncpg's `fetch` on a connection of the read
    engine's pool (autocommit), kept checked out between reads.

    Through SQLAlchemy's async execution a caller lookup cost the loop 300-320 µs of CPU and a
    history 480-570 (`bench/RESULTS.md`, "Per-call reads where they cost least"), most of it the
    greenlet bridge, the pool's check-out and check-in and the result set, for a query PostgreSQL
    answers in a few dozen. Up to `keep` connections wait for the next read (as many as reads ran at
    once); a connection a read failed or was cancelled on is closed, not kept.
    """

    def __init__(self, engine: AsyncEngine, *, keep: int = READ_POOL_SIZE) -> None:
        self._engine = engine
        self._keep = keep
        self._idle: list[tuple[AsyncConnection, Any]] = []
        # each statement's columns' type oids (PostgreSQL's catalogue: the same on every connection)
        self._coltypes: dict[str, tuple[Any, ...]] = {}

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    async def run(self, plan_of: PlanOf[T]) -> T:
        if self._idle:
            conn, driver = self._idle.pop()
        else:
            conn = await self._engine.connect()
            driver = (await conn.get_raw_connection()).driver_connection
        plan = plan_of()
        try:
            query = next(plan)
            while True:
                query = plan.send(await _fetch(conn, driver, self._coltypes, query))
        except StopIteration as done:
            found: T = done.value
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()
            raise
        if conn.in_transaction():  # a statement SQLAlchemy ran began its (autocommit) transaction
            await conn.rollback()
        if len(self._idle) < self._keep:
            self._idle.append((conn, driver))
        else:
            await conn.close()
        return found

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _driver in idle:
            await conn.close()
        await self._engine.dispose()


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
    autocommit = read_engine(url)
    if autocommit.dialect.driver == "asyncpg":
        return PgReads(autocommit)
    return EngineReads(autocommit, owned=True)


def read_engine(url: str) -> AsyncEngine:
    """An engine of its own for the per-call reads of a database server, in autocommit: no BEGIN
    and ROLLBACK round trips around one SELECT."""
    return create_async_engine(
        make_url(url),
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
        pool_size=READ_POOL_SIZE,
        json_serializer=jsontext.dumps,
        json_deserializer=jsontext.loads,
    )
