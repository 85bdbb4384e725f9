"""Each jurisdiction's rules, one by one, on fixed dates (holidays, time zones, DST)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from callserver.campaigns.compliance import Compliance
from callserver.campaigns.model import DAY, AttemptResult, AttemptSummary, Campaign
from callserver.campaigns.rules import (
    FR,
    UK,
    US,
    CallingHours,
    DialContext,
    MaxAttempts,
    NoRepeatAfterAbandon,
    SilenceAfterRefusal,
    rule_set,
)

NY, LA, CHI, PARIS = "America/New_York", "America/Los_Angeles", "America/Chicago", "Europe/Paris"
HOUR = 3600.0


def at(text: str, zone: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


def ctx(
    now: float, *zones: str, history: tuple[AttemptSummary, ...] = (), guaranteed: bool = False
) -> DialContext:
    return DialContext(now, "L1", "+33612345678", zones, history, guaranteed)


def hours_rule(rules_name: str) -> CallingHours:
    rule = next(r for r in rule_set(rules_name).dial_rules if isinstance(r, CallingHours))
    assert isinstance(rule, CallingHours)
    return rule


# -- United States -------------------------------------------------------------------------------


def test_us_calling_hours_open_at_eight_in_the_called_partys_time() -> None:
    rule = hours_rule("us")
    assert rule.check(ctx(at("2025-03-04T08:00", NY), NY)) is None
    refusal = rule.check(ctx(at("2025-03-04T07:59", NY), NY))
    assert refusal is not None
    assert refusal.next_at == at("2025-03-04T08:00", NY)


def test_us_calling_hours_end_at_nine_pm_and_reopen_next_morning() -> None:
    refusal = hours_rule("us").check(ctx(at("2025-03-04T21:00", NY), NY))
    assert refusal is not None
    assert refusal.next_at == at("2025-03-05T08:00", NY)


def test_us_a_west_coast_number_is_not_called_at_nine_eastern() -> None:
    refusal = hours_rule("us").check(ctx(at("2025-03-04T09:00", NY), LA))
    assert refusal is not None
    assert "America/Los_Angeles" in refusal.reason
    assert refusal.next_at == at("2025-03-04T08:00", LA)


def test_us_a_number_that_may_be_in_two_zones_waits_for_the_later_one() -> None:
    refusal = hours_rule("us").check(ctx(at("2025-03-04T08:30", NY), NY, CHI))
    assert refusal is not None
    assert refusal.next_at == at("2025-03-04T08:00", CHI)


def test_us_next_opening_is_right_across_the_spring_dst_change() -> None:
    # 9 March 2025: clocks jump from 02:00 to 03:00 in New York
    refusal = hours_rule("us").check(ctx(at("2025-03-08T22:00", NY), NY))
    assert refusal is not None
    assert refusal.next_at == at("2025-03-09T08:00", NY)
    assert refusal.next_at - at("2025-03-08T22:00", NY) == 9 * HOUR


def test_us_rules_ask_for_15_s_ring_2_s_connect_3_percent_over_30_days_and_a_message() -> None:
    assert US.min_ring == 15.0
    assert US.connect_within == 2.0
    assert US.abandon is not None
    assert (US.abandon.cap, US.abandon.window) == (0.03, 30 * DAY)
    assert US.info_message


def test_us_campaign_with_short_ring_or_no_caller_name_may_not_run() -> None:
    problems = US.check_campaign(Campaign(name="c", ring_timeout=10.0, caller_id="+12025550100"))
    assert any("ring_timeout" in p for p in problems)
    assert any("caller_name" in p for p in problems)
    ok = Campaign(name="c", ring_timeout=20.0, caller_id="+12025550100", caller_name="Acme")
    assert US.check_campaign(ok) == []


# -- United Kingdom ------------------------------------------------------------------------------


def abandoned(when: float, number: str = "+33612345678") -> AttemptSummary:
    return AttemptSummary(when, number, AttemptResult.ABANDONED, abandoned=True)


def test_uk_no_repeat_call_within_72_hours_of_an_abandoned_one() -> None:
    rule = NoRepeatAfterAbandon(72 * HOUR)
    now = at("2025-03-04T12:00", "Europe/London")
    refusal = rule.check(ctx(now, "Europe/London", history=(abandoned(now - 71 * HOUR),)))
    assert refusal is not None
    assert refusal.next_at == now + HOUR
    assert rule.check(ctx(now, "Europe/London", history=(abandoned(now - 73 * HOUR),))) is None


def test_uk_repeat_call_allowed_when_an_agent_is_guaranteed() -> None:
    now = 1_000_000.0
    history = (abandoned(now - HOUR),)
    assert (
        NoRepeatAfterAbandon(72 * HOUR).check(ctx(now, "Europe/London", history=history, guaranteed=True))
        is None
    )


def test_uk_abandon_on_another_number_of_the_lead_does_not_block_this_one() -> None:
    now = 1_000_000.0
    history = (abandoned(now - HOUR, number="+447700900123"),)
    assert NoRepeatAfterAbandon(72 * HOUR).check(ctx(now, "Europe/London", history=history)) is None


def test_uk_cap_is_3_percent_per_24_hours_with_amd_false_positives() -> None:
    assert UK.abandon is not None
    assert (UK.abandon.cap, UK.abandon.window, UK.abandon.include_amd_false_positives) == (0.03, DAY, True)
    assert UK.info_message
    assert any(isinstance(r, NoRepeatAfterAbandon) for r in UK.dial_rules)


# -- France -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "opens"),
    [
        ("2025-03-04T09:59", "2025-03-04T10:00"),  # Tuesday, before the morning window
        ("2025-03-04T13:00", "2025-03-04T14:00"),  # lunch break
        ("2025-03-04T20:00", "2025-03-05T10:00"),  # evening
        ("2025-03-08T11:00", "2025-03-10T10:00"),  # Saturday -> Monday
        ("2025-03-09T15:00", "2025-03-10T10:00"),  # Sunday
        ("2025-04-21T11:00", "2025-04-22T10:00"),  # Easter Monday
        ("2025-05-29T11:00", "2025-05-30T10:00"),  # Ascension Thursday
        ("2025-06-09T11:00", "2025-06-10T10:00"),  # Whit Monday
        ("2025-07-14T11:00", "2025-07-15T10:00"),  # Bastille Day
        ("2025-12-25T11:00", "2025-12-26T10:00"),  # Christmas
    ],
)
def test_france_refuses_outside_weekday_windows_and_on_public_holidays(local: str, opens: str) -> None:
    refusal = hours_rule("fr").check(ctx(at(local, PARIS), PARIS))
    assert refusal is not None
    assert refusal.next_at == at(opens, PARIS)


@pytest.mark.parametrize(
    "local", ["2025-03-04T10:00", "2025-03-04T12:59", "2025-03-04T14:00", "2025-03-07T19:59"]
)
def test_france_allows_inside_the_windows(local: str) -> None:
    assert hours_rule("fr").check(ctx(at(local, PARIS), PARIS)) is None


def test_france_easter_based_holidays_move_with_easter() -> None:
    # Easter 2026 is 5 April: Easter Monday 6 April, Ascension 14 May, Whit Monday 25 May
    rule = hours_rule("fr")
    for day in ("2026-04-06", "2026-05-14", "2026-05-25"):
        assert rule.check(ctx(at(f"{day}T11:00", PARIS), PARIS)) is not None
    assert rule.check(ctx(at("2026-04-21T11:00", PARIS), PARIS)) is None  # a plain Tuesday


def attempt(when: float, refusal: bool = False) -> AttemptSummary:
    return AttemptSummary(when, "+33612345678", AttemptResult.NO_ANSWER, abandoned=False, refusal=refusal)


def test_france_at_most_four_attempts_in_thirty_days() -> None:
    rule = MaxAttempts(4, 30 * DAY)
    now = 100 * DAY
    three = tuple(attempt(now - d * DAY) for d in (1, 5, 20))
    assert rule.check(ctx(now, PARIS, history=three)) is None
    four = (attempt(now - 29 * DAY), *three)
    refusal = rule.check(ctx(now, PARIS, history=four))
    assert refusal is not None
    assert refusal.next_at == now + DAY  # when the oldest leaves the 30 days
    old = (attempt(now - 31 * DAY), *three)
    assert rule.check(ctx(now, PARIS, history=old)) is None


def test_france_sixty_days_of_silence_after_a_refusal() -> None:
    rule = SilenceAfterRefusal(60 * DAY)
    now = 200 * DAY
    refusal = rule.check(ctx(now, PARIS, history=(attempt(now - 59 * DAY, refusal=True),)))
    assert refusal is not None
    assert refusal.next_at == now + DAY
    assert rule.check(ctx(now, PARIS, history=(attempt(now - 61 * DAY, refusal=True),))) is None


def test_france_rule_set_has_its_three_dial_rules_and_no_legal_cap() -> None:
    kinds = {type(r) for r in FR.dial_rules}
    assert kinds == {CallingHours, MaxAttempts, SilenceAfterRefusal}
    assert FR.abandon is None


def test_verdict_finds_the_first_moment_every_rule_allows() -> None:
    # four attempts: the oldest leaves the 30 days on Saturday 8 March at noon; the window opens Monday
    compliance = Compliance(Campaign(name="c"), FR)
    saturday_noon = at("2025-03-08T12:00", PARIS)
    history = tuple(attempt(saturday_noon - 30 * DAY + i * HOUR) for i in range(4))
    now = at("2025-03-04T11:00", PARIS)
    verdict = compliance.verdict(ctx(now, PARIS, history=history))
    assert not verdict.allowed
    assert [r.rule for r in verdict.refusals] == ["max_attempts"]
    assert verdict.next_at == at("2025-03-10T10:00", PARIS)


def test_campaign_windows_apply_on_top_of_the_law() -> None:
    from callserver.campaigns.model import CallingWindows, TimeWindow

    campaign = Campaign(name="c", windows=CallingWindows.every_day(TimeWindow("09:00", "17:00")))
    compliance = Compliance(campaign, US)
    verdict = compliance.verdict(ctx(at("2025-03-04T08:30", NY), NY))
    assert [r.rule for r in verdict.refusals] == ["campaign_hours"]
    assert verdict.next_at == at("2025-03-04T09:00", NY)


def test_unknown_rule_set_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="'xx'"):
        rule_set("xx")
