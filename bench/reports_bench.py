"""Historical reports at scale: 1,000,000 calls, 200 agents, 30 days in the aggregated tables.

The tables are filled with bulk inserts of rows shaped as the report writer leaves them (the
queues' and dialled numbers' quarter hours, the agents' working quarter hours, and the local
days), then timed: a 30-day per-interval queue report, a 30-day per-agent report, and a CSV of
over 1,000,000 rows streamed by a child process whose peak RSS is measured. On SQLite and on a
throwaway PostgreSQL (tests/pg.py). Targets: each report < 1 s; the CSV never held in memory.

`python -m bench.reports_bench [--quick] [--sqlite-only]`
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from callserver.config import Settings, parse_settings
from callserver.reports.counters import NAMES, Counters
from callserver.reports.service import Reports
from callserver.store.models import ReportBucket, ReportDay
from callserver.store.reports import ReportStore, local_day
from callserver.store.store import Store

ZONE = "Europe/Paris"
FIRST = date(2026, 11, 1)
QUEUES = 10
AGENTS = 200
DNIS = 350  # 350 numbers x 2,880 quarter hours: a 1,008,000-row CSV
QUARTER = 900
CHUNK = 20_000


def settings(days: int) -> Settings:
    del days
    return parse_settings(
        {
            "skills": ["s"],
            "agents": [
                {
                    "id": f"a{i:03d}",
                    "name": f"A{i}",
                    "login": f"a{i:03d}",
                    "interface": f"PJSIP/{i}",
                    "skills": {"s": 1},
                }
                for i in range(AGENTS)
            ],
            "queues": [{"name": f"q{i}", "skills": ["s"]} for i in range(QUEUES)],
            "reports": {"timezone": ZONE},
        },
        "<bench>",
        env={},
    )


def _profile(quarter: int) -> float:
    """Share of the day's calls in this quarter hour of the local day: office hours are busy."""
    hour = quarter / 4
    return 3.0 if 8 <= hour < 18 else 1.0 if 7 <= hour < 21 else 0.2


def _rows(days: int, calls: int, rng: random.Random) -> Iterator[tuple[str, str, int, Counters]]:
    zone = ZoneInfo(ZONE)
    start = int(datetime.combine(FIRST, dt_time(), zone).timestamp())
    quarters = days * 96
    weights = [_profile(q % 96) for q in range(quarters)]
    scale = calls / (sum(weights) * QUEUES)
    for q in range(quarters):
        at = start + q * QUARTER
        for queue in range(QUEUES):
            offered = max(1, round(weights[q] * scale * rng.uniform(0.8, 1.2)))
            answered = round(offered * 0.9)
            abandoned = offered - answered
            c = Counters(
                offered=offered,
                answered=answered,
                answered_in_time=round(answered * 0.8),
                abandoned=abandoned,
                short_abandoned=rng.randint(0, 2),
                wait_answered=answered * 14.0,
                handled=answered,
                handle_time=answered * 210.0,
                longest_wait=rng.uniform(30, 200),
                staffed=20 * QUARTER * 0.9,
                busy=20 * QUARTER * 0.7,
            )
            yield "queue", f"q{queue}", at, c
        for number in range(DNIS):
            yield (
                "dnis",
                f"0800{number:06d}",
                at,
                Counters(offered=1, answered=1, answered_in_time=1, wait_answered=9.0),
            )
        # three 8-hour shifts from 06:00: each agent works one of them
        shift = ((q % 96) - 24) // 32 if (q % 96) >= 24 else 2
        for agent in range(AGENTS):
            if agent % 3 == shift:
                yield (
                    "agent",
                    f"a{agent:03d}",
                    at,
                    Counters(
                        answered=3,
                        handled=3,
                        handle_time=630.0,
                        logged_in=QUARTER,
                        ready=QUARTER * 0.9,
                        paused=QUARTER * 0.1,
                        staffed=QUARTER * 0.9,
                        busy=QUARTER * 0.7,
                    ),
                )


async def fill(store: Store, days: int, calls: int) -> tuple[int, float]:
    """Bulk-insert the buckets and their local days; returns (bucket rows, seconds)."""
    t = time.perf_counter()
    zone = ZoneInfo(ZONE)
    rng = random.Random(5)
    count = 0
    daily: dict[tuple[str, str, str], Counters] = {}
    batch: list[dict[str, object]] = []
    async with store.engine.begin() as conn:
        for kind, key, start, c in _rows(days, calls, rng):
            batch.append({"kind": kind, "key": key, "start": start, **{n: getattr(c, n) for n in NAMES}})
            daily.setdefault((kind, local_day(start, zone), key), Counters()).add(c)
            count += 1
            if len(batch) >= CHUNK:
                await conn.execute(insert(ReportBucket.__table__), batch)
                batch = []
        if batch:
            await conn.execute(insert(ReportBucket.__table__), batch)
        day_rows = [
            {"kind": k[0], "day": k[1], "key": k[2], **{n: getattr(c, n) for n in NAMES}}
            for k, c in daily.items()
        ]
        for i in range(0, len(day_rows), CHUNK):
            await conn.execute(insert(ReportDay.__table__), day_rows[i : i + CHUNK])
    return count, time.perf_counter() - t


async def timed_report(reports: Reports, name: str, days: int, interval: str) -> tuple[int, float]:
    last = FIRST + timedelta(days=days - 1)
    prepared = reports.prepare(
        name, {"from": [FIRST.isoformat()], "to": [last.isoformat()], "interval": [interval]}
    )
    t = time.perf_counter()
    rows = [row async for row in reports.rows(prepared)]
    return len(rows), time.perf_counter() - t


async def stream_csv(url: str, days: int) -> None:
    """The child process: stream the dnis report as CSV, count bytes and rows, print peak RSS."""
    from callserver.reports.output import csv_chunks

    store = await Store.open(url, migrate=False)
    reports = Reports(ReportStore(store.engine, ZoneInfo(ZONE)), settings(days))
    last = FIRST + timedelta(days=days - 1)
    prepared = reports.prepare(
        "dnis_intervals",
        {"from": [FIRST.isoformat()], "to": [last.isoformat()], "interval": ["15m"], "format": ["csv"]},
    )
    t = time.perf_counter()
    size = lines = 0
    async for chunk in csv_chunks(prepared.columns, reports.rows(prepared)):
        size += len(chunk)
        lines += chunk.count("\n")
    elapsed = time.perf_counter() - t
    await store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{lines - 1} {size} {elapsed:.2f} {peak}")


async def run_on(url: str, label: str, days: int, calls: int) -> None:
    store = await Store.open(url)
    try:
        count, seconds = await fill(store, days, calls)
        print(f"{label}: {count:,} bucket rows inserted in {seconds:.1f} s")
        reports = Reports(ReportStore(store.engine, ZoneInfo(ZONE)), settings(days))
        for name, interval in (
            ("queue_intervals", "15m"),
            ("queue_intervals", "30m"),
            ("agent_intervals", "day"),
            ("agent_intervals", "week"),
        ):
            best = min(
                [await timed_report(reports, name, days, interval) for _ in range(3)], key=lambda r: r[1]
            )
            print(
                f"{label}: {name} {days} days per {interval}: {best[0]:,} rows in {best[1]:.3f} s (best of 3)"
            )
    finally:
        await store.close()
    child = subprocess.run(  # noqa: ASYNC221 - the loop has nothing else to do meanwhile
        [sys.executable, "-m", "bench.reports_bench", "--stream", url, "--days", str(days)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows, size, elapsed, peak = child.stdout.split()
    print(
        f"{label}: CSV dnis_intervals per 15m: {int(rows):,} rows, {int(size) / 1e6:.0f} MB streamed in "
        f"{float(elapsed):.1f} s, child peak RSS {int(peak) / 1024:.0f} MiB"
    )


def versions() -> str:
    names = ("sqlalchemy", "aiosqlite", "asyncpg", "aiohttp")
    return ", ".join(f"{n} {importlib.metadata.version(n)}" for n in names)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.reports_bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="3 days and 100,000 calls, SQLite only")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--stream", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stream:
        asyncio.run(stream_csv(args.stream, args.days))
        return
    days, calls = (3, 100_000) if args.quick else (args.days, 1_000_000)
    print(f"reports: {calls:,} calls, {AGENTS} agents, {QUEUES} queues, {DNIS} numbers, {days} days")
    print(f"libraries: {versions()}")
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        asyncio.run(run_on(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", "sqlite", days, calls))
    if args.quick or args.sqlite_only:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pg import PgUnavailable, start_postgres

    try:
        server = start_postgres()
    except PgUnavailable as err:
        print(f"postgresql: UNAVAILABLE ({err})")
        return
    try:
        url = asyncio.run(server.create_database())
        asyncio.run(run_on(url, "postgresql", days, calls))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
