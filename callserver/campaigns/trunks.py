"""Dials-per-second limits per trunk, shared by every campaign dialling through it (token buckets).

A carrier blocks or fines a trunk that starts more calls per second than agreed; the engine asks
here before each dial. Time is passed in.
"""

from __future__ import annotations

import math


class TrunkLimiter:
    def __init__(self, rates: dict[str, float] | None = None, *, default_rate: float = 10.0) -> None:
        self.rates = dict(rates or {})
        self.default_rate = default_rate
        self._tokens: dict[str, float] = {}
        self._at: dict[str, float] = {}

    def rate(self, trunk: str) -> float:
        return self.rates.get(trunk, self.default_rate)

    def _fill(self, trunk: str, now: float) -> float:
        rate = self.rate(trunk)
        burst = max(1.0, rate)  # at most one second's worth at once
        last = self._at.get(trunk)
        tokens = burst if last is None else min(burst, self._tokens[trunk] + (now - last) * rate)
        self._tokens[trunk], self._at[trunk] = tokens, now
        return tokens

    def available(self, trunk: str, now: float) -> int:
        return math.floor(self._fill(trunk, now) + 1e-9)

    def take(self, trunk: str, now: float, n: int = 1) -> int:
        """Take up to `n` dials now; returns how many may start."""
        got = min(n, self.available(trunk, now))
        self._tokens[trunk] -= got
        return got

    def next_token_at(self, trunk: str, now: float) -> float:
        tokens = self._fill(trunk, now)
        return now if tokens >= 1.0 else now + (1.0 - tokens) / self.rate(trunk)
