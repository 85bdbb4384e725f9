"""Event-loop lag: a callback asked for every `every` seconds reports how late it ran.

A loop blocked by a slow step (a big query's rows, a synchronous disk write) delays every call and
every AMI event by as much; this is the figure that shows it. The probe reschedules itself with
`call_later` (no task sleeping in a loop) and stops when asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LoopLagProbe:
    def __init__(self, every: float, observe: Callable[[float], None]) -> None:
        self.every = every
        self.observe = observe
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        due = loop.time() + self.every
        self._handle = loop.call_at(due, self._fired, loop, due)

    def _fired(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        self.observe(max(0.0, loop.time() - due))
        self._schedule(loop)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
