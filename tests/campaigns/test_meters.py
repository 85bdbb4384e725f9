"""The abandon meter's sliding windows and the trunks' dial rate."""

from __future__ import annotations

import pytest

from callserver.campaigns.abandon import AbandonMeter
from callserver.campaigns.model import DAY
from callserver.campaigns.trunks import TrunkLimiter


def test_the_24_hour_window_forgets_what_the_30_day_window_keeps() -> None:
    meter = AbandonMeter(30 * DAY)
    for i in range(100):
        meter.live_answer(i * 60.0)
    meter.abandoned(50 * 60.0)
    meter.abandoned(51 * 60.0)
    later = 2 * DAY
    assert meter.counts(later, DAY).live == 0
    month = meter.counts(later, 30 * DAY)
    assert (month.live, month.abandoned) == (100, 2)
    assert month.rate == pytest.approx(0.02)
    assert month.headroom(0.03) == pytest.approx(1.0)
    assert meter.counts(31 * DAY + 7000.0, 30 * DAY).live == 0


def test_amd_false_positive_estimates_count_as_live_and_abandoned() -> None:
    meter = AbandonMeter(DAY)
    for _ in range(98):
        meter.live_answer(0.0)
    meter.false_positives(0.0, 2.0)
    counts = meter.counts(10.0, DAY)
    assert (counts.live, counts.abandoned, counts.false_positives) == (100, 2, 2)
    assert counts.rate == pytest.approx(0.02)


def test_trunk_allows_its_rate_and_says_when_the_next_dial_may_start() -> None:
    trunks = TrunkLimiter({"t1": 2.0})
    assert trunks.take("t1", 0.0, 5) == 2
    assert trunks.take("t1", 0.0, 1) == 0
    assert trunks.next_token_at("t1", 0.0) == pytest.approx(0.5)
    assert trunks.take("t1", 0.5, 5) == 1
    assert trunks.take("other", 0.5, 50) == 10  # the default rate
