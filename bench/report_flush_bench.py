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

Command: `.venv/bin/python -m bench.report_flush_bench` (`--sizes 400:1,400:8,2000:2` agents:hours).
"""

from __future__ import annotations

import argparse
import statistics
import time

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
from callserver.reports.fold import ReportFold, RowChange

START = 1_764_576_000.0  # a quarter-hour boundary
QUEUES = ("sales", "support")
FLUSHES = 20
PERIOD = 2.0


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


def measure(fold: ReportFold, facts: list[Fact], hours: float) -> tuple[list[float], int]:
    """Feed the day with a flush every 60 s, then time FLUSHES flushes PERIOD s apart."""
    timed_from = START + hours * 3600 - FLUSHES * PERIOD
    next_flush = START + 60.0
    times: list[float] = []
    rows = 0
    for fact in facts:
        while fact.at >= next_flush:
            timed = next_flush >= timed_from
            t = time.perf_counter()
            rows = len(fold.changes(next_flush))
            if timed:
                times.append(time.perf_counter() - t)
            next_flush = next_flush + PERIOD if timed else min(next_flush + 60.0, timed_from)
        fold.apply(fact)
    return times, rows


def run(agents: int, hours: float, every: float) -> None:
    facts = day(agents, hours, every)
    for label, kind in (("recent rows", ReportFold), ("every row", _EveryRow)):
        agent_queues = {f"agent{i}": [QUEUES[i % 2]] for i in range(agents)}
        fold = kind(list(QUEUES), agent_queues=agent_queues, service_time=20.0)
        times, rows = measure(fold, facts, hours)
        print(
            f"{agents:7d} {hours:6.1f} {len(facts):8d}  {label:12s} {statistics.median(times) * 1000:9.2f}"
            f" {max(times) * 1000:9.2f} {rows:9d}",
            flush=True,
        )


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
    for size in args.sizes.split(","):
        agents, hours = size.split(":")
        run(int(agents), float(hours), args.every)


if __name__ == "__main__":
    main()
