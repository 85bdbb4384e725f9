"""Long loops over PBX listings that must not stall the event loop: `Pacer` hands the loop back
whenever the work since it last did so has taken longer than a budget.

Resynchronising with 20,000 channels is tens of thousands of small steps; run in one go they hold
every other call's events for a few hundred milliseconds. Awaiting a `Pacer` once per step keeps
each uninterrupted stretch under the budget (2.5 ms by default: two such stretches, the
listing's and the AMI reader's, can fall in one turn of the loop) at the cost of one clock read every
`check_every` steps.
"""

from __future__ import annotations

import asyncio
import time

DEFAULT_BUDGET = 0.0025


class Pacer:
    def __init__(self, budget: float = DEFAULT_BUDGET, check_every: int = 32) -> None:
        self.budget = budget
        self.check_every = check_every
        self.yields = 0
        # the longest stretches seen between hand-backs (checked every few steps): wall clock, and
        # this thread's CPU time (the same without the time the OS gave other processes)
        self.longest = 0.0
        self.longest_cpu = 0.0
        self._count = 0
        self.restart()

    def restart(self) -> None:
        """The caller just waited (for the PBX): a new stretch starts now."""
        self._since = time.perf_counter()
        self._since_cpu = time.thread_time()

    async def __call__(self) -> None:
        """One step done: yield to the loop if this stretch has used its budget."""
        self._count += 1
        if self._count % self.check_every:
            return
        stretch = time.perf_counter() - self._since
        self.longest = max(self.longest, stretch)
        self.longest_cpu = max(self.longest_cpu, time.thread_time() - self._since_cpu)
        if stretch >= self.budget:
            await self.hand_back()

    async def hand_back(self) -> None:
        """Yield to the loop now: before a step that is long on its own (a set operation over every
        channel), so that it does not come on top of a stretch already near the budget."""
        stretch = time.perf_counter() - self._since
        self.longest = max(self.longest, stretch)
        self.longest_cpu = max(self.longest_cpu, time.thread_time() - self._since_cpu)
        await asyncio.sleep(0)
        self.yields += 1
        self.restart()
