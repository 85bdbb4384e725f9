"""Erlang B and C against values published in traffic tables and worked examples."""

from __future__ import annotations

import math

import pytest

from callserver.capacity import erlang


@pytest.mark.parametrize(
    ("c", "a", "blocking"),
    # classic Erlang B table: the load that c trunks carry at a given grade of service
    [
        (1, 0.0101, 0.01),
        (10, 4.461, 0.01),
        (20, 12.031, 0.01),
        (10, 5.084, 0.02),
        (10, 5.529, 0.03),
        (50, 37.901, 0.01),
    ],
)
def test_erlang_b_matches_the_traffic_table(c: int, a: float, blocking: float) -> None:
    assert erlang.erlang_b(c, a) == pytest.approx(blocking, rel=2e-3)


def test_erlang_c_small_cases_in_closed_form() -> None:
    assert erlang.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang.erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_call_centre_worked_example() -> None:
    """200 calls an hour of 180 s (10 Erlangs), target 80 % answered within 20 s."""
    a = erlang.offered_load(200, 180)
    assert a == pytest.approx(10.0)
    assert erlang.agents_required(a, 180, 20, 0.8) == 14
    assert erlang.erlang_c(14, a) == pytest.approx(0.1741, abs=1e-4)
    assert erlang.service_level(14, a, 180, 20) == pytest.approx(0.8883, abs=1e-4)
    assert erlang.average_speed_of_answer(14, a, 180) == pytest.approx(7.84, abs=0.01)
    assert erlang.service_level(13, a, 180, 20) < 0.8
    assert erlang.occupancy(14, a) == pytest.approx(10 / 14)


def test_large_centres_stay_finite_and_monotone() -> None:
    previous = 1.0
    for c in range(4_901, 5_100, 20):
        p = erlang.erlang_c(c, 4_900.0)
        assert 0.0 < p < previous
        previous = p
    assert math.isfinite(erlang.average_speed_of_answer(5_000, 4_900.0, 300))


def test_overloaded_queue_always_waits() -> None:
    assert erlang.erlang_c(10, 10.0) == 1.0
    assert erlang.service_level(10, 12.0, 180, 20) == 0.0
    assert erlang.average_speed_of_answer(10, 10.0, 180) == math.inf


def test_service_level_with_zero_threshold_is_the_chance_of_not_waiting() -> None:
    assert erlang.service_level(12, 9.0, 200, 0) == pytest.approx(1 - erlang.erlang_c(12, 9.0))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        erlang.erlang_b(-1, 1.0)
    with pytest.raises(ValueError):
        erlang.agents_required(5.0, 180, 20, 1.0)
