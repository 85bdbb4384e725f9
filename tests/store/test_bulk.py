"""The batch's bulk INSERTs (COPY on PostgreSQL, the fact log's sent while the facts are applied):
inside the batch's transaction, and a row the database refuses is set aside alone, as with the
executemany they replace."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.exc import IntegrityError

from callserver.facts.model import AgentStateChanged, Fact
from callserver.store import FactWriter, Store
from callserver.store import facts as facts_module
from tests.store.facts import T0, answered_call, queued

TOO_LONG = "x" * 80  # the ids are String(64): PostgreSQL refuses the value, SQLite keeps it


async def test_a_batch_whose_first_statement_is_a_bulk_insert_still_lands_whole_or_not_at_all(
    store: Store,
) -> None:
    # agent facts only: the batch reads nothing first, so the fact log's INSERT is its first
    # statement; the agent-state INSERT after it fails (an agent row needs its agent, the log's
    # row does not)
    facts = [
        AgentStateChanged("a1", T0, "idle", "ringing", None),
        AgentStateChanged(None, T0 + 1, "idle", "ringing", None),  # type: ignore[arg-type]
    ]
    with pytest.raises(IntegrityError):
        await store.apply(facts)
    assert await store.event_count() == 0  # the log's rows went with the failed transaction
    await store.apply(facts[:1])
    assert await store.event_count() == 1


async def test_a_row_the_database_refuses_sets_aside_its_fact_only(
    store: Store, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="callserver.store.writer")
    good = [*answered_call("c1"), queued("c2")]
    # an error the writer took for a lost connection would be retried for ever
    async with asyncio.timeout(60), FactWriter(store, retry_min=0.001, split_after=1) as writer:
        for fact in good[:3]:
            writer.submit(fact)
        writer.submit(queued(TOO_LONG))
        for fact in good[3:]:
            writer.submit(fact)
    ids = {c.id for c in await store.calls()}
    if db_url.startswith("sqlite"):
        assert ids == {"c1", "c2", TOO_LONG} and not writer.rejected
        return
    assert ids == {"c1", "c2"}
    assert [getattr(f, "call_id", None) for f in writer.rejected] == [TOO_LONG]
    assert any("set aside" in r.getMessage() for r in caplog.records)
    call = await store.call("c1")
    assert call is not None and call.outcome == "answered" and call.agent_id == "a2"
    assert await store.event_count() == len(good)


async def test_a_batch_failing_while_its_log_rows_are_sent_leaves_nothing_and_the_next_one_lands(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on PostgreSQL the fact log's rows are on their way while the facts are applied
    real = facts_module.apply_fact
    seen = 0

    def failing(batch: facts_module.Batch, fact: Fact) -> None:
        nonlocal seen
        seen += 1
        if seen == 3:
            raise RuntimeError("a bug in a fact's handler")
        real(batch, fact)

    monkeypatch.setattr(facts_module, "apply_fact", failing)
    with pytest.raises(RuntimeError, match="a bug"):
        await store.apply(answered_call("c1"))
    assert await store.event_count() == 0 and await store.call("c1") is None
    monkeypatch.setattr(facts_module, "apply_fact", real)
    await store.apply(answered_call("c1"))
    assert await store.event_count() == len(answered_call("c1"))
    call = await store.call("c1")
    assert call is not None and call.outcome == "answered"
