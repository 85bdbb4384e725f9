"""Keeping Python's garbage collector off what a long-running server keeps.

A full collection walks every tracked object that is not frozen, and what it costs is memory
latency more than work: about 1.3 µs an object on a small machine, so the 50,000 objects of 400
connected agents' websockets and the calls in flight make a 60-80 ms pause that grows with the
heap, and every call in flight waits through it.

After start-up, `gc.freeze()` moves everything that exists out of the collector's sight. Agents
connect later, so the survivors of each full collection are frozen as well, from the collector's
own callback right after it: the next full collection walks only what was promoted since (15-25
ms instead of 60-80 in the end-to-end bench, `bench/RESULTS.md`).

Frozen objects are still freed when nothing refers to them; only cycles among them wait. So once
every `thaw_every` seconds the callback gives everything back (`gc.unfreeze()`) instead: the next
full collection walks the whole heap once, frees those cycles, and what survives it is frozen
again. What such cycles can hold is bounded by one period's worth.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator

THAW_EVERY = 600.0  # seconds: one pause over the whole heap in ten minutes


class SurvivorFreezer:
    """Installed once per process by `callserver run`; `uninstall` gives the collector back."""

    def __init__(self, thaw_every: float = THAW_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.thaw_every = thaw_every
        self._clock = clock
        self._thaw_at = 0.0
        self.freezes = 0  # full collections whose survivors were frozen
        self.thaws = 0  # full collections after which everything was given back

    def install(self) -> None:
        """Collect once, freeze what is left (start-up's modules, configuration, engine) and freeze
        the survivors of every later full collection."""
        gc.collect()
        gc.freeze()
        self._thaw_at = self._clock() + self.thaw_every
        if self._after_collection not in gc.callbacks:
            gc.callbacks.append(self._after_collection)

    def uninstall(self) -> None:
        if self._after_collection in gc.callbacks:
            gc.callbacks.remove(self._after_collection)
        gc.unfreeze()

    def _after_collection(self, phase: str, info: dict[str, int]) -> None:
        # only after a full collection are the younger generations empty: freezing then takes the
        # survivors and nothing the collector has not looked at
        if phase != "stop" or info.get("generation") != 2:
            return
        now = self._clock()
        if now >= self._thaw_at:
            gc.unfreeze()
            self._thaw_at = now + self.thaw_every
            self.thaws += 1
        else:
            gc.freeze()
            self.freezes += 1


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No automatic collection inside: for a burst of short-lived, acyclic objects that reference
    counting frees, such as a 20,000-channel listing read and translated a slice at a time.

    Collections in the middle of it only walk the burst's objects in vain (one of 7-70 ms in
    `bench/resync_bench.py`), in one stretch of the loop. The paused stretch is the listing's own
    duration (about half a second at 20,000 channels); what other tasks leave to the collector
    meanwhile is collected after it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
