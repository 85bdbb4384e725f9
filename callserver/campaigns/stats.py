"""What a campaign has learnt about its own calls, online: the predictive pacer's inputs.

For the last dials: the share that needed an agent (a person, or any answer without AMD), that an
AMD took for a machine, that rang out, that failed; and for each the time from dial to that fate.
For the last conversations: talk, wrap-up and handle time; and the AMD decision time. Sliding
windows of samples (the oldest drops out), plus a small prior so a new campaign starts sensibly.
Distributions are 1-second histograms turned into cumulative arrays on `refresh`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass
from enum import IntEnum


class Fate(IntEnum):
    NEED = 0  # needs an agent: a person, or without AMD anyone who answered
    MACHINE = 1  # AMD said machine
    NO_ANSWER = 2
    FAILED = 3  # busy, invalid, congestion


DIAL_BINS = 121  # seconds 0..120 from dial to fate
AMD_BINS = 31
SHORT_TALK = 30.0  # talks shorter than this (a machine, a wrong number) have their own wrap-ups
MIN_REAL_CALLS = 50  # real conversations before the prior's are dropped


@dataclass(frozen=True, slots=True)
class Prior:
    """What to assume before a campaign has its own figures; weighs as `weight` dials or calls."""

    mix: tuple[float, float, float, float] = (0.30, 0.20, 0.35, 0.15)  # by Fate
    fate_time: tuple[float, float, float, float] = (10.0, 14.0, 25.0, 4.0)
    amd_time: float = 3.0
    handle: float = 180.0
    wrap: float = 20.0
    weight: float = 20.0

    @classmethod
    def for_campaign(cls, amd: bool) -> Prior:
        """Without AMD every answer needs an agent, machines included."""
        return cls() if amd else cls(mix=(0.45, 0.0, 0.35, 0.20), fate_time=(11.0, 14.0, 25.0, 4.0))


class _Window:
    """A histogram of the last `size` samples (1-second bins, clamped to the last bin)."""

    def __init__(self, bins: int, size: int) -> None:
        self.bins = bins
        self.counts = [0.0] * bins
        self.samples: deque[int] = deque()
        self.size = size

    def add(self, seconds: float) -> None:
        b = min(self.bins - 1, max(0, int(seconds)))
        self.samples.append(b)
        self.counts[b] += 1
        if len(self.samples) > self.size:
            self.counts[self.samples.popleft()] -= 1

    def __len__(self) -> int:
        return len(self.samples)

    def cdf(self, prior_at: float, prior_weight: float) -> list[float]:
        """P(X < t+1) for t in bins, the prior as `prior_weight` samples spread around `prior_at`."""
        counts = list(self.counts)
        lo, hi = max(0, int(prior_at * 0.5)), min(self.bins - 1, int(prior_at * 1.5) + 1)
        for b in range(lo, hi + 1):
            counts[b] += prior_weight / (hi - lo + 1)
        total = sum(counts)
        out, acc = [], 0.0
        for c in counts:
            acc += c
            out.append(acc / total)
        out[-1] = 1.0
        return out


class HandleModel:
    """Talk and wrap-up times of the last conversations, kept as pairs: whether a busy agent is free
    again by some time depends on both, and short talks (machines) have short wrap-ups."""

    def __init__(self, size: int, prior: Prior) -> None:
        self.samples: deque[tuple[float, float]] = deque(maxlen=size)
        self.prior = prior
        self.talks: list[float] = []
        self.ends: list[float] = []  # talk + wrap, in the order of `talks`
        self.wraps: tuple[list[float], list[float]] = ([], [])  # after short talks, after long ones
        self.mean = prior.handle

    def add(self, talk: float, wrap: float) -> None:
        self.samples.append((talk, wrap))

    def _prior_pairs(self) -> list[tuple[float, float]]:
        talk = max(1.0, self.prior.handle - self.prior.wrap)
        # a spread of talks around the prior's mean (0.4x .. 1.8x), wrap-ups as the prior says
        return [(talk * (0.4 + 0.14 * i), self.prior.wrap) for i in range(11)]

    def refresh(self) -> None:
        pairs = list(self.samples)
        if len(pairs) < MIN_REAL_CALLS:
            pairs += self._prior_pairs()
        pairs.sort()
        self.talks = [t for t, _ in pairs]
        self.ends = [t + w for t, w in pairs]
        self.wraps = (
            sorted(w for t, w in pairs if t < SHORT_TALK),
            sorted(w for t, w in pairs if t >= SHORT_TALK),
        )
        self.mean = sum(self.ends) / len(self.ends)

    @staticmethod
    def _curve(done: list[int], denominator: int, n: int) -> list[float]:
        out, acc = [], 0
        for c in done:
            acc += c
            out.append(min(1.0, acc / denominator))
        return out[:n]

    def talking(self, elapsed: float, n: int) -> list[float] | None:
        """P(free by elapsed + t | talking for `elapsed`), t = 0..n-1; None when nothing is known."""
        i0 = bisect_right(self.talks, elapsed)
        denominator = len(self.talks) - i0
        if denominator < 3:
            return None
        done = [0] * n
        for j in range(i0, bisect_right(self.talks, elapsed + n)):
            d = self.ends[j] - elapsed
            if d < n:
                done[max(0, math.ceil(d) - 1) if d > 0 else 0] += 1
        return self._curve(done, denominator, n)

    def wrapping(self, short: bool, elapsed: float, n: int) -> list[float] | None:
        wraps = self.wraps[0 if short else 1] or self.wraps[1 - (0 if short else 1)]
        i0 = bisect_right(wraps, elapsed)
        denominator = len(wraps) - i0
        if denominator < 3:
            return None
        done = [0] * n
        for j in range(i0, bisect_right(wraps, elapsed + n)):
            d = wraps[j] - elapsed
            done[max(0, math.ceil(d) - 1) if d > 0 else 0] += 1
        return self._curve(done, denominator, n)


class PacingStats:
    def __init__(
        self, prior: Prior | None = None, *, dials: int = 2000, calls: int = 500, refresh_every: int = 200
    ) -> None:
        self.prior = prior or Prior()
        self._fates: deque[Fate] = deque()
        self._fate_counts = [0, 0, 0, 0]
        self._fate_time = [_Window(DIAL_BINS, dials) for _ in Fate]
        self._amd = [_Window(AMD_BINS, calls), _Window(AMD_BINS, calls)]  # person, machine
        self.handle = HandleModel(calls, self.prior)
        self.dials_window = dials
        self.version = 0
        self.refresh_every = refresh_every  # new samples before distributions are recomputed
        self._new = 0
        self._dirty = True
        self.p: list[float] = []
        self.fate_cdf: list[list[float]] = []
        self.amd_cdf: list[list[float]] = []
        self.mean_handle = self.prior.handle
        self.refresh(force=True)

    # -- samples ----------------------------------------------------------------------------

    def dial_fate(self, fate: Fate, seconds: float) -> None:
        self._fates.append(fate)
        self._fate_counts[fate] += 1
        if len(self._fates) > self.dials_window:
            self._fate_counts[self._fates.popleft()] -= 1
        self._fate_time[fate].add(seconds)
        self._sample()

    def amd_decision(self, person: bool, seconds: float) -> None:
        self._amd[0 if person else 1].add(seconds)
        self._sample()

    def call_handled(self, talk: float, wrap: float) -> None:
        self.handle.add(talk, wrap)
        self._sample()

    def _sample(self) -> None:
        self._new += 1
        self._dirty = True

    @property
    def dials(self) -> int:
        return len(self._fates)

    @property
    def calls(self) -> int:
        return len(self.handle.samples)

    # -- estimates --------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Recompute the distributions once enough samples came in; True when they changed."""
        if not self._dirty or (self._new < self.refresh_every and not force):
            return False
        self._new = 0
        pr = self.prior
        total = len(self._fates) + pr.weight
        self.p = [(self._fate_counts[f] + pr.weight * pr.mix[f]) / total for f in Fate]
        self.fate_cdf = [self._fate_time[f].cdf(pr.fate_time[f], 2.0) for f in Fate]
        self.amd_cdf = [w.cdf(pr.amd_time, 2.0) for w in self._amd]
        self.handle.refresh()
        self.mean_handle = self.handle.mean
        self._dirty = False
        self.version += 1
        return True

    def person_share_of_answers(self) -> float:
        """P(a person | answered, AMD still listening)."""
        need, machine = self.p[Fate.NEED], self.p[Fate.MACHINE]
        return need / (need + machine) if need + machine > 0 else 1.0
