"""What each follower of the fact bus costs a call, the facts replayed in one process.

Every fact the ACD publishes goes, synchronously and on the event loop, to each subscriber of the
bus (`app.py`): the server log's line, the queue_log file, the live book of the supervisor tiles,
the report fold, the live channel's message for the agent's browser, and the fact writer's queue.
End to end they add up to a fifth of a call's CPU, but there each is a few per cent of a profile
spread over dozens of functions. Here each is fed the same stream alone, so a change to one shows
in its own figure rather than inside the end-to-end bench's noise.

Workload: AGENTS agents logged in and available, one queue, a call every 1/RATE seconds handed to
the next agent: queued, offered (the agent's phone rings), answered 60 ms later, ended after 1 s of
talk, the agent idle again; the seven facts a call of the end-to-end bench publishes, in the order
the server publishes them, with calls overlapping. Each follower is built as the server builds it
(the log line at INFO to a file in the format `callserver run` uses, the queue_log file on disk)
and gets the whole stream; ROUNDS rounds, each follower fresh each round, the rounds' median.

Printed: µs of CPU (the process's, so the log's and queue_log's system calls count) a call and a
fact for each follower, then for all of them in turn, as the bus runs them.

Command: `.venv/bin/python -m bench.fact_consumers_bench` (`--calls 20000 --rounds 7`).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from callserver.acd.metrics import live_book
from callserver.facts.describe import fact_logger
from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    Fact,
    Outcome,
)
from callserver.queuelog.mapper import QueueLogMapper
from callserver.queuelog.writer import QueueLogFile, QueueLogWriter
from callserver.reports.fold import ReportFold
from callserver.web.messages import live_event

START = 1_764_576_000.0
AGENTS = 400
RATE = 100.0  # calls a second
QUEUE = "support"
RING = 0.06
TALK = 1.0
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"  # as `callserver run` logs

Follower = Callable[[Fact], None]


def call_facts(calls: int, agents: int = AGENTS) -> list[Fact]:
    """The logins, then each call's seven facts, merged in time order (stable: a call's facts that
    share a moment stay in the order the server publishes them)."""
    timed: list[tuple[float, int, Fact]] = []
    for i in range(agents):
        timed.append((START, len(timed), AgentStatusChanged(f"a{i}", START, "available", "")))
    for n in range(calls):
        at = START + 1 + n / RATE
        call, agent = f"{int(at)}.{n}", f"a{n % agents}"
        caller = f"+3314{n % 10_000:07d}"
        answered, ended = at + RING, at + RING + TALK
        for when, fact in (
            (at, CallQueued(call, at, QUEUE, f"PJSIP/trunk-{n:08x}", caller, "", "500")),
            (at, AgentStateChanged(agent, at, "idle", "ringing", call, None)),
            (at, CallOffered(call, at, QUEUE, agent, f"cs-{n}", 1)),
            (answered, AgentStateChanged(agent, answered, "ringing", "on_call", call, None)),
            (answered, CallAnswered(call, answered, QUEUE, agent, RING)),
            (ended, CallEnded(call, ended, QUEUE, Outcome.ANSWERED, agent, RING)),
            (ended, AgentStateChanged(agent, ended, "on_call", "idle", None, None)),
        ):
            timed.append((when, len(timed), fact))
    timed.sort(key=lambda t: (t[0], t[1]))
    return [fact for _, _, fact in timed]


def followers(tmp: Path, agents: int) -> Iterator[tuple[str, Callable[[], Follower]]]:
    """Each follower as `app.py` subscribes it, made afresh for each round."""
    agent_queues = {f"a{i}": [QUEUE] for i in range(agents)}
    log = logging.getLogger("callserver.bench.facts")
    handler = logging.FileHandler(tmp / "server.log")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    yield "log line", lambda: fact_logger(log)

    def queue_log() -> Follower:
        path = tmp / "queue_log"
        path.unlink(missing_ok=True)
        return QueueLogWriter(QueueLogMapper(agent_queues), QueueLogFile(path)).on_fact

    yield "queue_log file", queue_log
    yield "live book", lambda: live_book([QUEUE], agent_queues=agent_queues, service_time=20.0).apply
    yield "report fold", lambda: ReportFold([QUEUE], agent_queues=agent_queues, service_time=20.0).apply

    def live_message() -> Follower:
        def follow(fact: Fact) -> None:
            live_event(fact)

        return follow

    yield "live message", live_message


def in_turn(follows: list[Follower]) -> Follower:
    """Every follower in turn for each fact, as the bus runs them."""

    def follow_all(fact: Fact) -> None:
        for follow in follows:
            follow(fact)

    return follow_all


def timed(follow: Follower, facts: list[Fact]) -> float:
    """CPU seconds of the process to feed every fact to `follow`."""
    start = time.process_time()
    for fact in facts:
        follow(fact)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.fact_consumers_bench", description=__doc__)
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    facts = call_facts(args.calls)
    print(
        f"fact bus followers: {args.calls:,} calls ({len(facts):,} facts, {AGENTS} agents logged in), "
        f"median of {args.rounds} rounds"
    )
    print(" follower          µs a call  µs a fact")
    with tempfile.TemporaryDirectory(prefix="fact_consumers") as tmp:
        makers = list(followers(Path(tmp), AGENTS))
        seconds: dict[str, list[float]] = {name: [] for name, _ in makers}
        seconds["all of them"] = []
        for _ in range(args.rounds):
            for name, make in makers:
                seconds[name].append(timed(make(), facts))
            seconds["all of them"].append(timed(in_turn([make() for _, make in makers]), facts))
        for name, runs in seconds.items():
            median = statistics.median(runs)
            print(f" {name:16s} {median / args.calls * 1e6:10.1f} {median / len(facts) * 1e6:10.2f}")


if __name__ == "__main__":
    main()
