"""Jurisdiction rule sets as data: each rule one small object that can be checked on its own.

Dial rules answer "may this lead be dialled now, and if not, why and from when"; the other rules are
parameters the engine and pacer obey (abandon cap and its window, the seconds allowed to connect a
person, the minimum ring time, the information message). `docs/campaigns.md` cites the texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from .model import DAY, AttemptSummary, CallingWindows, Campaign, TimeWindow

HOUR = 3600.0
# how far ahead `next_at` looks for an opening of a calling window (a long holiday run is < 2 weeks)
SEARCH_DAYS = 21


@dataclass(frozen=True, slots=True)
class DialContext:
    """Everything a dial rule may look at: one lead, one number, the clock, the lead's past."""

    now: float  # epoch seconds (UTC)
    lead_id: str
    number: str
    time_zones: tuple[str, ...]
    history: Sequence[AttemptSummary] = ()
    agent_guaranteed: bool = False  # an agent is reserved for this very call (progressive, preview)


@dataclass(frozen=True, slots=True)
class Refusal:
    rule: str
    reason: str
    next_at: float | None  # the earliest moment this rule would allow it; None: never


class DialRule(Protocol):
    @property
    def name(self) -> str: ...

    def check(self, ctx: DialContext) -> Refusal | None: ...


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=16)
def _holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country)


def is_public_holiday(country: str, day: date) -> bool:
    return day in _holidays(country)


@dataclass(frozen=True, slots=True)
class CallingHours:
    """Dial only inside `windows`, in the called party's local time, in every zone they may be in."""

    windows: CallingWindows
    name: str = "calling_hours"

    def open_at(self, zone: str, now: float) -> bool:
        local = datetime.fromtimestamp(now, _zone(zone))
        day = local.date()
        if self.windows.skip_public_holidays and is_public_holiday(self.windows.skip_public_holidays, day):
            return False
        minute = local.hour * 60 + local.minute + local.second / 60.0
        for window in self.windows.days.get(local.weekday(), ()):
            start, end = window.minutes()
            if start <= minute < end:
                return True
        return False

    def _openings(self, zone: str, now: float) -> list[float]:
        tz = _zone(zone)
        first = datetime.fromtimestamp(now, tz).date()
        out = []
        for offset in range(SEARCH_DAYS):
            day = first + timedelta(days=offset)
            for window in self.windows.days.get(day.weekday(), ()):
                start, _ = window.minutes()
                at = datetime.combine(day, time(start // 60, start % 60), tzinfo=tz).timestamp()
                if at > now:
                    out.append(at)
        return out

    def check(self, ctx: DialContext) -> Refusal | None:
        closed = [z for z in ctx.time_zones if not self.open_at(z, ctx.now)]
        if not closed:
            return None
        candidates = sorted({t for z in ctx.time_zones for t in self._openings(z, ctx.now)})
        next_at = next(
            (t for t in candidates if all(self.open_at(z, t) for z in ctx.time_zones)),
            None,
        )
        return Refusal(self.name, f"outside calling hours in {', '.join(closed)}", next_at)


@dataclass(frozen=True, slots=True)
class MaxAttempts:
    """At most `max_attempts` dials of one person within any `period` seconds."""

    max_attempts: int
    period: float
    name: str = "max_attempts"

    def check(self, ctx: DialContext) -> Refusal | None:
        recent = sorted(a.at for a in ctx.history if a.at > ctx.now - self.period)
        if len(recent) < self.max_attempts:
            return None
        # allowed again once enough of the counted attempts have left the period
        next_at = recent[len(recent) - self.max_attempts] + self.period
        return Refusal(
            self.name,
            f"{len(recent)} attempts in the last {self.period / DAY:g} days (at most {self.max_attempts})",
            next_at,
        )


@dataclass(frozen=True, slots=True)
class SilenceAfterRefusal:
    """A person who refused is not called again for `period` seconds."""

    period: float
    name: str = "silence_after_refusal"

    def check(self, ctx: DialContext) -> Refusal | None:
        refusals = [a.at for a in ctx.history if a.refusal]
        if not refusals or max(refusals) + self.period <= ctx.now:
            return None
        return Refusal(
            self.name, f"refused {(ctx.now - max(refusals)) / DAY:.1f} days ago", max(refusals) + self.period
        )


@dataclass(frozen=True, slots=True)
class NoRepeatAfterAbandon:
    """A number whose call was abandoned is not called again within `period`, unless an agent is
    guaranteed for the repeat call."""

    period: float
    unless_agent_guaranteed: bool = True
    name: str = "no_repeat_after_abandon"

    def check(self, ctx: DialContext) -> Refusal | None:
        if self.unless_agent_guaranteed and ctx.agent_guaranteed:
            return None
        dropped = [a.at for a in ctx.history if a.abandoned and a.number == ctx.number]
        if not dropped or max(dropped) + self.period <= ctx.now:
            return None
        return Refusal(
            self.name,
            f"abandoned {(ctx.now - max(dropped)) / HOUR:.1f} h ago; repeat only with an agent reserved",
            max(dropped) + self.period,
        )


@dataclass(frozen=True, slots=True)
class AbandonCap:
    """At most `cap` of live-answered calls abandoned, per campaign, over a sliding `window`."""

    cap: float
    window: float
    include_amd_false_positives: bool = True


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str
    title: str
    dial_rules: tuple[DialRule, ...] = ()
    abandon: AbandonCap | None = None
    connect_within: float | None = None  # seconds from the end of the greeting to an agent
    min_ring: float | None = None  # seconds an unanswered call must ring before we give up
    info_message: bool = False  # a dropped call hears who called and a number to call back
    sources: tuple[str, ...] = field(default=())

    def check_campaign(self, campaign: Campaign) -> list[str]:
        """Settings of a campaign this rule set forbids, one line each (empty when it may run)."""
        problems = []
        if self.min_ring is not None and campaign.ring_timeout < self.min_ring:
            problems.append(
                f"ring_timeout: {campaign.ring_timeout:g} s is shorter than the {self.min_ring:g} s"
                f" the {self.title} rules require"
            )
        if self.info_message and (not campaign.caller_id or not campaign.caller_name):
            problems.append(
                "caller_id/caller_name: the information message must give the caller's name and number"
            )
        target = campaign.abandon_target
        if self.abandon is not None and target is not None and target > self.abandon.cap:
            problems.append(f"abandon_target: {target:.1%} is above the legal cap of {self.abandon.cap:.1%}")
        return problems


def _hours(start: str, end: str) -> TimeWindow:
    return TimeWindow(start, end)


US = RuleSet(
    name="us",
    title="United States (FTC TSR, FCC)",
    dial_rules=(CallingHours(CallingWindows.every_day(_hours("08:00", "21:00"))),),
    abandon=AbandonCap(cap=0.03, window=30 * DAY, include_amd_false_positives=True),
    connect_within=2.0,
    min_ring=15.0,
    info_message=True,
    sources=("16 CFR 310.4(b)(1)(iv), 310.4(b)(4), 310.4(c)", "47 CFR 64.1200(a)(7), 64.1200(c)(1)"),
)

UK = RuleSet(
    name="uk",
    title="United Kingdom (Ofcom)",
    dial_rules=(NoRepeatAfterAbandon(period=72 * HOUR),),
    abandon=AbandonCap(cap=0.03, window=DAY, include_amd_false_positives=True),
    connect_within=2.0,
    min_ring=15.0,
    info_message=True,
    sources=(
        "Communications Act 2003, ss. 128-131",
        "Ofcom, Persistent Misuse: statement of general policy (20 December 2016, from 1 March 2017),"
        " Annexes 1-3",
    ),
)

FR = RuleSet(
    name="fr",
    title="France (décret 2022-1313)",
    dial_rules=(
        CallingHours(
            CallingWindows.weekdays(_hours("10:00", "13:00"), _hours("14:00", "20:00"), holidays="FR")
        ),
        MaxAttempts(max_attempts=4, period=30 * DAY),
        SilenceAfterRefusal(period=60 * DAY),
    ),
    abandon=None,
    sources=(
        "Code de la consommation, art. L. 223-1 and D. 223-9 (décret n° 2022-1313 du 13 octobre 2022,"
        " in force 1 March 2023)",
        "Code du travail, art. L. 3133-1 (public holidays)",
    ),
)

NONE = RuleSet(name="none", title="no jurisdiction rules (internal or test campaigns)")

RULE_SETS: dict[str, RuleSet] = {r.name: r for r in (US, UK, FR, NONE)}


def rule_set(name: str) -> RuleSet:
    try:
        return RULE_SETS[name]
    except KeyError:
        raise KeyError(f"unknown jurisdiction rule set {name!r} (known: {', '.join(RULE_SETS)})") from None
