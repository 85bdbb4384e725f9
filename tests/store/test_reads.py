"""The per-call reads (`store/reads.py`): on a SQLite file they run on the event loop's thread, and
must give what the async engine gives, see what the writer committed, and never hold the loop
when SQLite reports the file busy; on PostgreSQL they go to asyncpg directly and must give the
same records, and never keep a connection a read failed or was cancelled on."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, literal_column, select, table, text
from sqlalchemy.exc import DBAPIError, OperationalError

from callserver.facts.model import (
    CallWrappedUp,
    ScriptAnswered,
    ScriptRunEnded,
    ScriptRunStarted,
    ScriptStepReached,
)
from callserver.store import Store
from callserver.store.contact import _ANSWERS, _CALLS, _RUNS, contact_histories
from callserver.store.customers import _BY_TAIL, customers_for_number
from callserver.store.reads import (
    EngineReads,
    LoopReads,
    PgReads,
    Plan,
    Reads,
    _compiled,
    _prepared,
    reads_for,
)
from callserver.store.records import CustomerFields
from tests.pg import PgServer
from tests.store.facts import abandoned_call, answered_call

T0 = 1_790_000_000.0


def _fields(name: str, number: str, account: str) -> CustomerFields:
    return CustomerFields(name, (number,), account, None, None, False, "")


async def _sqlite_store(tmp_path: Path) -> tuple[Store, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}"
    return await Store.open(url), url


async def _history(store: Store) -> int:
    """Two customers, four calls of the first (one abandoned, one wrapped up late), two script
    runs; the first customer's id."""
    ann = await store.create_customer(_fields("Ann", "+33140000001", "A1"))
    await store.create_customer(_fields("Bob", "+33140000002", "B1"))
    for i in range(3):
        await store.apply(answered_call(f"k{i}", T0 + 100 * i))
    await store.apply(abandoned_call("k3", T0 + 400))
    await store.apply([CallWrappedUp("k2", T0 + 260, "alice", "sale", "note", "", timed_out=True)])
    await store.apply(
        [
            ScriptRunStarted("k1", T0 + 110, "r1", "billing", 3, "alice", ann.id),
            ScriptStepReached("k1", T0 + 111, "r1", "billing", "alice", "greet", "Welcome", 0),
            ScriptAnswered(
                "k1", T0 + 112, "r1", "alice", 1, "greet", "q", "yes-no", "Q?", "true", "yes", "alice"
            ),
            ScriptRunStarted("k2", T0 + 210, "r2", "billing", 3, "alice", ann.id),
            ScriptRunEnded(
                "k2", T0 + 215, "r2", "billing", "alice", "finished", "resolved", {"path": ["greet"]}
            ),
        ]
    )
    return ann.id


async def _same_records(reads: Reads, worker: EngineReads, ann_id: int) -> None:
    """`reads` gives what SQLAlchemy's async engine gives, for the lookup and the history."""
    until = datetime.fromtimestamp(T0 + 1000, UTC)
    found = await reads.run(lambda: customers_for_number("01 40 00 00 01"))
    assert [c.account for c in found] == ["A1"]
    assert found == await worker.run(lambda: customers_for_number("01 40 00 00 01"))
    pops = await reads.run(lambda: contact_histories([ann_id], limit=10, until=until, exclude=["k0"]))
    assert pops == await worker.run(
        lambda: contact_histories([ann_id], limit=10, until=until, exclude=["k0"])
    )
    assert [c.id for c in pops[ann_id].calls] == ["k3", "k2", "k1"]
    k3, k2 = pops[ann_id].calls[:2]
    assert (k3.outcome, k3.answered_at, k2.wrapup_outcome, k2.wrapup_timed_out) == (
        "abandoned",
        None,
        "sale",
        True,
    )
    assert k2.arrived_at == datetime.fromtimestamp(T0 + 200, UTC)
    assert isinstance(k2.wait, float)  # PostgreSQL's float8 as SQLAlchemy hands it back
    r2, r1 = pops[ann_id].runs
    assert (r2.run_id, r2.status, r2.path, r1.run_id, r1.status) == (
        "r2",
        "finished",
        ("greet",),
        "r1",
        "active",
    )
    assert [a.value for a in r1.answers] == ["true"]
    # the bound is converted to UTC as the rows are: five hours west of UTC, just before k3 came
    west = datetime.fromtimestamp(T0 + 399, timezone(timedelta(hours=-5)))
    before_k3 = await reads.run(lambda: contact_histories([ann_id], limit=10, until=west, exclude=()))
    assert [c.id for c in before_k3[ann_id].calls] == ["k2", "k1", "k0"]


async def test_a_plan_gives_the_same_records_on_the_loop_and_through_the_worker_thread(
    tmp_path: Path,
) -> None:
    store, url = await _sqlite_store(tmp_path)
    loop_reads = LoopReads(url, EngineReads(store.engine, owned=False))
    try:
        ann_id = await _history(store)
        # the lookup and the history's calls and runs run below SQLAlchemy on the loop's connection
        # (the answers' list of runs is rendered into their statement: that one goes through it)
        dialect = loop_reads.dialect
        assert all(_prepared(q, dialect) is not None for q in (_BY_TAIL, _CALLS, _RUNS))
        assert _prepared(_ANSWERS, dialect) is None
        await _same_records(loop_reads, EngineReads(store.engine, owned=False), ann_id)
    finally:
        await loop_reads.close()
        await store.close()


async def test_a_plan_gives_the_same_records_with_asyncpg_as_through_sqlalchemy(pg_server: PgServer) -> None:
    url = await pg_server.create_database()
    store = await Store.open(url)
    reads = reads_for(url, store.engine)
    try:
        assert isinstance(reads, PgReads)
        ann_id = await _history(store)
        await _same_records(reads, EngineReads(store.engine, owned=False), ann_id)
        # the lookup and the history's calls and runs went to asyncpg's fetch (their columns' types
        # were read from PostgreSQL); the answers' statement, with its rendered list, did not
        fetched = set(reads._coltypes)
        assert fetched == {str(_compiled(q, reads.dialect)) for q in (_BY_TAIL, _CALLS, _RUNS)}
        assert _compiled(_ANSWERS, reads.dialect) is None
        # reads one after the other share one kept connection
        assert len(reads._idle) == 1
        # the parameters go through the columns' conversions, as SQLAlchemy sends them
        naive = datetime(2026, 1, 1, 12, 0)
        with pytest.raises(ValueError, match="naive datetime"):
            await reads.run(lambda: contact_histories([ann_id], limit=10, until=naive, exclude=()))
    finally:
        await reads.close()
        await store.close()
        await pg_server.drop_database(url)


async def test_a_failed_or_cancelled_read_on_postgresql_drops_its_connection(pg_server: PgServer) -> None:
    url = await pg_server.create_database()
    store = await Store.open(url)
    reads = reads_for(url, store.engine)

    def misses() -> Plan[None]:
        yield select(literal_column("x")).select_from(table("no_such_table")), {}

    def slow() -> Plan[None]:
        yield select(func.pg_sleep(5).label("slept")), {}

    try:
        assert isinstance(reads, PgReads)
        await store.create_customer(_fields("Ann", "+33140000001", "A1"))
        with pytest.raises(DBAPIError, match="no_such_table"):
            await reads.run(misses)
        assert reads._idle == []  # not kept
        sleeping = asyncio.create_task(reads.run(slow))
        await asyncio.sleep(0.3)
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping
        assert reads._idle == []
        # the next read opens a connection that works
        assert [c.name for c in await reads.run(lambda: customers_for_number("+33140000001"))] == ["Ann"]
        assert len(reads._idle) == 1
    finally:
        await reads.close()
        await store.close()
        await pg_server.drop_database(url)


async def test_a_customer_is_found_the_moment_the_write_that_adds_it_commits(tmp_path: Path) -> None:
    store, _url = await _sqlite_store(tmp_path)
    try:
        assert await store.find_customers_by_number("+33140000009") == []  # a connection now open
        await store.create_customer(_fields("Zoe", "+33140000009", "Z1"))
        assert [c.name for c in await store.find_customers_by_number("0140000009")] == ["Zoe"]
    finally:
        await store.close()


async def test_a_lookup_on_a_locked_file_waits_in_the_worker_thread_not_on_the_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, _url = await _sqlite_store(tmp_path)
    try:
        await store.create_customer(_fields("Ann", "+33140000001", "A1"))
        await store.close()  # the store's connections closed: the holder below may lock the file
        holder = sqlite3.connect(tmp_path / "reads.db", isolation_level=None)
        try:
            holder.execute("PRAGMA locking_mode=EXCLUSIVE")
            holder.execute("BEGIN EXCLUSIVE")
            holder.execute("UPDATE customers SET notes = 'locked' WHERE account = 'A1'")
            holder.execute("COMMIT")  # in exclusive locking mode the lock stays until the close
            lookup = asyncio.create_task(store.find_customers_by_number("+33140000001"))
            await asyncio.sleep(0.3)  # the loop runs on: the read waits elsewhere
            assert not lookup.done()
        finally:
            holder.close()
        (ann,) = await asyncio.wait_for(lookup, 10)
        assert (ann.name, ann.notes) == ("Ann", "locked")
        assert "read through the worker thread" in caplog.text
        (again,) = await store.find_customers_by_number("+33140000001")  # back on the loop's thread
        assert again == ann
    finally:
        await store.close()


async def test_the_loop_connection_reads_only_and_reports_other_errors_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, url = await _sqlite_store(tmp_path)
    loop_reads = LoopReads(url, EngineReads(store.engine, owned=False))

    def writes() -> Plan[None]:
        yield text("DELETE FROM customers"), {}

    def misses() -> Plan[None]:
        yield text("SELECT * FROM no_such_table"), {}

    try:
        await store.create_customer(_fields("Ann", "+33140000001", "A1"))
        with pytest.raises(OperationalError, match="readonly"):
            await loop_reads.run(writes)
        with pytest.raises(OperationalError, match="no_such_table"):
            await loop_reads.run(misses)
        assert "worker thread" not in caplog.text  # neither was retried elsewhere
        # the connection a failed read used is dropped; the next read opens another
        assert [c.name for c in await loop_reads.run(lambda: customers_for_number("+33140000001"))] == ["Ann"]
        assert [c.name for c in await store.find_customers_by_number("+33140000001")] == ["Ann"]
    finally:
        await loop_reads.close()
        await store.close()
