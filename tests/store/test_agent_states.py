"""An agent's day as intervals: the same rows whether the facts come in one batch or one at a time
(state changes end the row left open by an earlier batch without reading it back)."""

from __future__ import annotations

from datetime import UTC, datetime

from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallHeld,
    CallResumed,
    Fact,
)
from callserver.store import Store
from tests.store.facts import T0


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, UTC)


def day(agent: str) -> list[Fact]:
    """Log in, take a call with a hold, wrap up, pause; one state fact arrives late (older than the
    row it ends, as after a lost fact)."""
    return [
        AgentStatusChanged(agent, T0, "available", ""),
        AgentStateChanged(agent, T0, "logged_out", "idle", None),
        AgentStateChanged(agent, T0 + 10, "idle", "ringing", "c1"),
        AgentStateChanged(agent, T0 + 12, "ringing", "on_call", "c1"),
        CallHeld("c1", T0 + 30, agent),
        CallResumed("c1", T0 + 40, agent, 10.0),
        AgentStateChanged(agent, T0 + 60, "on_call", "wrapup", "c1"),
        AgentStateChanged(agent, T0 + 55, "wrapup", "idle", None),  # late: before the wrap-up began
        AgentStatusChanged(agent, T0 + 70, "paused", "lunch"),
        AgentStateChanged(agent, T0 + 80, "idle", "ringing", "c2"),
        AgentStatusChanged(agent, T0 + 90, "logged_out", ""),
    ]


EXPECTED = [
    ("login", "logged_in", "", None, at(0), at(90)),
    ("status", "available", "", None, at(0), at(70)),
    ("state", "idle", "", None, at(0), at(10)),
    ("state", "ringing", "", "c1", at(10), at(12)),
    ("state", "on_call", "", "c1", at(12), at(30)),
    ("state", "on_hold", "", "c1", at(30), at(40)),
    ("state", "on_call", "", "c1", at(40), at(60)),
    ("state", "wrapup", "", "c1", at(60), at(60)),  # ended by the late fact: at its own start
    ("state", "idle", "", None, at(55), at(80)),
    ("status", "paused", "lunch", None, at(70), at(90)),
    ("state", "ringing", "", "c2", at(80), None),
]


async def intervals(store: Store, agent: str) -> list[tuple[object, ...]]:
    rows = await store.agent_intervals(agent_id=agent)
    return sorted(
        ((r.kind, r.state, r.reason, r.call_id, r.started_at, r.ended_at) for r in rows),
        key=lambda r: (r[4], r[0] != "login", r[0] != "status"),
    )


async def test_one_batch_and_one_fact_a_batch_give_the_same_day(store: Store) -> None:
    await store.apply(day("together"))
    for fact in day("apart"):
        await store.apply([fact])
    assert await intervals(store, "together") == sorted(
        EXPECTED, key=lambda r: (r[4], r[0] != "login", r[0] != "status")
    )
    assert await intervals(store, "apart") == await intervals(store, "together")


async def test_a_state_change_ends_only_its_own_agent_s_open_row_of_that_kind(store: Store) -> None:
    await store.apply([AgentStatusChanged(a, T0, "available", "") for a in ("a1", "a2")])
    await store.apply([AgentStateChanged(a, T0, "logged_out", "idle", None) for a in ("a1", "a2")])
    # two changes of a1 in one batch: the row left open before it ends at the first
    await store.apply(
        [
            AgentStateChanged("a1", T0 + 5, "idle", "ringing", "c1"),
            AgentStateChanged("a1", T0 + 7, "ringing", "on_call", "c1"),
        ]
    )
    rows = {(r.agent_id, r.kind, r.state): r.ended_at for r in await store.agent_intervals()}
    assert rows == {
        ("a1", "login", "logged_in"): None,
        ("a1", "status", "available"): None,
        ("a1", "state", "idle"): at(5),
        ("a1", "state", "ringing"): at(7),
        ("a1", "state", "on_call"): None,
        ("a2", "login", "logged_in"): None,
        ("a2", "status", "available"): None,
        ("a2", "state", "idle"): None,
    }
