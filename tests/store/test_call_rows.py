"""The calls rows a batch leaves are held for the next batches: never read back while held, never
held from a batch that did not commit, and what is written is the same as with every row read."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from callserver.facts.model import Fact
from callserver.store import Store
from callserver.store import facts as store_facts
from callserver.store.facts import CallRows
from tests.store.facts import T0, abandoned_call, answered_call, timed_out_call


@contextmanager
def reads_of_calls(store: Store) -> Iterator[list[str]]:
    """The SELECT statements on the calls table run meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        text = " ".join(statement.lower().split())
        if text.startswith("select") and "from calls " in text + " ":
            seen.append(text)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)


def whole_calls() -> list[list[Fact]]:
    return [answered_call("h1"), abandoned_call("h2", T0 + 1), timed_out_call("h3", T0 + 2)]


def renamed(facts: list[Fact], prefix: str) -> list[Fact]:
    return [dataclasses.replace(f, call_id=prefix + f.call_id) for f in facts]  # type: ignore[call-arg]


async def rows(store: Store, ids: list[str], prefix: str = "") -> list[Any]:
    """The calls and offers rows, with the ids as they were before `prefix`."""
    out: list[Any] = []
    for i in ids:
        call = await store.call(prefix + i)
        assert call is not None
        out.append(dataclasses.replace(call, id=i))
        out += [dataclasses.replace(o, call_id=i) for o in await store.offers(prefix + i)]
    return out


async def test_a_call_spread_over_batches_is_read_once_and_written_as_in_one_batch(store: Store) -> None:
    calls = whole_calls()
    firsts = [f for call in calls for f in call[:2]]
    rests = [f for call in calls for f in call[2:]]
    with reads_of_calls(store) as first_reads:
        await store.apply(firsts)
    with reads_of_calls(store) as later_reads:
        for fact in rests:  # one fact a batch: every batch finds its call held
            await store.apply([fact])
    assert len(first_reads) == 1  # the new calls are looked for once
    assert later_reads == []
    # the same calls in one batch, where every row is looked for in the table
    with reads_of_calls(store) as one_batch_reads:
        await store.apply(renamed(firsts + rests, "one-"))
    assert len(one_batch_reads) == 1
    ids = ["h1", "h2", "h3"]
    spread = await rows(store, ids)
    assert spread == await rows(store, ids, "one-")
    assert [r.outcome for r in spread if hasattr(r, "outcome")] == ["answered", "abandoned", "timed_out"]


async def test_a_batch_that_did_not_commit_leaves_nothing_held(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued, offered, _ended, _offered2, answered, ended = answered_call("f1")
    await store.apply([queued, offered])
    real_write = store_facts.Batch.write

    async def write_then_fail(self: store_facts.Batch) -> None:
        await real_write(self)
        raise RuntimeError("the connection dropped before the commit")

    monkeypatch.setattr(store_facts.Batch, "write", write_then_fail)
    with pytest.raises(RuntimeError):
        await store.apply([answered])
    monkeypatch.undo()
    await store.apply([ended])
    call = await store.call("f1")
    assert call is not None
    # the answer was rolled back: neither the table nor the held row has it
    assert (call.answered_at, call.outcome, call.agent_id) == (None, "answered", "a2")


def test_held_rows_are_bounded_least_recently_used_first_out() -> None:
    held = CallRows(size=2)
    held.keep({"a": {"id": "a"}, "b": {"id": "b"}})
    assert held.get("a") == {"id": "a"}  # a is now the most recent
    held.keep({"c": {"id": "c"}})
    assert (held.get("b"), held.get("a"), held.get("c")) == (None, {"id": "a"}, {"id": "c"})
    assert len(held) == 2
