"""The per-call reads on PostgreSQL: through SQLAlchemy's async execution, and with asyncpg's fetch.

A call makes two reads on the server's loop: the caller's lookup (`customers_for_number`) and the
pop's history (`contact_histories`). On PostgreSQL `store/reads.py` now sends their SELECTs with
asyncpg's `fetch` on kept connections (`PgReads`); before, each read checked a connection out of
the read engine's pool (autocommit, `read_engine`) and ran its statements through SQLAlchemy
(`EngineReads`). This bench runs
the same plans both ways on the same database, rounds interleaved, and reports this process's CPU
time a call (what the server's loop pays; PostgreSQL's own work is in its processes) and the wall
time.

Workload: a fresh database on a private PostgreSQL cluster (started as the tests start one), the
project's migrations, CUSTOMERS customers loaded from a CSV as `callserver customers import` would,
CALLS answered calls spread over them (5 each by default); each round looks up the same 2,000
callers drawn from the customers and reads their histories (5 calls each).
Command: `.venv/bin/python -m bench.pg_reads_bench` (`--customers 10000 --calls 50000 --rounds 5`).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from callserver.store import Store
from callserver.store.contact import contact_histories
from callserver.store.customers import customers_for_number
from callserver.store.models import Call
from callserver.store.reads import EngineReads, PgReads, Reads, read_engine, reads_for
from tests.pg import start_postgres

from .reads_bench import call_rows, write_customers


async def _build(store: Store, csv: Path, customers: int, calls: int) -> None:
    write_customers(csv, customers)
    await store.load_customers(csv)
    async with store.engine.begin() as conn:
        await conn.execute(insert(Call.__table__), call_rows(customers, calls))


async def _round(reads: Reads, numbers: list[str], until: datetime) -> tuple[float, float]:
    """CPU and wall µs a call (lookup, then history) over `numbers`."""
    cpu, wall = time.process_time(), time.perf_counter()
    for number in numbers:
        found = await reads.run(functools.partial(customers_for_number, number))
        ids = [c.id for c in found]
        await reads.run(functools.partial(contact_histories, ids, limit=5, until=until, exclude=()))
    n = len(numbers)
    return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6


async def _main(customers: int, calls: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="pg_reads_bench") as tmp:
        pg = start_postgres(Path(tmp))
        try:
            url = await pg.create_database()
            store = await Store.open(url)
            await _build(store, Path(tmp) / "customers.csv", customers, calls)
            now_path = reads_for(url, store.engine)
            assert isinstance(now_path, PgReads)
            before_path = EngineReads(read_engine(url), owned=True)  # what reads_for gave before
            rng = random.Random(3)
            numbers = [f"+3314{rng.randrange(customers):07d}" for _ in range(2000)]
            until = datetime.now(UTC) + timedelta(minutes=1)
            await _round(now_path, numbers[:200], until)  # warm both: connections, statement caches
            await _round(before_path, numbers[:200], until)
            cpu: dict[str, list[float]] = {"before": [], "now": []}
            wall: dict[str, list[float]] = {"before": [], "now": []}
            for _ in range(rounds):
                for name, reads in (("before", before_path), ("now", now_path)):
                    c, w = await _round(reads, numbers, until)
                    cpu[name].append(c)
                    wall[name].append(w)
            await now_path.close()
            await before_path.close()
            await store.close()
            await pg.drop_database(url)
        finally:
            pg.stop()
    print(
        f"{customers} customers, {calls} calls; 2,000 lookups and histories a round, "
        f"{rounds} rounds (median of rounds), one read at a time"
    )
    b, n = statistics.median(cpu["before"]), statistics.median(cpu["now"])
    bw, nw = statistics.median(wall["before"]), statistics.median(wall["now"])
    print(f"through SQLAlchemy (before): {b:.0f} µs of CPU a call, {bw:.0f} µs wall")
    print(f"asyncpg's fetch (now):       {n:.0f} µs of CPU a call, {nw:.0f} µs wall  (CPU {b / n:.2f}x)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.pg_reads_bench", description=__doc__)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    asyncio.run(_main(args.customers, args.calls, args.rounds))


if __name__ == "__main__":
    main()
