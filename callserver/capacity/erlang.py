"""Erlang B and Erlang C: the M/M/c formulas used to staff a queue and to check the simulator.

Offered load `a` is in Erlangs (arrival rate x average handle time); `c` is the number of agents.
Erlang C is computed from the Erlang B recursion, which never forms a factorial or a large power and
so stays exact to float precision for thousands of agents.
"""

from __future__ import annotations

import math


def offered_load(calls_per_hour: float, aht: float) -> float:
    """Erlangs offered by `calls_per_hour` calls of `aht` seconds each."""
    return calls_per_hour * aht / 3600.0


def erlang_b(c: int, a: float) -> float:
    """Blocking probability with `c` servers and no queue (Erlang B), by the stable recursion."""
    if c < 0 or a < 0:
        raise ValueError(f"need c >= 0 and a >= 0, got c={c}, a={a}")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that a caller has to wait (Erlang C); 1.0 when the load reaches the agents."""
    if c <= 0 or a >= c:
        return 1.0
    if a == 0:
        return 0.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def service_level(c: int, a: float, aht: float, t: float) -> float:
    """P(wait <= t) in M/M/c: 1 - C * exp(-(c - a) * t / aht); 0 when the queue is unstable."""
    if c <= a:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c - a) * t / aht)


def average_speed_of_answer(c: int, a: float, aht: float) -> float:
    """Mean wait over all callers (those served at once count as 0): C * aht / (c - a)."""
    if c <= a:
        return math.inf
    return erlang_c(c, a) * aht / (c - a)


def occupancy(c: int, a: float) -> float:
    """Share of staffed time the agents spend handling calls, a / c (capped at 1)."""
    return min(1.0, a / c) if c > 0 else 1.0


def agents_required(a: float, aht: float, t: float, target: float, *, max_agents: int = 100_000) -> int:
    """Fewest agents whose service level P(wait <= t) reaches `target` (a fraction, 0..1)."""
    if not 0.0 <= target < 1.0:
        raise ValueError(f"target service level must be in [0, 1), got {target}")
    c = max(1, math.floor(a) + 1)
    while service_level(c, a, aht, t) < target:
        c += 1
        if c > max_agents:
            raise ValueError(f"more than {max_agents} agents needed for {a} Erlangs")
    return c
