"""The routing decision watch: each matching pass with something to match is timed with the clock
given (a stopwatch, not the engine's `now`); passes with nothing to match are not decisions."""

from __future__ import annotations

from callserver.acd.commands import OriginateAgentLeg
from callserver.acd.dispatch import DecisionWatch
from callserver.acd.engine import AcdEngine
from callserver.acd.expr import parse
from callserver.acd.model import AgentSpec, AgentStatus, QueueSpec, RoutingStep


def test_each_pass_that_matches_is_timed_and_idle_passes_are_not() -> None:
    ticks = iter(range(0, 1000, 3))  # every reading is 3 "seconds" after the previous one
    timed: list[float] = []
    spec = QueueSpec(name="billing", steps=(RoutingStep(0.0, parse("billing")),))
    engine = AcdEngine(
        [spec],
        [AgentSpec("ann", "Ann", "PJSIP/ann", {"billing": 5})],
        decision_watch=DecisionWatch(lambda: float(next(ticks)), timed.append),
    )
    engine.set_status("ann", AgentStatus.AVAILABLE, 0.0)  # a free agent and no call: one pass
    assert timed == [3.0]
    commands = engine.call_arrived(
        "c1", channel="PJSIP/caller-1", caller_num="100", caller_name="", dnis="500", queue="billing", now=1.0
    )
    assert [c.agent_id for c in commands if isinstance(c, OriginateAgentLeg)] == ["ann"]
    assert timed == [3.0, 3.0]
    engine.on_timer(2.0)  # nothing changed since: no decision to time
    assert timed == [3.0, 3.0]
