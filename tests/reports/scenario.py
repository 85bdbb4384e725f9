"""A morning of facts in two queues, as the engine publishes them: arrivals, answers with the
agents' states, abandons short and long, a time-out, an overflow, a transfer, a callback request,
wrap-up codes and pauses with reasons. Seeded, so every run sees the same morning."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallQueued,
    CallRequeued,
    CallTransferred,
    CallWrappedUp,
    Fact,
    Outcome,
)

START = 1_764_576_000.0  # 2025-12-01 08:00 UTC, a quarter-hour boundary
AGENTS = {"a1": ["sales", "support"], "a2": ["sales"], "a3": ["support"]}
DNIS = {"sales": "500", "support": "600"}
CODES = ("sale", "no_sale", "info")


@dataclass
class Morning:
    facts: list[Fact] = field(default_factory=list)

    def add(self, fact: Fact) -> None:
        self.facts.append(fact)


def morning(calls: int = 120, seed: int = 7, hours: float = 3.0) -> list[Fact]:
    """Facts sorted by time; agents log in at START and out at the end."""
    rng = random.Random(seed)
    timeline: list[tuple[float, int, Fact]] = []
    order = 0

    def at(fact: Fact) -> None:
        nonlocal order
        order += 1
        timeline.append((fact.at, order, fact))

    end = START + hours * 3600
    for agent in AGENTS:
        at(AgentStatusChanged(agent, START, "available", ""))
    # each agent: a pause with a reason in the middle of the morning
    for i, agent in enumerate(AGENTS):
        pause = START + 3600 + i * 700
        at(AgentStatusChanged(agent, pause, "paused", ("lunch", "break", "training")[i]))
        at(AgentStatusChanged(agent, pause + 600 + 100 * i, "available", ""))
    free = dict.fromkeys(AGENTS, START)
    arrivals = sorted(START + rng.uniform(0, hours * 3600 - 900) for _ in range(calls))
    for n, arrived in enumerate(arrivals):
        call = f"c{n}"
        queue = rng.choice(["sales", "support"])
        at(CallQueued(call, arrived, queue, f"PJSIP/trunk-{n}", f"+331400000{n:02d}", "", DNIS[queue]))
        fate = rng.choices(
            ["answered", "abandoned", "short", "timed_out", "overflow", "callback"], [14, 3, 1, 1, 1, 1]
        )[0]
        if fate == "callback":
            wait = rng.uniform(10, 40)
            at(CallbackRequested(call, arrived + wait, queue, f"+331400000{n:02d}"))
            at(CallEnded(call, arrived + wait, queue, Outcome.ABANDONED, None, wait))
            continue
        if fate in ("abandoned", "short", "timed_out"):
            wait = rng.uniform(0.5, 4.5) if fate == "short" else rng.uniform(6, 120)
            outcome = Outcome.TIMED_OUT if fate == "timed_out" else Outcome.ABANDONED
            at(CallEnded(call, arrived + wait, queue, outcome, None, wait))
            continue
        target = queue
        if fate == "overflow":
            target = "support" if queue == "sales" else "sales"
            at(CallRequeued(call, arrived + 30, queue, target))
        agents = [a for a, qs in AGENTS.items() if target in qs]
        agent = min(agents, key=lambda a: free[a])
        ring = max(arrived + (31 if fate == "overflow" else 0), free[agent]) + rng.uniform(0, 5)
        if ring > end - 600:
            at(CallEnded(call, arrived + 60, queue, Outcome.ABANDONED, None, 60.0))
            continue
        answer = ring + rng.uniform(2, 10)
        wait = answer - arrived
        talk = rng.uniform(30, 150)
        wrapped = answer + talk + rng.uniform(5, 30)
        at(AgentStateChanged(agent, ring, "idle", "ringing", call))
        at(CallAnswered(call, answer, target, agent, wait))
        at(AgentStateChanged(agent, answer, "ringing", "on_call", call))
        if n % 10 == 3:
            at(CallTransferred(call, answer + talk / 2, agent, "blind", "+33199999999"))
        at(CallEnded(call, answer + talk, target, Outcome.ANSWERED, agent, wait))
        at(AgentStateChanged(agent, answer + talk, "on_call", "wrapup", call))
        at(CallWrappedUp(call, wrapped - 1, agent, rng.choice(CODES), "", agent))
        at(AgentStateChanged(agent, wrapped, "wrapup", "idle", None))
        free[agent] = wrapped + 1
    for agent in AGENTS:
        at(AgentStatusChanged(agent, max(end, free[agent]), "logged_out", ""))
    timeline.sort(key=lambda item: (item[0], item[1]))
    return [fact for _, _, fact in timeline]
