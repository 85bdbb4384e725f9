"""The router's waiting-call heaps stay clean: calls that move to their next routing step or leave
leave no pile of dead entries behind, empty buckets do not accumulate, and the choices made from
the heaps are the same as ever (oldest eligible call first, positions counted right)."""

from __future__ import annotations

from callserver.acd.commands import OriginateAgentLeg
from callserver.acd.expr import parse
from callserver.acd.model import AgentSpec, AgentStatus, QueueSpec, RoutingStep

from .driver import Sim

RELAXING = ((0.0, "billing >= 8"), (30.0, "billing >= 5"), (60.0, "billing >= 1"))


def _queue(name: str, steps: tuple[tuple[float, str], ...] = ((0.0, "billing"),)) -> QueueSpec:
    return QueueSpec(name=name, steps=tuple(RoutingStep(after, parse(text)) for after, text in steps))


def _agent(ident: str, level: int) -> AgentSpec:
    return AgentSpec(ident, ident.title(), f"PJSIP/{ident}", {"billing": level})


def test_calls_moving_to_their_next_step_leave_no_dead_entries_and_keep_their_order() -> None:
    sim = Sim.build([_queue("billing", RELAXING)], [_agent("five", 5)], available=False)
    for i in range(300):
        sim.arrive(f"c{i:03d}", "billing")
        sim.advance(0.01)
    sim.advance_to(40.0)  # every call is now at step 1
    router = sim.engine.router
    live = [b for b in router.buckets.values() if b.size]
    assert [b.size for b in live] == [300]
    for bucket in router.buckets.values():
        assert len(bucket.heap) <= 2 * bucket.size + 8
    call = sim.engine.calls["c150"]
    assert router.position(call, sim.engine.calls) == 151
    cmds = sim.feed(sim.engine.set_status("five", AgentStatus.AVAILABLE, sim.now))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["c000"]


def test_callers_leaving_from_the_middle_keep_the_heap_small_and_the_head_right() -> None:
    sim = Sim.build([_queue("billing")], [_agent("ann", 3)], available=False)
    for i in range(200):
        sim.arrive(f"c{i:03d}", "billing")
        sim.advance(0.01)
    for i in range(0, 190):
        if i != 100:
            sim.caller_hangs_up(f"c{i:03d}")
    (bucket,) = [b for b in sim.engine.router.buckets.values() if b.size]
    assert bucket.size == 11
    assert len(bucket.heap) <= 2 * bucket.size + 8
    cmds = sim.feed(sim.engine.set_status("ann", AgentStatus.AVAILABLE, sim.now))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["c100"]


def test_empty_buckets_are_dropped_once_they_pile_up() -> None:
    queues = [_queue(f"q{i}") for i in range(200)]
    sim = Sim.build(queues, [_agent("ann", 3)], available=False)
    for i in range(200):
        sim.arrive(f"c{i}", f"q{i}")
    assert len(sim.engine.router.buckets) == 200
    for i in range(200):
        sim.caller_hangs_up(f"c{i}")
    assert len(sim.engine.router.buckets) <= 64
    sim.arrive("late", "q7")
    cmds = sim.feed(sim.engine.set_status("ann", AgentStatus.AVAILABLE, sim.now))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["late"]
