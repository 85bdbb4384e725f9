"""The per-call reads (`store/reads.py`): on a SQLite file they run on the event loop's thread, and
must give what the async engine gives, see what the writer committed, and never hold the loop
when SQLite reports the file busy."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from callserver.facts.model import ScriptRunStarted
from callserver.store import Store
from callserver.store.contact import contact_histories
from callserver.store.customers import customers_for_number
from callserver.store.reads import EngineReads, LoopReads, Plan
from callserver.store.records import CustomerFields
from tests.store.facts import answered_call

T0 = 1_790_000_000.0


def _fields(name: str, number: str, account: str) -> CustomerFields:
    return CustomerFields(name, (number,), account, None, None, False, "")


async def _sqlite_store(tmp_path: Path) -> tuple[Store, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}"
    return await Store.open(url), url


async def test_a_plan_gives_the_same_records_on_the_loop_and_through_the_worker_thread(
    tmp_path: Path,
) -> None:
    store, url = await _sqlite_store(tmp_path)
    loop_reads = LoopReads(url, EngineReads(store.engine, owned=False))
    try:
        ann = await store.create_customer(_fields("Ann", "+33140000001", "A1"))
        await store.create_customer(_fields("Bob", "+33140000002", "B1"))
        for i in range(3):
            await store.apply(answered_call(f"k{i}", T0 + 100 * i))
        await store.apply([ScriptRunStarted("k1", T0 + 110, "r1", "billing", 3, "alice", ann.id)])
        worker = EngineReads(store.engine, owned=False)
        until = datetime.fromtimestamp(T0 + 1000, UTC)

        on_loop = await loop_reads.run(lambda: customers_for_number("01 40 00 00 01"))
        assert [c.account for c in on_loop] == ["A1"]
        assert on_loop == await worker.run(lambda: customers_for_number("01 40 00 00 01"))
        pops = await loop_reads.run(
            lambda: contact_histories([ann.id], limit=10, until=until, exclude=["k0"])
        )
        assert pops == await worker.run(
            lambda: contact_histories([ann.id], limit=10, until=until, exclude=["k0"])
        )
        assert [c.id for c in pops[ann.id].calls] == ["k2", "k1"]
        assert [r.run_id for r in pops[ann.id].runs] == ["r1"]
    finally:
        await loop_reads.close()
        await store.close()


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
