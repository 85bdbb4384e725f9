"""The FactWriter never blocks submitters, loses nothing on stop, and retries failed writes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from callserver.facts.model import AgentStatusChanged, Fact
from callserver.store import FactWriter, Store
from tests.store.facts import T0, abandoned_call, answered_call, queued


async def test_stop_drains_every_submitted_fact(store: Store) -> None:
    writer = FactWriter(store, batch_size=64)
    writer.start()
    for i in range(500):
        writer.submit(AgentStatusChanged(f"a{i % 7}", T0 + i, "available", ""))
    await writer.stop()
    assert await store.event_count() == 500
    assert writer.written == 500 and writer.pending == 0
    with pytest.raises(RuntimeError):
        writer.submit(queued("late"))


async def test_flush_waits_for_what_was_submitted(store: Store) -> None:
    async with FactWriter(store) as writer:
        for fact in answered_call("c1") + abandoned_call("c2"):
            writer.submit(fact)
        await writer.flush()
        assert await store.counts_by_outcome() == {"answered": 1, "abandoned": 1}
        await writer.flush()  # nothing pending: returns at once


async def test_a_failing_write_is_retried_and_logged(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_apply = store.apply
    failures = 2

    async def flaky(facts: Sequence[Fact]) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("database went away")
        await real_apply(facts)

    monkeypatch.setattr(store, "apply", flaky)
    caplog.set_level(logging.WARNING, logger="callserver.store.writer")
    async with FactWriter(store, retry_min=0.001) as writer:
        for fact in answered_call("c1"):
            writer.submit(fact)
        await writer.flush()
    assert (await store.call("c1")) is not None
    assert await store.event_count() == len(answered_call("c1"))
    assert sum("database went away" in r.getMessage() for r in caplog.records) == 2


async def test_a_fact_the_database_rejects_is_set_aside_loudly(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="callserver.store.writer")
    async with FactWriter(store, retry_min=0.001, split_after=1) as writer:
        writer.submit(queued("c1"))
        writer.submit(object())  # type: ignore[arg-type]
        writer.submit(queued("c2"))
    assert {c.id for c in await store.calls()} == {"c1", "c2"}
    assert len(writer.rejected) == 1
    assert any("set aside" in r.getMessage() for r in caplog.records)


async def test_new_work_waits_while_the_writer_is_over_its_bound_and_nothing_is_lost(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_apply = store.apply
    database_free = asyncio.Event()

    async def slow(facts: Sequence[Fact]) -> None:
        await database_free.wait()
        await real_apply(facts)

    monkeypatch.setattr(store, "apply", slow)
    async with FactWriter(store, max_pending=100, batch_size=40, linger=0) as writer:
        await writer.room()  # under the bound: no wait
        for i in range(100):
            writer.submit(AgentStatusChanged(f"a{i}", T0 + i, "available", ""))
        assert writer.backlogged
        room = asyncio.ensure_future(writer.room())
        await asyncio.sleep(0)  # let it run up to its wait
        assert not room.done()
        for i in range(100, 130):  # facts of calls in progress are still taken
            writer.submit(AgentStatusChanged(f"a{i}", T0 + i, "available", ""))
        database_free.set()
        async with asyncio.timeout(10):
            await room
        assert writer.pending <= 50
        await writer.flush()
    assert await store.event_count() == 130


async def test_steady_traffic_is_written_in_batches_and_flush_does_not_wait_for_one(store: Store) -> None:
    async with FactWriter(store, linger=3600) as writer:
        writer.submit(queued("c1"))
        await writer.flush()  # the first fact after a quiet spell goes out at once
        batches = writer.batches
        for fact in answered_call("c2"):  # traffic now: these gather into one batch...
            writer.submit(fact)
        async with asyncio.timeout(30):
            await writer.flush()  # ...which a flush sends without waiting out the linger
        assert writer.batches == batches + 1
        assert (await store.call("c2")) is not None
