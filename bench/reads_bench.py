"""The per-call reads on a SQLite file: through SQLAlchemy's execution layer, and below it.

A call makes two reads on the server's loop: the caller's lookup (`customers_for_number`) and the
pop's history (`contact_histories`). `store/reads.py` runs their SELECTs on the pysqlite cursor
with conversions compiled once; this bench runs the same plans on the same connection both ways:
`sqlalchemy` sends each statement through `Connection.execute` (the path before), `below` through
`run_on_file` (the path now), rounds interleaved.

Workload: a fresh SQLite file (the project's migrations) with CUSTOMERS customers loaded from a CSV
as `callserver customers import` would, and CALLS answered calls spread over them (5 each by
default); each round looks up the same 2,000 callers drawn from the customers and reads their
histories (5 calls each).
Command: `.venv/bin/python -m bench.reads_bench` (`--customers 10000 --calls 50000 --rounds 5`).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, insert

from callserver.store import Store
from callserver.store.contact import contact_histories
from callserver.store.customers import customers_for_number
from callserver.store.models import Call
from callserver.store.reads import Plan, run_on_file


def run_through_sqlalchemy(conn: Connection, plan: Plan[Any]) -> Any:
    try:
        query = next(plan)
        while True:
            query = plan.send(conn.execute(*query).all())
    except StopIteration as done:
        return done.value


def write_customers(csv: Path, customers: int) -> None:
    """A customer CSV as `callserver customers import` reads it; customer i has the number +3314
    followed by i in seven digits."""
    with csv.open("w", encoding="utf-8") as f:
        f.write("name,phones,account,language,vip,notes\n")
        for i in range(customers):
            f.write(f"Customer {i},+3314{i:07d},{700000 + i},fr,no,\n")


def call_rows(customers: int, calls: int) -> list[dict[str, Any]]:
    """`calls` answered calls of the last hours, spread over the customers in turn."""
    now = datetime.now(UTC)
    return [
        {
            "id": f"c{i}",
            "customer_id": 1 + i % customers,
            "arrived_at": now - timedelta(seconds=i),
            "answered_at": now - timedelta(seconds=i - 2),
            "ended_at": now - timedelta(seconds=i - 30),
            "outcome": "answered",
            "agent_id": "agent1",
            "wait": 2.0,
        }
        for i in range(calls)
    ]


async def _build(db: Path, customers: int, calls: int) -> None:
    csv = db.parent / "customers.csv"
    write_customers(csv, customers)
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    await store.load_customers(csv)
    await store.close()
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(insert(Call.__table__), call_rows(customers, calls))
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.reads_bench", description=__doc__)
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reads_bench") as tmp:
        db = Path(tmp) / "store.db"
        asyncio.run(_build(db, args.customers, args.calls))
        engine = create_engine(f"sqlite:///{db}", isolation_level="AUTOCOMMIT")
        rng = random.Random(3)
        numbers = [f"+3314{rng.randrange(args.customers):07d}" for _ in range(2000)]
        until = datetime.now(UTC) + timedelta(minutes=1)
        times: dict[str, list[float]] = {"sqlalchemy": [], "below": []}
        with engine.connect() as conn:
            for _ in range(args.rounds):
                for name, run in (("sqlalchemy", run_through_sqlalchemy), ("below", run_on_file)):
                    start = time.perf_counter()
                    for number in numbers:
                        found = run(conn, customers_for_number(number))
                        ids = [c.id for c in found]
                        run(conn, contact_histories(ids, limit=5, until=until, exclude=()))
                    times[name].append((time.perf_counter() - start) / len(numbers) * 1e6)
        engine.dispose()
    print(
        f"{args.customers} customers, {args.calls} calls; 2,000 lookups and histories a round, "
        f"{args.rounds} rounds (median of rounds)"
    )
    before, after = statistics.median(times["sqlalchemy"]), statistics.median(times["below"])
    print(f"through SQLAlchemy (before): {before:.1f} µs a call")
    print(f"below it (now):              {after:.1f} µs a call  ({before / after:.2f}x)")


if __name__ == "__main__":
    main()
