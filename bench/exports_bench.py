"""queue_log and Prometheus: how fast facts become queue_log lines, how fast a period is exported
from the database (and that the export's memory does not grow with the period), and what a scrape
of /metrics costs with many agents and queues.

`python -m bench.exports_bench [--calls N] [--agents N] [--queues N]`
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from prometheus_client import generate_latest

from callserver.acd.model import AgentState, AgentStatus
from callserver.acd.views import AgentView, QueueLoad
from callserver.facts.model import (
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    Fact,
    OfferEnded,
    OfferResult,
    Outcome,
)
from callserver.prometheus.metrics import CallServerMetrics, LiveState
from callserver.queuelog.export import queue_log_lines
from callserver.queuelog.mapper import QueueLogMapper
from callserver.store.facts import event_row
from callserver.store.store import Store

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def day_of_facts(calls: int, agents: int, queues: int, seed: int = 1) -> list[Fact]:
    """A day: agents log in, calls arrive evenly, 10 % abandon, 10 % ring unanswered once first."""
    rng = random.Random(seed)
    facts: list[Fact] = [AgentStatusChanged(f"a{i}", START, "available", "") for i in range(agents)]
    step = 86_000.0 / calls
    for n in range(calls):
        at = START + 60 + n * step
        call, queue, agent = f"{at:.6f}.{n}", f"q{n % queues}", f"a{rng.randrange(agents)}"
        facts.append(CallQueued(call, at, queue, f"PJSIP/trunk-{n}", "+33140000001", "", "500"))
        if rng.random() < 0.1:
            facts.append(CallEnded(call, at + 40, queue, Outcome.ABANDONED, None, 40))
            continue
        if rng.random() < 0.1:
            facts.append(CallOffered(call, at + 1, queue, agent, f"leg-{n}-0", 1))
            facts.append(OfferEnded(call, at + 16, agent, f"leg-{n}-0", OfferResult.NO_ANSWER))
        facts.append(CallOffered(call, at + 17, queue, agent, f"leg-{n}", 1))
        facts.append(CallAnswered(call, at + 20, queue, agent, 20))
        facts.append(CallEnded(call, at + 200, queue, Outcome.ANSWERED, agent, 20))
    return facts


def mapper_rate(facts: list[Fact], agents: int, queues: int) -> tuple[float, int]:
    mapper = QueueLogMapper({f"a{i}": [f"q{j}" for j in range(queues)][:3] for i in range(agents)})
    started = time.perf_counter()
    lines = sum(len(entry.line()) >= 0 for fact in facts for entry in mapper.on_fact(fact))
    return len(facts) / (time.perf_counter() - started), lines


async def export_run(facts: list[Fact], agents: int, queues: int) -> tuple[float, float, int, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        started = time.perf_counter()
        # only the fact log is read by the export: its rows, as the fact writer makes them, in bulk
        async with store._sessions() as session, session.begin():
            for first in range(0, len(facts), 5000):
                session.add_all([event_row(fact) for fact in facts[first : first + 5000]])
                await session.flush()
        wrote = time.perf_counter() - started
        member_queues = {f"a{i}": [f"q{j}" for j in range(queues)][:3] for i in range(agents)}

        async def export() -> int:
            count = 0
            async for _line in queue_log_lines(
                store, lambda: QueueLogMapper(member_queues), START, START + 86_400, lookback=3600
            ):
                count += 1
            return count

        started = time.perf_counter()
        count = await export()
        took = time.perf_counter() - started
        tracemalloc.start()  # a second run, for memory: tracing slows it down
        await export()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        await store.close()
    return wrote, took, count, peak


def scrape_cost(agents: int, queues: int, scrapes: int = 50) -> float:
    names = [f"q{j}" for j in range(queues)]
    views = [
        AgentView(
            f"a{i}",
            f"Agent {i}",
            AgentStatus.AVAILABLE if i % 5 else AgentStatus.PAUSED,
            "" if i % 5 else "lunch",
            AgentState.ON_CALL if i % 3 == 0 else AgentState.IDLE,
            None,
            0.0,
            0,
            tuple(names[i % queues : i % queues + 3]),
            f"PJSIP/{i}",
            False,
        )
        for i in range(agents)
    ]
    metrics = CallServerMetrics(names)
    metrics.watch(
        LiveState(
            queues=lambda: names,
            queue_load=lambda q: QueueLoad(q, 5, time.time() - 30, 2, 10),
            agents=lambda: views,
            ami_connected=lambda: True,
            writer_backlog=lambda: 0,
        )
    )
    for n in range(10_000):
        metrics.on_fact(CallEnded(str(n), START, names[n % queues], Outcome.ANSWERED, "a1", n % 90))
    started = time.perf_counter()
    size = 0
    for _ in range(scrapes):
        size = len(generate_latest(metrics.registry))
    per = (time.perf_counter() - started) / scrapes
    print(f"  /metrics with {agents} agents, {queues} queues: {per * 1000:.1f} ms per scrape, {size:,} bytes")
    return per


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.exports_bench", description=__doc__)
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--queues", type=int, default=40)
    args = ap.parse_args(argv)
    facts = day_of_facts(args.calls, args.agents, args.queues)
    rate, lines = mapper_rate(facts, args.agents, args.queues)
    print(f"  mapper: {len(facts):,} facts -> {lines:,} queue_log lines, {rate:,.0f} facts/s")
    wrote, took, count, peak = asyncio.run(export_run(facts, args.agents, args.queues))
    print(
        f"  export from SQLite: {count:,} lines in {took:.2f} s ({count / took:,.0f} lines/s), "
        f"peak Python memory {peak:.1f} MiB (the fact log's rows inserted first in {wrote:.1f} s)"
    )
    scrape_cost(args.agents, args.queues)


if __name__ == "__main__":
    main()
