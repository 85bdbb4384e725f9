"""The call search over a large history: `python -m bench.call_search_bench [--calls N] [--pg URL]`.

Fills the calls table of a fresh store with N calls over 30 days (random queues, agents, outcomes
and 20,000 callers, a tenth of them in national form), then times one page of the searches a
supervisor makes: newest calls, the 100th page by cursor, a caller's number over the whole history
and over one week, an agent, a queue with an outcome, and a customer by account.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy
from sqlalchemy import insert

from callserver.store.call_search import CallQuery
from callserver.store.customers import tail_of
from callserver.store.models import Call, Customer, CustomerPhone
from callserver.store.store import Store

DAYS = 30
START = datetime(2026, 11, 1, tzinfo=UTC)
QUEUES = ["support", "sales", "billing", "care"]
OUTCOMES = ["answered"] * 8 + ["abandoned", "timed_out"]


def _number(i: int) -> str:
    return f"+3314{i:07d}"


def _caller(rng: random.Random) -> str:
    i = rng.randrange(20_000)
    return f"014{i:07d}" if i % 10 == 0 else _number(i)  # national form, as some trunks send it


async def fill(store: Store, calls: int, seed: int = 7) -> float:
    rng = random.Random(seed)
    t = time.perf_counter()
    span = DAYS * 86400
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(Customer),
            [{"id": 1, "name": "Jeanne Dupont", "account": "ACC1", "created_at": START, "updated_at": START}],
        )
        await conn.execute(
            insert(CustomerPhone),
            [{"customer_id": 1, "number": _number(42), "tail": tail_of(_number(42)), "raw": _number(42)}],
        )
        batch: list[dict[str, object]] = []
        for n in range(calls):
            arrived = START + timedelta(seconds=span * n / calls)
            caller = _caller(rng)
            outcome = rng.choice(OUTCOMES)
            queue = rng.choice(QUEUES)
            batch.append(
                {
                    "id": f"{1790000000 + n}.{n}",
                    "channel": "",
                    "caller_num": caller,
                    "caller_name": "",
                    "dnis": "500",
                    "queue": queue,
                    "first_queue": queue,
                    "customer_id": 1 if caller.endswith("0000042") else None,
                    "arrived_at": arrived,
                    "agent_id": f"agent{rng.randrange(200)}" if outcome == "answered" else None,
                    "offers": 1,
                    "outcome": outcome,
                    "wait": rng.uniform(0, 60),
                    "wrapup_timed_out": False,
                    "end_estimated": False,
                }
            )
            if len(batch) == 5000:
                await conn.execute(insert(Call), batch)
                batch = []
        if batch:
            await conn.execute(insert(Call), batch)
    return time.perf_counter() - t


async def timed(store: Store, label: str, query: CallQuery, runs: int = 3) -> None:
    best = float("inf")
    found = 0
    for _ in range(runs):
        t = time.perf_counter()
        page = await store.search_calls(query, region="FR")
        best = min(best, time.perf_counter() - t)
        found = len(page.calls)
    print(f"  {label:<48} {best * 1000:8.1f} ms  ({found} calls)")


async def run(url: str, calls: int) -> None:
    store = await Store.open(url)
    try:
        seconds = await fill(store, calls)
        print(f"  {calls:,} calls over {DAYS} days written in {seconds:.1f} s")
        await timed(store, "newest 50", CallQuery())
        after = None
        for _ in range(99):
            page = await store.search_calls(CallQuery(after=after), region="FR")
            after = page.next
        await timed(store, "page 100 by cursor", CallQuery(after=after))
        await timed(store, "a number (national form), whole history", CallQuery(number="01 40 00 00 42"))
        day = START + timedelta(days=12)
        await timed(
            store,
            "a number, one week",
            CallQuery(number="+33 1 40 00 00 42", since=day, until=day + timedelta(days=7)),
        )
        await timed(store, "an agent", CallQuery(agent="agent7"))
        await timed(store, "a queue and an outcome", CallQuery(queue="billing", outcome="timed_out"))
        await timed(store, "a customer by account", CallQuery(customer="ACC1"))
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.call_search_bench", description=__doc__)
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--pg", help="a PostgreSQL URL (postgresql+asyncpg://...) to run on as well")
    args = ap.parse_args(argv)
    print(f"sqlalchemy {sqlalchemy.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:")
        asyncio.run(run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.calls))
    if args.pg:
        print("PostgreSQL:")
        asyncio.run(run(args.pg, args.calls))


if __name__ == "__main__":
    main()
