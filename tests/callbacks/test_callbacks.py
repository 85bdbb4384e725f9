"""Callback requests: due times as data, the status table, and the service handing due requests to
the ACD (again after a restart), marking them assigned and closing them; on a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callserver.callbacks.model import (
    ALLOWED,
    CallbackKind,
    CallbackStatus,
    NewCallback,
    TransitionError,
    callback_id_of,
    check_transition,
    task_id_of,
)
from callserver.callbacks.schedule import DueTimes
from callserver.callbacks.service import CallbackError, CallbackService
from callserver.facts.model import CallOffered
from callserver.store import Store
from callserver.store.callbacks import CallbackStore

T0 = 1_790_000_000.0


def test_due_times_come_out_in_order_once_and_moves_and_cancels_are_honoured() -> None:
    due = DueTimes()
    due.arm(1, T0 + 30)
    due.arm(2, T0 + 10)
    due.arm(3, T0 + 20)
    due.arm(3, T0 + 40)  # moved later
    due.cancel(1)
    assert due.next_deadline() == T0 + 10
    assert due.on_timer(T0 + 25) == [2]
    assert due.on_timer(T0 + 25) == []
    assert due.next_deadline() == T0 + 40
    assert due.on_timer(T0 + 40) == [3]
    assert due.next_deadline() is None and len(due) == 0


def test_the_status_table_refuses_reopening_and_names_both_states() -> None:
    assert ALLOWED[CallbackStatus.DONE] == frozenset()
    check_transition(1, CallbackStatus.SCHEDULED, CallbackStatus.QUEUED)
    with pytest.raises(TransitionError, match="callback 7: cannot go from done to queued"):
        check_transition(7, CallbackStatus.DONE, CallbackStatus.QUEUED)
    assert callback_id_of(task_id_of(12)) == 12
    assert callback_id_of("vm-12") is None and callback_id_of("sc-x") is None


@dataclass
class FakeAcd:
    """Records tasks as the ACD service would get them; knows who holds which."""

    arrived: list[dict[str, Any]] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    holders: dict[str, str] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def task_arrived(self, task_id: str, **kw: Any) -> None:
        self.arrived.append({"task_id": task_id, **kw})
        self.changed.set()

    def task_done(self, task_id: str) -> None:
        self.done.append(task_id)

    async def until(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.arrived) < count:
                self.changed.clear()
                await self.changed.wait()


@dataclass
class FakePbx:
    originates: list[dict[str, Any]] = field(default_factory=list)

    async def originate(self, **kw: Any) -> None:
        self.originates.append(kw)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'cb.db'}")
    yield opened
    await opened.close()


def service_on(store: Store, acd: FakeAcd, pbx: FakePbx | None = None) -> CallbackService:
    return CallbackService(
        CallbackStore(store),
        acd,
        pbx or FakePbx(),  # type: ignore[arg-type]
        clock=lambda: datetime.now(UTC).timestamp(),
        agent_endpoint=lambda agent: f"PJSIP/{agent}",
        holder=lambda task: acd.holders.get(task),
    )


def request(due: datetime, **kw: Any) -> NewCallback:
    base: dict[str, Any] = {
        "kind": CallbackKind.CALLBACK,
        "queue": "billing",
        "due_at": due,
        "number": "+33140000001",
    }
    return NewCallback(**{**base, **kw})


async def test_a_due_request_goes_to_the_acd_and_a_later_one_waits(store: Store) -> None:
    acd = FakeAcd()
    service = service_on(store, acd)
    await service.start()
    try:
        now = datetime.now(UTC)
        later = await service.request(request(now + timedelta(days=2), reserved_for="alice"))
        soon = await service.request(
            request(
                now, kind=CallbackKind.TASK, requirement="billing >= 3", handover={"lines": [["Q?", "yes"]]}
            )
        )
        await acd.until(1)
        assert acd.arrived == [
            {
                "task_id": soon.task_id,
                "queue": "billing",
                "data": {"call.task": "task"},
                "caller_num": "",
                "agent": None,
                "require": "billing >= 3",
            }
        ]
        assert (await service.get(later.id)).status is CallbackStatus.SCHEDULED  # type: ignore[union-attr]
        # the ACD gives the task to bob: the fact, or bob's own request, marks it assigned
        acd.holders[soon.task_id] = "bob"
        assert await service.for_agent(soon.id, "carol") is None
        mine = await service.for_agent(soon.id, "bob")
        assert mine is not None and (mine.status, mine.agent_id, mine.lines) == (
            CallbackStatus.ASSIGNED,
            "bob",
            [("Q?", "yes")],
        )
        service.on_fact(CallOffered(soon.task_id, T0, "billing", "bob", "", 1))  # late: changes nothing
        closed = await service.close(soon.id, "bob", "resolved")
        assert (closed.status, closed.outcome) == (CallbackStatus.DONE, "resolved")
        assert acd.done == [soon.task_id]
        with pytest.raises(CallbackError, match="nothing to close"):
            await service.close(soon.id, "bob", "resolved")
        cancelled = await service.cancel(later.id)
        assert cancelled.status is CallbackStatus.CANCELLED
    finally:
        await service.stop()


async def test_after_a_restart_open_requests_are_handed_to_the_acd_again(store: Store) -> None:
    acd = FakeAcd()
    pbx = FakePbx()
    first = service_on(store, acd, pbx)
    await first.start()
    item = await first.request(request(datetime.now(UTC), reserved_for="alice"))
    await acd.until(1)
    acd.holders[item.task_id] = "alice"
    placed = await first.call_back(item.id, "alice")
    assert placed.status is CallbackStatus.IN_PROGRESS
    assert pbx.originates[0]["variables"]["CS_DIAL"] == "+33140000001"
    await first.stop()

    again = FakeAcd()
    second = service_on(store, again)
    await second.start()
    try:
        assert [a["task_id"] for a in again.arrived] == [item.task_id]
        assert again.arrived[0]["agent"] == "alice"
        assert (await second.get(item.id)).status is CallbackStatus.QUEUED  # type: ignore[union-attr]
    finally:
        await second.stop()
