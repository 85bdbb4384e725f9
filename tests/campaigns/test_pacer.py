"""Pacer properties: the near-future model, and on simulated days (hypothesis) the guarantees:
progressive never abandons, lines per agent never pass the maximum, the cap holds over the window."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callserver.campaigns.capacity import OutboundScenario, simulate_day
from callserver.campaigns.forecast import AgentView, Forecaster, LineView, expected_excess, outlook
from callserver.campaigns.model import DialMode
from callserver.campaigns.pacer import PredictiveSettings
from callserver.campaigns.stats import Fate, PacingStats, Prior

# derandomized: a day takes seconds, so a fixed set of examples keeps the suite stable and bounded
SIM = settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def binomial_excess(n: int, p: float, free: int) -> float:
    return sum((d - free) * math.comb(n, d) * p**d * (1 - p) ** (n - d) for d in range(free + 1, n + 1))


@pytest.mark.parametrize(("n", "p", "free"), [(6, 0.3, 3), (20, 0.3, 5), (40, 0.55, 20)])
def test_expected_excess_is_close_to_the_exact_binomial(n: int, p: float, free: int) -> None:
    approx = expected_excess(n * p - free, n * p * (1 - p))
    assert approx == pytest.approx(binomial_excess(n, p, free), abs=0.03)


def forecaster() -> Forecaster:
    stats = PacingStats(Prior.for_campaign(amd=True), refresh_every=1)
    for i in range(300):
        stats.dial_fate(Fate(i % 4), 5.0 + i % 20)
        stats.call_handled(120.0 + i % 60, 20.0 + i % 15)
        stats.amd_decision(i % 2 == 0, 2.0 + (i % 3))
    stats.refresh(force=True)
    return Forecaster(stats, horizon=35, grace=1.0)


def test_curves_are_cumulative_probabilities() -> None:
    fc = forecaster()
    curves = [
        fc.new_line()[0],
        fc.ringing(12.0)[0],
        fc.answered(1.0)[0],
        fc.agent(AgentView(False, 150.0))[0],
        fc.agent(AgentView(True, 10.0, 140.0))[0],
    ]
    for curve in curves:
        assert all(0.0 <= c <= 1.0 for c in curve)
        assert all(b >= a - 1e-12 for a, b in itertools.pairwise(curve))
    # a line still ringing after 30 s is less likely to bring a person than a fresh one
    assert fc.ringing(30.0)[0][-1] < fc.new_line()[0][-1]


def test_more_lines_mean_more_expected_abandons() -> None:
    fc = forecaster()
    look = outlook(
        fc,
        free=2,
        waiting=0,
        lines=[LineView(False, 3.0)] * 4,
        agents=[AgentView(True, 15.0, 150.0), AgentView(False, 170.0)],
    )
    values = [look.abandons(k) for k in range(0, 30, 3)]
    assert all(b >= a for a, b in itertools.pairwise(values))
    assert values[0] < 0.2 < values[-1]


@SIM
@given(seed=st.integers(0, 10_000), agents=st.integers(1, 12), amd=st.booleans())
def test_progressive_never_abandons_a_person(seed: int, agents: int, amd: bool) -> None:
    sc = OutboundScenario(
        agents=agents, mode=DialMode.PROGRESSIVE, amd=amd, amd_false_positive=0.0, seed=seed, hours=0.4
    )
    result = simulate_day(sc)
    assert result.people > 0
    assert result.abandoned == 0
    assert result.measured_rate == 0.0


@SIM
@given(seed=st.integers(0, 10_000), agents=st.integers(4, 15), max_lines=st.floats(1.0, 3.0))
def test_lines_per_agent_never_pass_the_maximum(seed: int, agents: int, max_lines: float) -> None:
    sc = OutboundScenario(agents=agents, seed=seed, hours=0.4, max_lines_per_agent=max_lines)
    result = simulate_day(sc, predictive=PredictiveSettings(min_dials=10, min_agents=1))
    assert 1.0 <= result.max_lines_per_agent <= max_lines + 1e-9


@SIM
@given(seed=st.integers(0, 10_000), agents=st.integers(5, 25), amd=st.booleans())
def test_the_abandon_rate_over_the_window_stays_under_the_cap(seed: int, agents: int, amd: bool) -> None:
    sc = OutboundScenario(agents=agents, amd=amd, seed=seed, hours=1.5)
    result = simulate_day(sc)
    assert result.measured_rate <= 0.03
    assert result.occupancy > 0.5


def test_a_day_is_the_same_for_the_same_seed_and_predictive_beats_progressive() -> None:
    sc = OutboundScenario(agents=20, seed=3, hours=2.0)
    first, again = simulate_day(sc), simulate_day(sc)
    assert (first.dials, first.contacts, first.abandoned) == (again.dials, again.contacts, again.abandoned)
    progressive = simulate_day(OutboundScenario(agents=20, seed=3, hours=2.0, mode=DialMode.PROGRESSIVE))
    assert first.occupancy > progressive.occupancy + 0.03
