"""The report writer: facts from the bus folded at once, their increments written every moment.

`submit` is a bus subscriber (never blocks, never touches the database). A task writes the fold's
changes at most every `period` seconds in one transaction, as the FactWriter batches facts; a
failed write keeps the increments and retries them, so nothing is counted twice or lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ..facts.model import Fact
from ..store.reports import ReportStore
from .fold import ReportFold, RowChange

STOP_ATTEMPTS = 6  # about 3 s of retries when the database stays busy at stop


class ReportWriter:
    def __init__(
        self,
        store: ReportStore,
        fold: ReportFold,
        clock: Callable[[], float],
        *,
        period: float = 2.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._store = store
        self._fold = fold
        self._clock = clock
        self._period = period
        self._log = logger or logging.getLogger("callserver.reports.writer")
        self._dirty = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._unwritten: list[RowChange] = []
        self._lock = asyncio.Lock()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="report-writer")

    def submit(self, fact: Fact) -> None:
        """Fold a fact in; the tables get its increments on the next write."""
        self._fold.apply(fact)
        self._dirty.set()

    async def flush(self) -> None:
        """Write everything folded so far (agent time up to now included)."""
        async with self._lock:
            self._unwritten.extend(self._fold.changes(self._clock()))
            if self._unwritten:
                await self._store.add(self._unwritten)
                self._unwritten = []

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            # never cancelled in the middle of a write: a transaction cut short would keep SQLite's
            # write lock until its connection is collected, and the last write would wait for it
            async with self._lock:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # the last write may meet a busy database (SQLite's one writer, under load): a few more
        # tries, then the increments are given up with an error saying how to get them back
        delay = 0.1
        for attempt in range(1, STOP_ATTEMPTS + 1):
            try:
                await self.flush()
                return
            except Exception as err:
                if attempt == STOP_ATTEMPTS:
                    self._log.error(
                        "report rows of %d interval(s) not written at stop (%s): "
                        "`callserver report --rebuild` recomputes them from the event log",
                        len(self._unwritten),
                        err,
                    )
                    return
                self._log.warning("writing report rows at stop failed, retrying in %.1fs: %s", delay, err)
                await asyncio.sleep(delay)
                delay *= 2

    async def _run(self) -> None:
        delay = self._period
        while not self._stopping:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.flush()
                delay = self._period
            except Exception as err:  # a locked or lost database: the increments wait for the next write
                self._log.warning("writing report rows failed, retrying in %.1fs: %s", delay, err)
                delay = min(delay * 2, 60.0)
                self._dirty.set()
            await asyncio.sleep(delay)
