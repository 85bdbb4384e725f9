"""How long the fuzzers run and what they count.

`make test` runs them briefly and deterministically (CALLSERVER_FUZZ unset or `short`); `make fuzz`
sets CALLSERVER_FUZZ=long for well over 100,000 random inputs in all. Every fuzzer adds the inputs
it ran to `INPUTS`; the terminal summary prints them.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

LONG = os.environ.get("CALLSERVER_FUZZ", "short") == "long"
INPUTS: Counter[str] = Counter()


def fuzz_settings(short: int, long: int) -> settings:
    """Hypothesis settings for a fuzzer: `short` examples in `make test`, `long` in `make fuzz`."""
    return settings(
        max_examples=long if LONG else short,
        deadline=None,
        derandomize=not LONG,  # the short run is the same every time; the long one explores
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def ran(target: str, count: int = 1) -> None:
    INPUTS[target] += count
