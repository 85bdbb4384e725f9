"""The timer heap and its handler table: every kind handled, stale timers skipped, order kept."""

from __future__ import annotations

import pytest

from callserver.acd.commands import CancelAgentLeg, Command
from callserver.acd.timers import MissingTimerHandler, TimerHandler, TimerKind, Timers


def recording(fired: list[tuple[TimerKind, str, float]], live: set[str] | None = None) -> Timers:
    """Timers whose handlers note what fired; only ids in `live` are still meant (all when None)."""

    def handler(kind: TimerKind) -> TimerHandler:
        def fire(ident: str, now: float) -> list[Command]:
            fired.append((kind, ident, now))
            return [CancelAgentLeg(f"{kind.value}:{ident}")]

        return TimerHandler(lambda ident, _at: live is None or ident in live, fire)

    timers = Timers()
    timers.install({kind: handler(kind) for kind in TimerKind})
    return timers


def test_a_table_missing_a_kind_is_refused_by_name() -> None:
    table = {kind: TimerHandler(lambda _i, _a: True, lambda _i, _n: []) for kind in TimerKind}
    del table[TimerKind.ANNOUNCE]
    with pytest.raises(MissingTimerHandler, match="announce"):
        Timers().install(table)


def test_due_timers_fire_in_deadline_order_then_in_the_order_they_were_armed() -> None:
    fired: list[tuple[TimerKind, str, float]] = []
    timers = recording(fired)
    timers.arm(20.0, TimerKind.MAX_WAIT, "c1")
    timers.arm(10.0, TimerKind.AGENT_DEADLINE, "ann")
    timers.arm(10.0, TimerKind.LEG_GRACE, "leg-1")
    timers.arm(30.0, TimerKind.ANNOUNCE, "c2")
    assert timers.next_deadline() == 10.0
    commands = timers.fire(20.0)
    assert fired == [
        (TimerKind.AGENT_DEADLINE, "ann", 20.0),
        (TimerKind.LEG_GRACE, "leg-1", 20.0),
        (TimerKind.MAX_WAIT, "c1", 20.0),
    ]
    assert commands == [
        CancelAgentLeg("agent_deadline:ann"),
        CancelAgentLeg("leg_grace:leg-1"),
        CancelAgentLeg("max_wait:c1"),
    ]
    assert timers.next_deadline() == 30.0


def test_a_timer_no_longer_meant_is_skipped_and_not_reported_as_next() -> None:
    fired: list[tuple[TimerKind, str, float]] = []
    timers = recording(fired, live={"c2"})
    timers.arm(5.0, TimerKind.ROUTING_STEP, "c1")  # c1 was answered meanwhile: not live
    timers.arm(8.0, TimerKind.ROUTING_STEP, "c2")
    assert timers.next_deadline() == 8.0
    timers.fire(10.0)
    assert fired == [(TimerKind.ROUTING_STEP, "c2", 10.0)]
    assert timers.next_deadline() is None


def test_an_infinite_deadline_is_never_armed() -> None:
    timers = recording([])
    timers.arm(float("inf"), TimerKind.MAX_WAIT, "task-1")  # a voicemail task has no maximum wait
    assert timers.next_deadline() is None
