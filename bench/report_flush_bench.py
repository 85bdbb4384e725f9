"""How long the report writer's flush holds the event loop, hours into a working day.

Every `reports.period` seconds (2 s) the report writer asks the report fold for the increments of
every row since its last write (`ReportFold.changes`), on the event loop. The fold's rows are 15-minute
buckets kept for two days: per agent its time, per queue its calls and its agents' time. Here a fold
is fed a working day: N agents in two queues, logged in at the start, each taking a call every
`--every` seconds (queued, ringing, answered, talked, wrapped up with a code, back to idle), and the
writer's flush every 60 s. Then, still taking calls, twenty flushes 2 s apart are timed (the fold's
`changes` alone; the database write that follows is the writer bench's business):

- `recent rows`: as shipped, only the rows that can have changed since the last flush are computed
  (the recent buckets, the older buckets a late fact touched);
- `every row`: every kept row computed again at every flush, as the fold did before (the same fold
  with its incremental state dropped before each flush).

Both give the same increments (tests/reports/test_fold.py checks it). Printed: the median and the
longest flush, and the rows handed to the database per flush.

Then the write of the last flush's rows into a SQLite file (`ReportStore.add`: a bucket row and a
local-day row per increment, in one transaction), WRITES times each, alternated:

- `tuples to the driver`: as shipped, the rows built as tuples and handed to sqlite3's executemany
  (`store/bulk.py execute_records`);
- `SQLAlchemy executemany`: the same upserts with a mapping per row through SQLAlchemy's
  execution, as the writer did before.

Printed: the median CPU time of the event loop's thread per write (the writes run on aiosqlite's
thread too; the loop's share is what delays calls).

Command: `.venv/bin/python -m bench.report_flush_bench` (`--sizes 400:1,400:8,2000:2` agents:hours).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallQueued,
    CallWrappedUp,
    Fact,
    Outcome,
)
from callserver.reports.counters import NAMES, Counters
from callserver.reports.fold import ReportFold, RowChange
from callserver.store.reports import ReportStore, local_day
from callserver.store.store import Store

START = 1_764_576_000.0  # a quarter-hour boundary
QUEUES = ("sales", "support")
FLUSHES = 20
PERIOD = 2.0
WRITES = 15
ZONE = ZoneInfo("Europe/Paris")


class _EveryRow(ReportFold):
    def changes(self, now: float) -> list[RowChange]:
        self._last_now = None  # as before: every kept row computed again
        return super().changes(now)


def _call(n: int, agent: str, queue: str, at: float) -> list[Fact]:
    call = f"c{n}"
    answer = at + 4.0
    end = answer + 60.0
    return [
        CallQueued(call, at, queue, f"PJSIP/trunk-{n}", f"+3314{n:07d}", "", "500"),
        AgentStateChanged(agent, at + 1.0, "idle", "ringing", call),
        CallAnswered(call, answer, queue, agent, 4.0),
        AgentStateChanged(agent, answer, "ringing", "on_call", call),
        CallEnded(call, end, queue, Outcome.ANSWERED, agent, 4.0),
        AgentStateChanged(agent, end, "on_call", "wrapup", call),
        CallWrappedUp(call, end + 9.0, agent, "sale", "", agent),
        AgentStateChanged(agent, end + 10.0, "wrapup", "idle", None),
    ]


def day(agents: int, hours: float, every: float) -> list[Fact]:
    """The working day's facts in time order: each agent's calls spread evenly over `every` s."""
    timeline: list[tuple[float, int, Fact]] = []
    names = [f"agent{i}" for i in range(agents)]
    for i, agent in enumerate(names):
        timeline.append((START, i, AgentStatusChanged(agent, START, "available", "")))
    n = 0
    for i, agent in enumerate(names):
        at = START + 1.0 + (i * every / agents)
        while at < START + hours * 3600:
            for fact in _call(n, agent, QUEUES[i % 2], at):
                timeline.append((fact.at, n, fact))
            n += 1
            at += every
    timeline.sort(key=lambda item: (item[0], item[1]))
    return [fact for _, _, fact in timeline]


def measure(fold: ReportFold, facts: list[Fact], hours: float) -> tuple[list[float], list[RowChange]]:
    """Feed the day with a flush every 60 s, then time FLUSHES flushes PERIOD s apart; the last
    flush's increments come back with the times."""
    timed_from = START + hours * 3600 - FLUSHES * PERIOD
    next_flush = START + 60.0
    times: list[float] = []
    changes: list[RowChange] = []
    for fact in facts:
        while fact.at >= next_flush:
            timed = next_flush >= timed_from
            t = time.perf_counter()
            changes = fold.changes(next_flush)
            if timed:
                times.append(time.perf_counter() - t)
            next_flush = next_flush + PERIOD if timed else min(next_flush + 60.0, timed_from)
        fold.apply(fact)
    return times, changes


async def _through_sqlalchemy(reports: ReportStore, changes: list[RowChange]) -> None:
    """The write as it was: the increments merged per row in `Counters`, one mapping per row,
    SQLAlchemy's executemany."""
    buckets: dict[tuple[str, int, str], Counters] = {}
    days: dict[tuple[str, str, str], Counters] = {}
    for c in changes:
        buckets.setdefault((c.kind, c.start, c.key), Counters()).add(c.delta)
        days.setdefault((c.kind, local_day(c.start, ZONE), c.key), Counters()).add(c.delta)
    async with reports._sessions.begin() as s:
        await s.execute(
            reports._bucket_upsert, [_named(v, kind=k[0], start=k[1], key=k[2]) for k, v in buckets.items()]
        )
        await s.execute(
            reports._day_upsert, [_named(v, kind=k[0], day=k[1], key=k[2]) for k, v in days.items()]
        )


def _named(counters: Counters, **keys: object) -> dict[str, object]:
    return {**keys, **{name: getattr(counters, name) for name in NAMES}}


async def write_times(changes: list[RowChange]) -> dict[str, float]:
    """Median loop-thread CPU ms of writing `changes`, each way, alternated."""
    ways = {"tuples to the driver": None, "SQLAlchemy executemany": _through_sqlalchemy}
    times: dict[str, list[float]] = {label: [] for label in ways}
    with tempfile.TemporaryDirectory(prefix="report_write") as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(tmp) / 'reports.db'}")
        try:
            reports = ReportStore(store.engine, ZONE)
            for _ in range(WRITES + 1):
                for label, way in ways.items():
                    t = time.thread_time()
                    await (reports.add(changes) if way is None else way(reports, changes))
                    times[label].append(time.thread_time() - t)
        finally:
            await store.close()
    return {label: statistics.median(spent[1:]) * 1000 for label, spent in times.items()}


def run(agents: int, hours: float, every: float) -> list[RowChange]:
    facts = day(agents, hours, every)
    changes: list[RowChange] = []
    for label, kind in (("recent rows", ReportFold), ("every row", _EveryRow)):
        agent_queues = {f"agent{i}": [QUEUES[i % 2]] for i in range(agents)}
        fold = kind(list(QUEUES), agent_queues=agent_queues, service_time=20.0)
        times, changes = measure(fold, facts, hours)
        print(
            f"{agents:7d} {hours:6.1f} {len(facts):8d}  {label:12s} {statistics.median(times) * 1000:9.2f}"
            f" {max(times) * 1000:9.2f} {len(changes):9d}",
            flush=True,
        )
    return changes


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.report_flush_bench", description=__doc__)
    ap.add_argument("--sizes", default="400:1,400:8,2000:2", help="agents:hours, comma-separated")
    ap.add_argument("--every", type=float, default=300.0, help="seconds between two calls of an agent")
    args = ap.parse_args(argv)
    print(
        f"report writer flush (ReportFold.changes), {FLUSHES} flushes {PERIOD:.0f} s apart,"
        f" a call per agent every {args.every:.0f} s"
    )
    print(" agents  hours    facts  computed     median ms    max ms  rows/flush")
    flushes: list[tuple[str, list[RowChange]]] = []
    for size in args.sizes.split(","):
        agents, hours = size.split(":")
        flushes.append((size, run(int(agents), float(hours), args.every)))
    print(f"\nthe last flush's rows written to SQLite (ReportStore.add), {WRITES} writes alternated")
    print(" agents:hours  rows/flush  written as                 loop CPU ms a write")
    for size, changes in flushes:
        for label, ms in asyncio.run(write_times(changes)).items():
            print(f" {size:>12s} {len(changes):11d}  {label:26s} {ms:9.2f}", flush=True)


if __name__ == "__main__":
    main()
