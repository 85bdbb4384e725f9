"""Fact writer throughput: how many facts a second the FactWriter puts in SQLite and PostgreSQL.

Workload: the facts of whole calls as the ACD reports them (7 a call: queued, offered, agent
ringing, answered, agent on call, ended, agent idle), interleaved the way concurrent calls
interleave (calls start 0.01 s apart and last ~10 s, so each batch touches many calls and every
call spans several batches). Four callers in five are known customers (the number lookup's
result travels in the call data, as the inbound script sends it). Each run uses a fresh database
(SQLite file in WAL mode; PostgreSQL on a private cluster started as tests/pg.py does, which runs
with fsync off).

Measured: all facts are submitted at once (the writer's queue bound is lifted for this), then
`flush()`; facts/s = facts / wall time from the first submit to the end of the flush, with the
CPU time of the process (all threads) beside it. A second figure, "steady", submits at a fixed
rate in 1 ms ticks and reports the writer's backlog: what a running server sees.

Command: `.venv/bin/python -m bench.writer_bench` (`--facts 70000`, `--db sqlite`).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.machine import describe_machine, load_average
from callserver.facts.model import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    Fact,
    Outcome,
)

T0 = 1_790_000_000.0
FACTS = 70_000
TARGET = 20_000


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def call_facts(n_calls: int, customers: list[int], data_key: str | None) -> list[Fact]:
    """Facts of `n_calls` overlapping calls, in the order the engine would publish them."""
    timed: list[tuple[float, int, Fact]] = []
    for i in range(n_calls):
        cid, agent, t = f"{T0 + i:.0f}.{i}", f"agent{i % 400}", T0 + i * 0.01
        data: dict[str, object] = {"call.language": "fr"}
        if i % 5 and customers:
            data["customer_id"] = customers[i % len(customers)]
            if data_key is not None:
                data[data_key] = [customers[i % len(customers)]]
        elif data_key is not None:
            data[data_key] = []
        number = f"+3314{i % 10000:07d}" if i % 5 else f"+3319{i:07d}"
        seq = [
            (t, CallQueued(cid, t, "support", f"PJSIP/trunk-{i:08x}", number, "Caller", "500", data=data)),
            (t + 0.001, CallOffered(cid, t + 0.001, "support", agent, f"{cid}-leg1", 1)),
            (t + 0.001, AgentStateChanged(agent, t + 0.001, "idle", "ringing", cid)),
            (t + 0.2, CallAnswered(cid, t + 0.2, "support", agent, 0.2)),
            (t + 0.2, AgentStateChanged(agent, t + 0.2, "ringing", "on_call", cid)),
            (t + 10, CallEnded(cid, t + 10, "support", Outcome.ANSWERED, agent, 0.2)),
            (t + 10, AgentStateChanged(agent, t + 10, "on_call", "idle", None)),
        ]
        timed += [(at, i * 10 + k, fact) for k, (at, fact) in enumerate(seq)]
    timed.sort(key=lambda x: (x[0], x[1]))
    return [f for _, _, f in timed]


async def _open(db: str, tmp: Path) -> tuple[Any, Any, str]:
    from callserver.store import Store

    if db == "postgres":
        from tests.pg import start_postgres

        pg = start_postgres(tmp)
        url = await pg.create_database()
    else:
        pg, url = None, f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    store = await Store.open(url)
    return store, pg, url


async def _customers(store: Any, tmp: Path) -> list[int]:
    seed = tmp / "customers.csv"
    with seed.open("w", encoding="utf-8") as f:
        f.write("name,phones,account\n")
        for i in range(10_000):
            f.write(f"Customer {i},+3314{i:07d},{700000 + i}\n")
    await store.load_customers(seed)
    found = await store.find_customers_by_number("+33140000001")
    first = found[0].id - 1
    return [first + i for i in range(10_000)]


def _writer(store: Any, **options: Any) -> Any:
    from callserver.store import FactWriter

    try:
        return FactWriter(store, max_pending=10**9, **options)
    except TypeError:  # a writer with no queue bound
        return FactWriter(store, **options)


async def run(db: str, n_facts: int, data_key: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="writer_bench") as tmp_name:
        tmp = Path(tmp_name)
        store, pg, url = await _open(db, tmp)
        try:
            customers = await _customers(store, tmp)
            facts = call_facts(n_facts // 7, customers, data_key)
            writer = _writer(store)
            writer.start()
            cpu0, t0 = _cpu_s(), time.perf_counter()
            for fact in facts:
                writer.submit(fact)
            await writer.flush()
            wall, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
            await writer.stop()
            written = await store.event_count()
            steady = await _steady(store, customers, data_key)
        finally:
            await store.close()
            if pg is not None:
                await pg.drop_database(url)
                pg.stop()
    return {
        "db": db,
        "facts": len(facts),
        "written": written,
        "per_s": len(facts) / wall,
        "cpu_us": 1e6 * cpu / len(facts),
        "wall_s": wall,
        "load": load_average(),
        **steady,
    }


async def _steady(store: Any, customers: list[int], data_key: str | None) -> dict[str, Any]:
    """Submit 1,400 facts/s (200 calls/s) for 5 s in 1 ms ticks; the writer's backlog meanwhile."""
    rate, seconds = 1400, 5.0
    facts = call_facts(int(rate * seconds / 7), customers, data_key)
    facts = [f for f in facts if f.at >= T0]  # distinct call ids from the first run: fresh ones
    writer = _writer(store)
    writer.start()
    loop = asyncio.get_running_loop()
    start = loop.time()
    backlog: list[int] = []
    sent = 0
    while sent < len(facts):
        due = min(len(facts), int((loop.time() - start) * rate) + 1)
        while sent < due:
            writer.submit(_fresh(facts[sent]))
            sent += 1
        backlog.append(writer.pending)
        await asyncio.sleep(0.001)
    t = time.perf_counter()
    await writer.flush()
    tail = time.perf_counter() - t
    await writer.stop()
    backlog.sort()
    return {
        "steady_rate": rate,
        "backlog_p99": backlog[int(0.99 * (len(backlog) - 1))],
        "backlog_max": backlog[-1],
        "tail_ms": tail * 1000,
    }


def _fresh(fact: Fact) -> Fact:
    import dataclasses

    if hasattr(fact, "call_id") and getattr(fact, "call_id", None):
        return dataclasses.replace(fact, call_id="s" + str(fact.call_id))  # type: ignore[call-arg]
    return fact


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=FACTS)
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args(argv)
    try:
        from callserver.store.records import CUSTOMER_MATCHES as data_key
    except ImportError:
        data_key = None
    print(describe_machine())
    print(f"fact writer: {args.facts} facts of whole calls, target {TARGET:,} facts/s")
    print(
        "db         facts  written    facts/s  cpu us/fact  wall s"
        " | steady 1400/s: backlog p99 / max, tail ms  load"
    )
    for db in args.db.split(","):
        r = asyncio.run(run(db, args.facts, data_key))
        ok = "ok" if r["per_s"] >= TARGET and r["written"] == r["facts"] else "MISSED"
        print(
            f"{r['db']:9s} {r['facts']:6d} {r['written']:8d} {r['per_s']:10,.0f} {r['cpu_us']:12.1f}"
            f" {r['wall_s']:7.2f} | {r['backlog_p99']:13d} / {r['backlog_max']:5d} {r['tail_ms']:8.1f}"
            f"  {r['load']:4.1f}  {ok}",
            flush=True,
        )


if __name__ == "__main__":
    main()
