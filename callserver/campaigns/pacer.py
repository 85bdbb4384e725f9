"""Pacers: how many lines to dial now. Progressive (one reserved line per free agent) and
callserver's predictive pacer, which models the next seconds instead of reacting to the past.

The predictive pacer has two loops. The inner one, every tick, picks the largest number of new
lines whose expected abandons over the horizon stay under a share `alpha` of the people expected to
need an agent there (forecast.py). The outer one sets `alpha` from the abandon budget left in the
legal window: what the cap allows on the live answers counted so far plus those expected over the
planning period, minus the abandons already counted and the AMD false positives still to come. A
guard falls back to progressive (no abandons by construction) when the window's rate comes near the
cap, when the budget is spent, or when the team is too small; the engine shows it as a mode change.
The engine applies the hard limits on top (lines per agent, dials per second per trunk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from .abandon import WindowCounts
from .forecast import AgentView, Forecaster, LineView, outlook
from .model import EffectiveMode
from .stats import PacingStats


@dataclass(frozen=True, slots=True)
class PacingView:
    """What the engine knows now, for a pacer (built each tick; only agents the campaign may use)."""

    now: float
    agents: int  # usable by the campaign now (ready, reserved, on its calls, in its wrap-up)
    free: int  # ready and not reserved
    busy: tuple[AgentView, ...]  # on a campaign call or in its wrap-up
    lines: tuple[LineView, ...]  # unreserved lines in flight
    reserved_lines: int
    waiting: int  # people answered and waiting for an agent (the grace clock runs)
    connected: int  # campaign calls talking to an agent
    window: WindowCounts
    cap: float
    connect_within: float
    amd: bool
    false_positive_estimate: float  # share of people AMD calls machines; 0 when not counted
    stats: PacingStats

    @property
    def total_lines(self) -> int:
        return len(self.lines) + self.reserved_lines + self.waiting + self.connected


@dataclass(frozen=True, slots=True)
class PacingDecision:
    lines: int
    reserve: bool  # each new line is reserved for one free agent (progressive)
    mode: EffectiveMode | None = None  # a pacer that changes how the campaign dials says so
    reason: str = ""
    alpha: float | None = None  # the inner loop's abandon share this tick (for the monitor)


class Pacer(Protocol):
    def decide(self, view: PacingView) -> PacingDecision: ...


def progressive_lines(view: PacingView) -> int:
    """One line per free agent, less the unreserved lines already out (they will want agents too)."""
    return max(0, view.free - len(view.lines) - view.waiting)


class ProgressivePacer:
    def decide(self, view: PacingView) -> PacingDecision:
        return PacingDecision(progressive_lines(view), reserve=True)


@dataclass(frozen=True, slots=True)
class PredictiveSettings:
    target: float | None = None  # abandon share aimed at; default below
    # by default the pacer may spend this share of what the cap leaves after AMD's false positives
    target_share: float = 0.8
    plan_seconds: float = 900.0  # the outer loop spreads the budget over this much traffic
    min_plan: float = 30.0  # live answers, at least, in that spread
    margin_sd: float = 1.0  # budget kept back against bad luck, in standard deviations of abandons
    min_headroom: float = 0.5  # fall back when fewer abandons than this separate the rate from the cap
    resume_headroom: float = 1.5  # and resume when this many do again
    min_agents: int = 4
    min_dials: int = 100  # dials with a known fate before the answer mix is trusted
    horizon: int = 35  # seconds modelled ahead
    alpha_max_share: float = 1.0  # alpha at most this times the cap
    max_new_per_tick: int = 200


class PredictivePacer:
    def __init__(self, stats: PacingStats, settings: PredictiveSettings, *, grace: float) -> None:
        self.settings = settings
        self.forecaster = Forecaster(stats, settings.horizon, grace)
        self.falling_back: str | None = None

    def _guard(self, view: PacingView) -> str | None:
        """Why the campaign must dial progressively now, or None (with hysteresis on the budget)."""
        s = self.settings
        if view.agents < s.min_agents:
            return f"team of {view.agents} below the {s.min_agents} agents predictive dialling needs"
        if view.stats.dials < s.min_dials:
            return f"learning the answer mix ({view.stats.dials} of {s.min_dials} dials)"
        w = view.window
        headroom = w.headroom(view.cap)
        limit = s.min_headroom if self.falling_back is None else s.resume_headroom
        if headroom < limit:
            return (
                f"abandon rate {w.rate:.2%} over the window: {max(0.0, headroom):.1f} abandons"
                f" from the {view.cap:.0%} cap"
            )
        return None

    def alpha(self, view: PacingView) -> float:
        """The outer loop: the abandon share the next calls may have so that, at the end of the
        planning period, the window is on target with a margin for bad luck."""
        s = self.settings
        st = self.forecaster.stats
        plan = max(s.min_plan, view.agents * s.plan_seconds / max(st.mean_handle, 1.0))
        fp = view.false_positive_estimate
        fp_per_live = fp / (1.0 - fp) if view.amd and fp < 1.0 else 0.0
        fp_share = fp_per_live / (1.0 + fp_per_live)  # of the window's live answers
        target = s.target if s.target is not None else fp_share + s.target_share * (view.cap - fp_share)
        w = view.window
        # held back against bad luck: the pacing's own over the plan, and the true number of people
        # AMD took for machines, of which the meter only counts the estimate (binomial noise)
        margin = s.margin_sd * (math.sqrt(target * plan) + math.sqrt(fp_per_live * (w.live + plan)))
        budget = target * (w.live + plan * (1 + fp_per_live)) - w.abandoned - fp_per_live * plan - margin
        return max(0.0, min(view.cap * s.alpha_max_share, budget / plan))

    def decide(self, view: PacingView) -> PacingDecision:
        why = self._guard(view)
        if why is not None:
            self.falling_back = why
            return PacingDecision(
                progressive_lines(view), reserve=True, mode=EffectiveMode.PREDICTIVE_FALLBACK, reason=why
            )
        self.falling_back = None
        alpha = self.alpha(view)
        look = outlook(
            self.forecaster,
            free=view.free,
            waiting=view.waiting,
            lines=list(view.lines),
            agents=list(view.busy),
        )
        # the inner loop never plans to spend the last `min_headroom` abandons of the budget
        headroom = view.window.headroom(view.cap) - self.settings.min_headroom

        # the share is over all the horizon's demand, lines already out included: a batch of new
        # lines judged only on what it adds (tried) spends the budget at the worst moments
        def fits(k: int) -> bool:
            ab = look.abandons(k)
            return ab <= alpha * look.demand(k) and ab <= headroom

        # the expected abandons grow with k: gallop up, then halve down to the largest k that fits
        k, step = 0, 1
        while k + step <= self.settings.max_new_per_tick and fits(k + step):
            k += step
            step *= 2
        while step > 1:
            step //= 2
            if k + step <= self.settings.max_new_per_tick and fits(k + step):
                k += step
        # never fewer than progressive would dial: those lines have agents waiting for them
        k = max(k, progressive_lines(view))
        return PacingDecision(k, reserve=False, mode=EffectiveMode.PREDICTIVE, alpha=alpha)
