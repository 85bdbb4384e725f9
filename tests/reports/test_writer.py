"""The report writer's last write at stop: a busy database is waited for, never a crash at stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from callserver.reports.counters import Counters
from callserver.reports.fold import RowChange
from callserver.reports.writer import STOP_ATTEMPTS, ReportWriter


class BusyStore:
    """Refuses the first `busy` writes as a locked SQLite database does, then keeps what it gets."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.attempts = 0
        self.written: list[RowChange] = []

    async def add(self, changes: Sequence[RowChange]) -> None:
        self.attempts += 1
        if self.attempts <= self.busy:
            raise RuntimeError("database is locked")
        self.written.extend(changes)


class OneChange:
    """A fold that has one queue increment to hand out, once."""

    def __init__(self) -> None:
        self.given = False

    def apply(self, fact: object) -> None:
        pass

    def changes(self, now: float) -> list[RowChange]:
        if self.given:
            return []
        self.given = True
        return [RowChange("queue", "support", 900, Counters(offered=1))]


async def test_a_busy_database_at_stop_is_retried_and_the_rows_are_written() -> None:
    store = BusyStore(busy=2)
    writer = ReportWriter(store, OneChange(), lambda: 1000.0)  # type: ignore[arg-type]
    await writer.stop()
    assert store.attempts == 3
    assert [(c.kind, c.key, c.delta.offered) for c in store.written] == [("queue", "support", 1)]


async def test_a_database_busy_throughout_the_stop_is_reported_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = BusyStore(busy=10 * STOP_ATTEMPTS)
    writer = ReportWriter(store, OneChange(), lambda: 1000.0)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="callserver.reports.writer"):
        await writer.stop()
    assert store.attempts == STOP_ATTEMPTS
    assert store.written == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "--rebuild" in errors[0].getMessage()


class SlowStore:
    """A write that takes a while: stop must let it finish, not cut its transaction short."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.finished: list[list[RowChange]] = []
        self.cancelled = 0

    async def add(self, changes: Sequence[RowChange]) -> None:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        self.finished.append(list(changes))


async def test_stop_during_a_write_lets_the_write_finish() -> None:
    store = SlowStore()
    writer = ReportWriter(store, OneChange(), lambda: 1000.0, period=0.01)  # type: ignore[arg-type]
    writer.start()
    writer.submit(object())  # type: ignore[arg-type]
    await asyncio.wait_for(store.started.wait(), 5)
    stopping = asyncio.create_task(writer.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waits for the write in progress
    store.release.set()
    await asyncio.wait_for(stopping, 5)
    assert store.cancelled == 0
    assert [[(c.kind, c.key) for c in batch] for batch in store.finished] == [[("queue", "support")]]
