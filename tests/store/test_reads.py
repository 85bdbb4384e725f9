"""The per-call reads (`store/reads.py`): on a SQLite file they run on the event loop's thread, and
must give what the async engine gives, see what the writer committed, and never hold the loop
when SQLite reports the file busy."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

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
from callserver.store.reads import EngineReads, LoopReads, Plan, _prepared
from callserver.store.records import CustomerFields
from tests.store.facts import abandoned_call, answered_call

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
        worker = EngineReads(store.engine, owned=False)
        until = datetime.fromtimestamp(T0 + 1000, UTC)
        # the lookup and the history's calls and runs run below SQLAlchemy on the loop's connection
        # (the answers' list of runs is rendered into their statement: that one goes through it)
        dialect = loop_reads.dialect
        assert all(_prepared(q, dialect) is not None for q in (_BY_TAIL, _CALLS, _RUNS))
        assert _prepared(_ANSWERS, dialect) is None

        on_loop = await loop_reads.run(lambda: customers_for_number("01 40 00 00 01"))
        assert [c.account for c in on_loop] == ["A1"]
        assert on_loop == await worker.run(lambda: customers_for_number("01 40 00 00 01"))
        pops = await loop_reads.run(
            lambda: contact_histories([ann.id], limit=10, until=until, exclude=["k0"])
        )
        assert pops == await worker.run(
            lambda: contact_histories([ann.id], limit=10, until=until, exclude=["k0"])
        )
        assert [c.id for c in pops[ann.id].calls] == ["k3", "k2", "k1"]
        k3, k2 = pops[ann.id].calls[:2]
        assert (k3.outcome, k3.answered_at, k2.wrapup_outcome, k2.wrapup_timed_out) == (
            "abandoned",
            None,
            "sale",
            True,
        )
        assert k2.arrived_at == datetime.fromtimestamp(T0 + 200, UTC)
        r2, r1 = pops[ann.id].runs
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
        before_k3 = await loop_reads.run(
            lambda: contact_histories([ann.id], limit=10, until=west, exclude=())
        )
        assert [c.id for c in before_k3[ann.id].calls] == ["k2", "k1", "k0"]
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
