"""The bulk statements of a fact batch: on PostgreSQL COPY for its INSERTs; its other statements
compiled once and handed to the driver's own executemany (asyncpg's, sqlite3's) as tuples.

A batch of facts inserts thousands of rows (a log row per fact, an agent-state row for most, a
calls and an offers row per call). Through an executemany on PostgreSQL each row is its own
execution of a prepared statement on the server, and its parameters are built one row at a time by
SQLAlchemy's execution layer on the event loop's thread: measured on 70,000 facts, the server's
side of these INSERTs took about as long as the rest of the batch's work, and the rows' parameters
a third of the writer's CPU. `COPY ... FROM STDIN (FORMAT binary)` through the asyncpg connection
under the session sends every row in one stream and the server inserts them in one command. The
UPDATEs stay one execution per row on the server (an UPDATE joined to arrays of the rows was
slower there: the planner does not know the arrays' sizes), but their rows go to asyncpg as tuples
built here, without SQLAlchemy's construction of each row's parameters (a sixth of the writer's
CPU on PostgreSQL once the INSERTs were COPY). The same goes for SQLite's INSERTs and UPDATEs:
sqlite3's executemany is one C loop over the statement's steps, and the tuples built a column at
a time cost less than SQLAlchemy's mappings (8 % more facts a second, alternated).

The values are converted exactly as SQLAlchemy would bind them (each column type's bind processor
for the dialect: the UTC datetimes, the JSON encoder of the fact log), and every statement runs on the
session's own connection inside its transaction, so a batch still lands whole or not at all. A
row the database refuses raises SQLAlchemy's `IntegrityError` or `DataError`, as SQLAlchemy's
executemany did, which is what the fact writer's setting aside of a rejected fact relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, Update, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Processor = Callable[[Any], Any] | None

# drivers whose executemany takes the batch's rows as tuples (`_driver_executemany`)
_DRIVERS = frozenset({"asyncpg", "aiosqlite"})


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (mappings with the same keys, column names of `table`) in the session's
    transaction."""
    if not rows:
        return
    conn = await session.connection()
    if conn.dialect.driver == "asyncpg":
        columns, records = _insert_records(table, rows, conn.dialect)
        await _copy(await _in_transaction(conn), table, columns, records)
    elif conn.dialect.driver in _DRIVERS:
        await _driver_executemany(conn, _insert_of(table), rows, dict(table.c))
    else:
        await session.execute(insert(table), rows)


def _insert_records(
    table: Table, rows: Sequence[Mapping[str, Any]], dialect: Dialect
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    columns = tuple(rows[0])
    processors = [_processor(table, name, dialect) for name in columns]
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"bulk insert into {table.name}: rows with other columns than {columns}")
    try:
        return columns, _records(rows, columns, processors)
    except KeyError as err:
        raise ValueError(f"bulk insert into {table.name}: a row lacks the column {err}") from err


async def _copy(driver: Any, table: Table, columns: tuple[str, ...], records: list[tuple[Any, ...]]) -> None:
    try:
        await driver.copy_records_to_table(
            table.name, records=records, columns=columns, schema_name=table.schema
        )
    except Exception as err:
        raise _translated(err, table) from err


class Meanwhile:
    """An INSERT under way while the batch goes on (`insert_meanwhile`)."""

    def __init__(
        self, task: asyncio.Task[None] | None = None, later: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self._task = task
        self._later = later

    async def finish(self) -> None:
        """Wait for the rows to be in (where nothing runs alongside: insert them now)."""
        if self._task is not None:
            await self._task
        elif self._later is not None:
            await self._later()

    async def abandon(self) -> None:
        """The batch failed before `finish`: let the INSERT end, whatever it gives (the
        transaction is rolled back next), so that the connection is idle for the rollback."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


async def insert_meanwhile(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> Meanwhile:
    """Start inserting `rows`, which nothing else in the batch reads, so that the database works on
    them while the batch's other work goes on in Python; `finish()` before the session's next
    statement. On PostgreSQL the rows are sent before this returns (the COPY's data), so the
    server inserts them while the caller works, on the machine's other CPU; elsewhere the INSERT
    simply runs at `finish()`. The caller must not use the session until then."""
    conn = await session.connection()
    if conn.dialect.driver != "asyncpg" or not rows:
        return Meanwhile(later=functools.partial(insert_rows, session, table, rows))
    columns, records = _insert_records(table, rows, conn.dialect)
    driver = await _in_transaction(conn)
    task = asyncio.create_task(_copy(driver, table, columns, records))
    await asyncio.sleep(0)  # the task encodes and sends the rows, then waits for the server
    return Meanwhile(task)


async def execute_many(
    session: AsyncSession,
    statement: Update,
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, ColumnElement[Any]],
) -> None:
    """`statement` once per row of `rows` (mappings of its bound parameters' names, the same in
    every row) in the session's transaction. `columns`: for each parameter, the column whose type
    converts its values (what SQLAlchemy takes from the comparison or the SET clause)."""
    if not rows:
        return
    conn = await session.connection()
    if conn.dialect.driver in _DRIVERS:
        await _driver_executemany(conn, statement, rows, columns)
    else:
        await session.execute(statement, rows)


async def execute_records(
    session: AsyncSession, statement: Insert, names: Sequence[str], records: Sequence[Sequence[Any]]
) -> None:
    """`statement` (an INSERT, an upsert) once per record in the session's transaction; each
    record holds the values of the columns `names` of its table, in that order. For callers that
    build their rows as tuples already (the report writer's counters), so no mapping is made per
    row on the way."""
    if not records:
        return
    conn = await session.connection()
    if conn.dialect.driver not in _DRIVERS:
        await session.execute(statement, [dict(zip(names, record, strict=True)) for record in records])
        return
    dialect = conn.dialect
    table = statement.table
    sql, order = _compiled(statement, dialect, tuple(names))
    try:
        by_name = dict(zip(names, zip(*records, strict=True), strict=True))
    except ValueError as err:
        raise ValueError(f"bulk {table}: records that are not {len(names)} values each") from err
    values: list[Sequence[Any]] = []
    for name in order:
        convert = _processor(table, name, dialect)  # type: ignore[arg-type]
        values.append(by_name[name] if convert is None else list(map(convert, by_name[name])))
    driver = await _in_transaction(conn)
    try:
        await driver.executemany(sql, list(zip(*values, strict=True)))
    except Exception as err:
        raise _translated(err, statement) from err


async def _driver_executemany(
    conn: AsyncConnection,
    statement: Insert | Update,
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, ColumnElement[Any]],
) -> None:
    """The statement as compiled for the first batch with these parameters, its rows as tuples,
    straight to the driver's executemany on the session's connection."""
    dialect = conn.dialect
    sql, order = _compiled(statement, dialect, tuple(rows[0]))
    try:
        records = _records(rows, order, [_convert(columns[name], dialect) for name in order])
    except KeyError as err:
        raise ValueError(f"bulk {statement.table}: a row lacks the parameter {err}") from err
    driver = await _in_transaction(conn)
    try:
        await driver.executemany(sql, records)
    except Exception as err:
        raise _translated(err, statement) from err


@functools.lru_cache(maxsize=64)
def _insert_of(table: Table) -> Insert:
    """One INSERT construct per table, so that `_compiled` finds it again."""
    return insert(table)


@functools.lru_cache(maxsize=256)
def _compiled(
    statement: Insert | Update, dialect: Dialect, keys: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """The SQL of `statement` for `keys` and its parameters' order, compiled once: compiling took
    a tenth of a small batch's time (a write every few milliseconds at a low call rate). The
    statements are the fact writer's module constants (and one INSERT per table), and the
    dialect the engine's own, so the cache holds a few dozen entries for a server's life."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    order = compiled.positiontup
    if order is None:  # a paramstyle that is not positional: neither asyncpg's nor sqlite3's
        raise RuntimeError(f"{dialect.driver}: positional parameters expected")
    return str(compiled), tuple(order)


def _records(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], processors: Sequence[Processor]
) -> list[tuple[Any, ...]]:
    """The rows as tuples in the order of `columns`, each value converted: built a column at a
    time (a list per column, the conversion mapped over it, the tuples made by `zip`), which
    costs a third of building each row's tuple in turn."""
    values: list[list[Any]] = []
    for name, convert in zip(columns, processors, strict=True):
        column = [row[name] for row in rows]
        values.append(column if convert is None else list(map(convert, column)))
    return list(zip(*values, strict=True))


def _processor(table: Table, name: str, dialect: Dialect) -> Processor:
    return _convert(table.c[name], dialect)


def _convert(column: ColumnElement[Any], dialect: Dialect) -> Processor:
    """The column's conversion as SQLAlchemy's compiler finds it (its type adapted to the dialect,
    then that type's bind processor); a few microseconds, so found again for each batch."""
    return column.type.dialect_impl(dialect).bind_processor(dialect)


async def _in_transaction(conn: AsyncConnection) -> Any:
    """The driver's connection under `conn`, inside the session's transaction.

    asyncpg: SQLAlchemy's adapter only sends BEGIN with the first statement it runs; when the
    batch has not run one yet, a trivial one starts it (a COPY on its own would commit by itself).
    sqlite3 (under aiosqlite) begins a transaction by itself before the first INSERT or UPDATE,
    unless told not to (`isolation_level` None), which the store never does."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if conn.dialect.driver == "asyncpg":
        if not driver.is_in_transaction():
            await conn.exec_driver_sql("SELECT 1")
        if driver.is_in_transaction():
            return driver
    elif driver.in_transaction or driver.isolation_level is not None:
        return driver
    raise RuntimeError("bulk statement outside a transaction: the rows would commit one by one")


def _translated(err: Exception, target: Table | Insert | Update) -> Exception:
    """The database's refusal of the data as SQLAlchemy's exception of the same class (PostgreSQL's
    SQLSTATE class 23 or sqlite3's IntegrityError: a constraint; class 22, sqlite3's DataError or
    a value the driver cannot bind: the data itself), so the writer can tell it from a lost
    connection or a locked file; anything else as it came."""
    state = str(getattr(err, "sqlstate", "") or "")
    statement = f"COPY {target.name}" if isinstance(target, Table) else str(target)
    if state.startswith("23") or isinstance(err, sqlite3.IntegrityError):
        return IntegrityError(statement, None, err)
    if state.startswith("22") or isinstance(err, ValueError | TypeError | sqlite3.DataError):
        return DataError(statement, None, err)
    return err
