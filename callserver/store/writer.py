"""FactWriter: the only path from the call-handling loop to the database.

`submit` drops a fact on an unbounded queue and returns at once; one task drains the queue in
batches and applies each batch in one transaction. A failed write is retried with backoff and
logged; a fact is only ever set aside (logged in full at ERROR) when the database rejects that
single fact outright, so one bad fact cannot block every later one.
"""

from __future__ import annotations

import asyncio
import logging
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
        batch_size: int = 200,
        retry_min: float = 0.05,
        retry_max: float = 5.0,
        split_after: int = 3,
        logger: logging.Logger | None = None,
    ) -> None:
        self._store = store
        self._batch_size = batch_size
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._split_after = split_after
        self._log = logger or logging.getLogger("callserver.store.writer")
        self._queue: asyncio.Queue[Fact | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._submitted = 0
        self._done = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.written = 0
        self.rejected: list[Fact] = []

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
        return self._submitted - self._done

    def submit(self, fact: Fact) -> None:
        """Queue a fact for writing; never blocks, never touches the database."""
        if self._stopping:
            raise RuntimeError("FactWriter is stopped; the fact would be lost")
        self._submitted += 1
        self._queue.put_nowait(fact)

    async def flush(self) -> None:
        """Wait until every fact submitted before this call has been handled."""
        target = self._submitted
        if self._done >= target:
            return
        if self._task is None:
            raise RuntimeError("FactWriter.flush before start: nothing would ever be written")
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
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
        self._queue.put_nowait(None)
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            self._task.cancel()
            self._log.error("fact writer cancelled with %d fact(s) not written", self.pending)
            raise

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            finished = first is None
            batch: list[Fact] = [] if first is None else [first]
            while not finished and len(batch) < self._batch_size and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    finished = True
                else:
                    batch.append(item)
            if batch:
                await self._write(batch)
                self._done += len(batch)
                self._wake()
            if finished:
                return

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

    def _wake(self) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, waiter in self._waiters:
            if self._done >= target:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((target, waiter))
        self._waiters = still
