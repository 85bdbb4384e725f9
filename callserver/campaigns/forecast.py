"""The near future of a campaign, second by second: people who will need an agent, agents who will
be free, and the abandons expected if `k` more lines are dialled now.

Each line in flight and each busy agent is a Bernoulli event with a probability per future second,
conditioned on what is known now (a line has rung 12 s without an answer; an agent has talked for
150 s). Summed, demand D(t) and supply S(t) are approximated as normal variables. With no queue (a
person not connected within the grace is lost), abandons up to t are sup over s <= t of
(D(s) - S(s + grace))+; the forecast uses the largest expectation over the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .stats import SHORT_TALK, Fate, PacingStats

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class LineView:
    """A line in flight not reserved for an agent; `elapsed` since the dial, or since the answer."""

    answered: bool
    elapsed: float


@dataclass(frozen=True, slots=True)
class AgentView:
    """A busy agent the campaign will get back: talking, or in wrap-up after a talk of `talk` s,
    for `elapsed` seconds."""

    wrapup: bool
    elapsed: float
    talk: float = 0.0


def expected_excess(mu: float, var: float) -> float:
    """E[(X)+] for X ~ Normal(mu, var)."""
    if var <= 1e-12:
        return mu if mu > 0 else 0.0
    sd = math.sqrt(var)
    z = mu / sd
    return mu * 0.5 * (1.0 + math.erf(z / _SQRT2)) + sd * _INV_SQRT_2PI * math.exp(-0.5 * z * z)


class Forecaster:
    """Probability curves per kind of line and agent, cached per whole second of elapsed time."""

    def __init__(self, stats: PacingStats, horizon: int, grace: float) -> None:
        self.stats = stats
        self.horizon = horizon
        self.grace = math.floor(grace)  # whole seconds of grace, and the fraction beyond them
        self.grace_fraction = grace - self.grace
        self._version = -1
        self._cache: dict[tuple[int, int], tuple[list[float], list[float]]] = {}

    def _check(self) -> None:
        self.stats.refresh()
        if self.stats.version != self._version:
            self._cache.clear()
            self._version = self.stats.version

    @staticmethod
    def _pair(curve: list[float]) -> tuple[list[float], list[float]]:
        return curve, [c * (1.0 - c) for c in curve]

    def new_line(self) -> tuple[list[float], list[float]]:
        """P(a line dialled now needs an agent by t), t = 0..horizon."""
        self._check()
        key = (0, -1)
        if key not in self._cache:
            st = self.stats
            cdf, p = st.fate_cdf[Fate.NEED], st.p[Fate.NEED]
            self._cache[key] = self._pair([p * cdf[min(t, len(cdf) - 1)] for t in range(self.horizon + 1)])
        return self._cache[key]

    def ringing(self, elapsed: float) -> tuple[list[float], list[float]]:
        d = int(elapsed)
        key = (1, d)
        if key not in self._cache:
            st = self.stats
            last = len(st.fate_cdf[0]) - 1
            d0 = min(d, last)
            undecided = sum(st.p[f] * (1.0 - st.fate_cdf[f][d0]) for f in Fate)
            cdf, p = st.fate_cdf[Fate.NEED], st.p[Fate.NEED]
            if undecided <= 1e-9:
                curve = [0.0] * (self.horizon + 1)
            else:
                curve = [p * (cdf[min(d0 + t, last)] - cdf[d0]) / undecided for t in range(self.horizon + 1)]
            self._cache[key] = self._pair(curve)
        return self._cache[key]

    def answered(self, elapsed: float) -> tuple[list[float], list[float]]:
        """An answered line AMD is still listening to, `elapsed` seconds after the answer."""
        a = int(elapsed)
        key = (2, a)
        if key not in self._cache:
            st = self.stats
            person, machine = st.amd_cdf
            last = len(person) - 1
            a0 = min(a, last)
            q = st.person_share_of_answers()
            undecided = q * (1.0 - person[a0]) + (1.0 - q) * (1.0 - machine[a0])
            if undecided <= 1e-9:
                curve = [q] * (self.horizon + 1)
            else:
                curve = [
                    min(1.0, q * (person[min(a0 + t, last)] - person[a0]) / undecided)
                    for t in range(self.horizon + 1)
                ]
            self._cache[key] = self._pair(curve)
        return self._cache[key]

    def agent(self, view: AgentView) -> tuple[list[float], list[float]]:
        """P(a busy agent is free again by t), t = 0..horizon + grace."""
        self._check()
        e = int(view.elapsed)
        short = view.talk < SHORT_TALK
        key = ((5 if short else 4) if view.wrapup else 3, e)
        if key not in self._cache:
            n = self.horizon + self.grace + 2
            model = self.stats.handle
            curve = model.wrapping(short, e, n) if view.wrapup else model.talking(e, n)
            if curve is None:
                # longer than anything seen: assume it ends within the next minute, evenly
                curve = [min(1.0, (t + 1) / 60.0) for t in range(n)]
            self._cache[key] = self._pair(curve)
        return self._cache[key]


@dataclass(frozen=True, slots=True)
class Outlook:
    """Demand and supply over the horizon, before any new line; `plan(k)` adds k new lines."""

    d_mean: list[float]
    d_var: list[float]
    s_mean: list[float]  # already shifted by the grace: agents usable for demand at t
    s_var: list[float]
    c_mean: list[float]  # one new line
    c_var: list[float]

    def abandons(self, k: int) -> float:
        worst = 0.0
        for dm, dv, sm, sv, cm, cv in zip(
            self.d_mean, self.d_var, self.s_mean, self.s_var, self.c_mean, self.c_var, strict=True
        ):
            x = expected_excess(dm + k * cm - sm, dv + k * cv + sv)
            if x > worst:
                worst = x
        return worst

    def demand(self, k: int) -> float:
        return self.d_mean[-1] + k * self.c_mean[-1]


def _summed(
    curves: list[tuple[tuple[list[float], list[float]], int]], n: int
) -> tuple[list[float], list[float]]:
    if not curves:
        return [0.0] * n, [0.0] * n
    means = [m if count == 1 else [count * x for x in m] for (m, _), count in curves]
    variances = [v if count == 1 else [count * x for x in v] for (_, v), count in curves]
    return list(map(sum, zip(*means, strict=True))), list(map(sum, zip(*variances, strict=True)))


def outlook(
    fc: Forecaster, *, free: int, waiting: int, lines: list[LineView], agents: list[AgentView]
) -> Outlook:
    """Sum the curves: lines and agents in the same whole second share one (lines dialled on the
    same tick mostly do), and agents with no chance of being free within the horizon drop out."""
    h, g = fc.horizon, fc.grace
    groups: dict[tuple[bool, int], int] = {}
    for ln in lines:
        key = (ln.answered, int(ln.elapsed))
        groups[key] = groups.get(key, 0) + 1
    line_curves = [
        (fc.answered(float(e)) if answered else fc.ringing(float(e)), count)
        for (answered, e), count in groups.items()
    ]
    d_mean, d_var = _summed(line_curves, h + 1)
    if waiting:
        d_mean = [waiting + x for x in d_mean]
    agent_curves = []
    for a in agents:
        curve = fc.agent(a)
        if curve[0][-1] > 1e-4:
            agent_curves.append((curve, 1))
    s_all, v_all = _summed(agent_curves, h + g + 2)
    f = fc.grace_fraction  # supply at t + grace, between whole seconds
    s_mean = [free + (1 - f) * a + f * b for a, b in zip(s_all[g : g + h + 1], s_all[g + 1 :], strict=False)]
    s_var = [(1 - f) * a + f * b for a, b in zip(v_all[g : g + h + 1], v_all[g + 1 :], strict=False)]
    c_mean, c_var = fc.new_line()
    return Outlook(d_mean, d_var, s_mean, s_var, c_mean, c_var)
