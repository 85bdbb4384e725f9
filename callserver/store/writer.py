"""FactWriter: the only path from the call-handling loop to the database.

`submit` puts a fact in the queue and returns at once; one task takes everything queued (up to
`batch_size`) and applies it in one transaction with bulk statements, then takes the next lot.
Under steady traffic the task lets a batch gather for `linger` seconds (unless someone waits on
`flush`, or the batch is full): a transaction costs a dozen round trips to the database whatever
its size, and at 25 calls/s one every 50 ms still cost 3 ms of CPU per call. The first facts after
a quiet spell (longer than `linger`) are written at once, so a lone call's row is there when a
person reads it a moment later. A fact is written at most `linger` plus one transaction after it
was submitted, which is what a crash can lose.

A failed write is retried with backoff and logged; a fact is only ever set aside (logged in full at
ERROR) when the database rejects that single fact outright, so one bad fact cannot block every
later one.

The queue is bounded by back-pressure rather than by dropping facts: once `max_pending` facts are
waiting, `room()` blocks until the writer is back under half of that. New calls wait on `room()`
before they are queued (the inbound script), so a slow database slows the intake of calls instead
of filling memory; calls already in progress still report their facts, which bounds the queue at
`max_pending` plus the facts of the calls in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence

from sqlalchemy.exc import DataError, IntegrityError

from callserver.facts.model import Fact
from callserver.store.store import Store

# Errors that repeat for the same data however often it is retried.
_REJECTED = (IntegrityError, DataError, TypeError, ValueError)


class FactWriter:
    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = 2000,
        max_pending: int = 5000,
        linger: float = 0.2,
        retry_min: float = 0.05,
        retry_max: float = 5.0,
        split_after: int = 3,
        logger: logging.Logger | None = None,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._max_pending = max_pending
        self._linger = linger
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._split_after = split_after
        self._log = logger or logging.getLogger("callserver.store.writer")
        self._queue: deque[Fact] = deque()
        self._times: deque[float] = deque()  # when each queued fact was submitted (monotonic)
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()  # cut the linger short: someone waits, or the batch is full
        self._last_write = float("-inf")  # when the last transaction ended (monotonic)
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._submitted = 0
        self._done = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.written = 0
        self.rejected: list[Fact] = []
        self.batches = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="fact-writer")

    async def __aenter__(self) -> FactWriter:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def pending(self) -> int:
        """Facts submitted and not yet handled (queued or in the transaction under way)."""
        return self._submitted - self._done

    @property
    def backlogged(self) -> bool:
        """True while the queue is over its bound and `room()` makes new work wait."""
        return not self._room.is_set()

    def submit(self, fact: Fact) -> None:
        """Queue a fact for writing; never blocks, never touches the database."""
        if self._stopping:
            raise RuntimeError("FactWriter is stopped; the fact would be lost")
        self._submitted += 1
        self._queue.append(fact)
        self._times.append(time.monotonic())
        self._wake.set()
        if len(self._queue) >= self._batch_size:
            self._urgent.set()
        if self._room.is_set() and self.pending >= self._max_pending:
            self._room.clear()
            self._log.warning(
                "fact writer %d facts behind: new calls wait until the database catches up", self.pending
            )

    async def room(self) -> None:
        """Return once the queue is under its bound: where new work waits for a slow database."""
        await self._room.wait()

    async def flush(self) -> None:
        """Wait until every fact submitted before this call has been handled."""
        target = self._submitted
        if self._done >= target:
            return
        if self._task is None:
            raise RuntimeError("FactWriter.flush before start: nothing would ever be written")
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        self._urgent.set()
        await waiter

    async def stop(self) -> None:
        """Write everything already submitted, then end the task. Cancelling this loses facts,
        so it logs how many."""
        self._stopping = True
        if self._task is None:
            if self.pending:
                self.start()
            else:
                return
        assert self._task is not None
        self._wake.set()
        self._urgent.set()
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            self._task.cancel()
            self._log.error("fact writer cancelled with %d fact(s) not written", self.pending)
            raise

    async def _run(self) -> None:
        queue = self._queue
        while True:
            if not queue:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._gather()
            size = min(len(queue), self._batch_size)
            batch = [queue.popleft() for _ in range(size)]
            for _ in range(size):
                self._times.popleft()
            await self._write(batch)
            self._last_write = time.monotonic()
            self.batches += 1
            self._done += size
            self._wake_flushers()
            if not self._room.is_set() and self.pending <= self._max_pending // 2:
                self._room.set()
                self._log.warning(
                    "fact writer caught up (%d facts behind): new calls flow again", self.pending
                )

    async def _gather(self) -> None:
        """Under steady traffic, let the batch build up until its oldest fact is `linger` seconds
        old, unless it is wanted now (a flush, a full batch, the stop). Facts that came in during
        the last transaction linger too: writing them at once kept the writer busy with a small
        transaction after each one (a hundred a second at 100 calls/s)."""
        if self._linger <= 0 or self._stopping or self._waiters or len(self._queue) >= self._batch_size:
            return
        now = time.monotonic()
        if now - self._last_write > self._linger:
            return  # after a quiet spell: write at once
        remaining = self._times[0] + self._linger - now
        if remaining <= 0:
            return
        self._urgent.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await self._urgent.wait()

    async def _write(self, batch: Sequence[Fact]) -> None:
        delay = self._retry_min
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._store.apply(batch)
                self.written += len(batch)
                return
            except _REJECTED as err:
                if len(batch) == 1:
                    self.rejected.append(batch[0])
                    self._log.error("fact rejected by the database, set aside: %r (%s)", batch[0], err)
                    return
                if attempt >= self._split_after:
                    self._log.warning("batch of %d keeps failing, writing one by one", len(batch))
                    for fact in batch:
                        await self._write([fact])
                    return
                self._log.warning("writing %d fact(s) failed (attempt %d): %s", len(batch), attempt, err)
            except Exception as err:  # a lost connection, a locked database: wait and retry
                self._log.warning(
                    "writing %d fact(s) failed (attempt %d), retrying in %.2fs: %s",
                    len(batch),
                    attempt,
                    delay,
                    err,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max)

    def _wake_flushers(self) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, waiter in self._waiters:
            if self._done >= target:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((target, waiter))
        self._waiters = still
