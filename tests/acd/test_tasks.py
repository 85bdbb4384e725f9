"""Tasks (work without a caller line: voicemails, callback requests) reserved for one agent or routed
by a requirement of their own instead of the queue's routing steps."""

from __future__ import annotations

import pytest

from callserver.acd.commands import OfferTask
from callserver.acd.expr import parse
from callserver.acd.model import AgentStatus
from callserver.facts.model import CallAnswered

from .driver import Sim
from .test_routing import queue, skilled

AVAILABLE = AgentStatus.AVAILABLE


def sim_of(*agents: str) -> Sim:
    levels = {"junior": 3, "senior": 8, "other": 1}
    return Sim.build(
        [queue("billing", (0.0, "billing >= 5"), (30.0, "billing >= 1"))],
        [skilled(a, billing=levels[a]) for a in agents],
    )


def offered(sim: Sim) -> list[tuple[str, str]]:
    return [(c.task_id, c.agent_id) for c in sim.commands if isinstance(c, OfferTask)]


def test_a_task_for_one_agent_waits_for_that_agent_even_when_others_are_free() -> None:
    sim = sim_of("senior", "junior")
    sim.status("junior", AgentStatus.LOGGED_OUT)
    sim.feed(sim.engine.task_arrived("sc-1", queue="billing", data=None, now=sim.now, agent="junior"))
    sim.advance_to(120)  # the queue's steps widen; the task stays the junior's
    assert offered(sim) == []
    sim.status("junior", AVAILABLE)
    assert offered(sim) == [("sc-1", "junior")]
    assert any(isinstance(f, CallAnswered) and f.agent_id == "junior" for f in sim.take_facts())


def test_a_task_requirement_replaces_the_queue_steps_and_does_not_widen() -> None:
    sim = sim_of("junior")
    requirement = parse("billing >= 8")
    sim.feed(sim.engine.task_arrived("t-1", queue="billing", data=None, now=sim.now, requirement=requirement))
    sim.advance_to(600)  # past the queue's 30 s step that would let the junior take a call
    assert offered(sim) == []
    assert sim.engine.next_deadline() is None  # no routing-step timer for a task with its own rule


def test_a_task_requirement_can_be_wider_than_the_queue() -> None:
    sim = sim_of("other")
    sim.feed(
        sim.engine.task_arrived(
            "t-2", queue="billing", data=None, now=sim.now, requirement=parse("billing >= 1")
        )
    )
    assert offered(sim) == [("t-2", "other")]


def test_a_task_for_an_unknown_agent_is_refused() -> None:
    sim = sim_of("junior")
    with pytest.raises(ValueError, match="unknown agent 'zoe'"):
        sim.engine.task_arrived("t-3", queue="billing", data=None, now=sim.now, agent="zoe")
    assert "t-3" not in sim.engine.calls
