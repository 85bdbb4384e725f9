"""The definitions of the call-centre figures (docs/metrics.md), each checked on hand-counted calls."""

from __future__ import annotations

import pytest

from callserver.figures import (
    CallCounts,
    abandon_rate,
    add,
    answered_in_time,
    average_handle_time,
    average_speed_of_answer,
    call_stats,
    is_short_abandon,
    service_level,
    service_level_with_abandons,
)

# 10 offered, 2 more overflowed in, 1 sent on to another queue; 8 answered (6 within T),
# 1 real abandon, 1 short abandon, 1 timed out
MORNING = CallCounts(
    offered=10,
    overflowed_in=2,
    overflowed_out=1,
    answered=8,
    answered_in_time=6,
    abandoned=1,
    short_abandoned=1,
    timed_out=1,
    wait_answered=96.0,
    handled=7,
    handle_time=7 * 240.0,
)


def test_the_threshold_itself_is_within_service_time_and_not_a_short_abandon() -> None:
    assert answered_in_time(20.0, 20.0) and not answered_in_time(20.001, 20.0)
    assert is_short_abandon(4.999, 5.0) and not is_short_abandon(5.0, 5.0)


def test_service_level_is_over_the_answered_calls() -> None:
    assert service_level(MORNING) == pytest.approx(6 / 8)


def test_stricter_service_level_counts_abandons_and_time_outs_but_not_short_abandons() -> None:
    assert service_level_with_abandons(MORNING) == pytest.approx(6 / (8 + 1 + 1))


def test_abandon_rate_is_over_the_calls_the_queue_kept() -> None:
    # 10 offered + 2 overflowed in - 1 sent on - 1 short abandon = 10 calls this queue had to serve
    assert abandon_rate(MORNING) == pytest.approx(1 / 10)


def test_asa_and_aht_are_means_over_their_own_calls() -> None:
    assert average_speed_of_answer(MORNING) == pytest.approx(96 / 8)
    assert average_handle_time(MORNING) == pytest.approx(240.0)  # the call still talking waits


def test_nothing_counted_is_no_figure_rather_than_zero_or_a_hundred_percent() -> None:
    stats = call_stats(CallCounts(offered=1, short_abandoned=1))
    assert (stats.service_level, stats.service_level_with_abandons, stats.abandon_rate) == (None, None, None)
    assert (stats.asa, stats.aht, stats.occupancy) == (None, None, None)


def test_occupancy_only_when_agent_time_is_given() -> None:
    assert call_stats(MORNING).occupancy is None
    assert call_stats(MORNING, busy=1800.0, staffed=3600.0).occupancy == pytest.approx(0.5)


def test_periods_add_up_count_by_count() -> None:
    day = add(MORNING, MORNING)
    assert (day.offered, day.answered_in_time, day.handle_time) == (20, 12, 2 * 7 * 240.0)
    assert service_level(day) == service_level(MORNING)


def test_service_level_variants_differ_by_their_base_only() -> None:
    from callserver.figures import (
        ServiceLevelVariant,
        service_level_as,
        service_level_over_offered,
        service_level_over_offered_minus_short,
    )

    # offered 10 + 2 in - 1 out = 11 the queue saw; minus 1 short abandon = 10 it kept
    assert service_level_over_offered(MORNING) == pytest.approx(6 / 11)
    assert service_level_over_offered_minus_short(MORNING) == pytest.approx(6 / 10)
    chosen = {v: service_level_as(v, MORNING) for v in ServiceLevelVariant}
    assert chosen == pytest.approx(
        {
            ServiceLevelVariant.ANSWERED: 6 / 8,
            ServiceLevelVariant.WITH_ABANDONS: 6 / 10,
            ServiceLevelVariant.OFFERED: 6 / 11,
            ServiceLevelVariant.OFFERED_MINUS_SHORT: 6 / 10,
        }
    )
    assert service_level_over_offered(CallCounts()) is None
    # only short abandons: nothing kept, no figure (not 0 %)
    assert service_level_over_offered_minus_short(CallCounts(offered=2, short_abandoned=2)) is None


def test_longest_wait_of_two_periods_is_the_longer_not_the_sum() -> None:
    both = add(CallCounts(longest_wait=40.0, transferred=1), CallCounts(longest_wait=95.5, callbacks=2))
    assert (both.longest_wait, both.transferred, both.callbacks) == (95.5, 1, 2)


def test_utilisation_counts_pauses_in_its_base_and_occupancy_does_not() -> None:
    from callserver.figures import AgentTime, add_time, availability, occupancy, utilisation

    # 8 h logged in: 6 h ready, 1 h paused, 1 h paused while finishing calls (staffed, busy)
    day = AgentTime(logged_in=8 * 3600, ready=6 * 3600, paused=2 * 3600, staffed=7 * 3600, busy=4 * 3600)
    assert occupancy(day.busy, day.staffed) == pytest.approx(4 / 7)
    assert utilisation(day) == pytest.approx(4 / 8)
    assert availability(day) == pytest.approx(6 / 8)
    assert utilisation(AgentTime()) is None and availability(AgentTime()) is None
    assert add_time(day, day).logged_in == 16 * 3600
