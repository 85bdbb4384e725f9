"""Property test of skills-based routing: random agents, requirements, steps, priorities and strategies.

Hypothesis drives random arrivals (with random call data), answers, ring-outs, hangups, transfers,
status changes and clock moves. Every offer is checked when the engine makes it: the agent meets the
call's current requirement (or is the agent it was transferred to), and no waiting call the agent could
have taken had a strictly higher effective priority. Steps must have fired at their times, no agent may
hold two legs, and after a drain every call has ended exactly once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callserver.acd.commands import Command
from callserver.acd.engine import AcdEngine
from callserver.acd.expr import parse
from callserver.acd.model import (
    Agent,
    AgentSpec,
    AgentState,
    AgentStatus,
    Call,
    CallState,
    QueueSpec,
    RoutingStep,
    Strategy,
)
from callserver.facts.model import CallEnded, CallQueued

from .driver import Sim
from .test_properties import drain

EPSILON = 1e-9
REQUIREMENTS = (
    "true",
    "billing",
    "billing >= {n}",
    'billing >= {n} and (call.language != "fr" or french >= {m})',
    "not customer.vip or billing >= {n}",
    "french >= {m} or billing >= {n}",
    'call.language == "fr" and french >= {m}',
)


class CheckedEngine(AcdEngine):
    """The engine, with every offer checked against the state it is decided in (same `now`, same
    waiting calls: a check after the fact would see calls that went back to waiting later at that time).

    The check wraps the dispatcher's offer step, which every offer goes through."""

    violations: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._offer_unchecked = self.dispatcher.offer
        self.dispatcher.offer = self._offer  # type: ignore[method-assign]

    def _offer(self, call: Call, agents: list[Agent], now: float) -> list[Command]:
        (agent,) = agents  # no ring-all here
        skills = agent.spec.skills
        assert call.bound is not None and call.state is CallState.WAITING
        if call.target_agent is not None:
            if agent.id != call.target_agent:
                self.violations.append(f"{call.id} for {call.target_agent} offered to {agent.id}")
        elif not call.bound.test(skills):
            self.violations.append(f"{call.id} ({call.bound.key}) offered to {agent.id} {skills}")
        elif call.excluded == agent.id:
            self.violations.append(f"{call.id} offered back to {agent.id}, who transferred it away")
        mine = effective(self, call, now)
        for other in self.calls.values():
            if other is call or other.state is not CallState.WAITING or not self.router.waiting_in(other):
                continue
            assert other.bound is not None
            may = other.target_agent == agent.id or (
                other.target_agent is None and other.bound.test(skills) and other.excluded != agent.id
            )
            if may and effective(self, other, now) > mine + EPSILON:
                self.violations.append(
                    f"{agent.id} offered {call.id} ({mine:.3f}) while {other.id} "
                    f"({effective(self, other, now):.3f}) waited at {now}"
                )
        return self._offer_unchecked(call, agents, now)


def effective(engine: AcdEngine, call: Call, now: float) -> float:
    return call.priority + engine.router.ageing * (now - call.arrived_at)


@st.composite
def requirement(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(REQUIREMENTS))
    return text.format(n=draw(st.integers(1, 9)), m=draw(st.integers(1, 9)))


@st.composite
def routing_queue(draw: st.DrawFn, name: str, other: str) -> QueueSpec:
    afters = sorted(draw(st.sets(st.sampled_from([10, 20, 30, 45, 60, 120]), max_size=3)))
    steps = tuple(RoutingStep(float(after), parse(draw(requirement()))) for after in [0, *afters])
    return QueueSpec(
        name=name,
        steps=steps,
        strategy=draw(st.sampled_from([s for s in Strategy if s is not Strategy.RING_ALL])),
        priority=draw(st.integers(0, 5)),
        vip_priority=draw(st.sampled_from([0, 0, 3, 10])),
        max_wait=draw(st.sampled_from([30.0, 90.0, 600.0])),
        overflow_queue=draw(st.sampled_from([None, other])),
        ring_timeout=draw(st.sampled_from([5.0, 15.0])),
        wrapup=draw(st.sampled_from([0.0, 0.0, 10.0])),
        pause_after_no_answers=draw(st.integers(1, 3)),
    )


@st.composite
def setups(draw: st.DrawFn) -> Sim:
    queues = [draw(routing_queue("q0", "q1")), draw(routing_queue("q1", "q0"))]
    agents = []
    for i in range(draw(st.integers(2, 5))):
        levels = {s: draw(st.integers(0, 9)) for s in ("billing", "french")}
        agents.append(AgentSpec(f"a{i}", f"A{i}", f"PJSIP/a{i}", {s: n for s, n in levels.items() if n}))
    engine = CheckedEngine(
        queues, agents, no_answer_resume=draw(st.sampled_from([None, 30.0])), seed=draw(st.integers(0, 3))
    )
    engine.violations = []
    sim = Sim(engine)
    sim.parallel_legs = True  # a transfer rings a new agent before the old leg's hangup arrives
    for spec in agents:
        if draw(st.sampled_from([True, True, False])):
            sim.advance(draw(st.sampled_from([0.0, 1.0])))
            sim.status(spec.id, AgentStatus.AVAILABLE)
    return sim


ACTIONS = (
    "arrive",
    "arrive",
    "answer",
    "answer",
    "ring_out",
    "hang_up_leg",
    "caller_hangs_up",
    "deliver",
    "status",
    "tick",
    "next_deadline",
    "transfer",
    "transfer",
)


def step(sim: Sim, data: st.DataObject, arrived: list[str]) -> bool:
    """One random event; True when it ran the engine's timers (so steps must be up to date)."""
    e = sim.engine
    action = data.draw(st.sampled_from(ACTIONS))
    ringing = sorted(k for k, v in sim.legs.items() if not v.up)
    up = sorted(k for k, v in sim.legs.items() if v.up)
    if action == "arrive":
        call_id = f"c{len(arrived)}"
        arrived.append(call_id)
        call_data = {
            "call.language": data.draw(st.sampled_from(["fr", "en", None])),
            "customer.vip": data.draw(st.booleans()),
        }
        sim.arrive_with(call_id, data.draw(st.sampled_from(sorted(e.queues))), data=call_data)
    elif action == "answer" and ringing:
        sim.answer(data.draw(st.sampled_from(ringing)))
    elif action == "ring_out" and ringing:
        sim.ring_out(data.draw(st.sampled_from(ringing)), unreachable=data.draw(st.booleans()))
    elif action == "hang_up_leg" and up:
        sim.hang_up_leg(data.draw(st.sampled_from(up)))
    elif action == "caller_hangs_up" and sim.callers:
        sim.caller_hangs_up(data.draw(st.sampled_from(sorted(sim.callers))))
    elif action == "deliver" and sim.pending:
        sim.deliver(data.draw(st.sampled_from(sim.pending)))
    elif action == "status":
        status = data.draw(st.sampled_from(list(AgentStatus)))
        sim.status(
            data.draw(st.sampled_from(sorted(e.agents))), status, "break" if status == "paused" else ""
        )
    elif action == "tick":
        sim.advance(data.draw(st.sampled_from([1.0, 5.0, 10.0, 30.0])))
        return True
    elif action == "next_deadline" and e.next_deadline() is not None:
        sim.run_next_deadline()
        return True
    elif action == "transfer":
        connected = sorted(c.id for c in e.calls.values() if c.state is CallState.CONNECTED)
        if connected:
            call = e.calls[data.draw(st.sampled_from(connected))]
            others = sorted(a for a in e.agents if a != call.agent_id)
            if data.draw(st.booleans()):
                sim.feed(e.transfer_to_agent(call.id, data.draw(st.sampled_from(others)), sim.now))
            else:
                sim.feed(e.transfer_to_queue(call.id, data.draw(st.sampled_from(sorted(e.queues))), sim.now))
    return False


def check_booking(sim: Sim) -> None:
    e = sim.engine
    per_agent = Counter(leg.agent_id for leg in e.legs.values())
    assert max(per_agent.values(), default=0) <= 1, f"agent with two legs: {per_agent}"
    live = Counter(leg.call_id for leg in e.legs.values() if not leg.cancelled and leg.call_id in e.calls)
    assert max(live.values(), default=0) <= 1, f"call with two live legs: {live}"
    for a in e.agents.values():
        if a.state is AgentState.RINGING:
            assert a.leg_id in e.legs, a


def check_steps(sim: Sim) -> None:
    """A waiting call is at the step whose time has come: as many steps passed as `after`s reached."""
    e = sim.engine
    for call in e.calls.values():
        if call.state is not CallState.WAITING:
            continue
        steps = e.queues[call.queue].routing_steps()
        due = sum(1 for s in steps if s.after <= sim.now - call.queued_at)
        assert call.step == due - 1, f"{call.id} at step {call.step}, {due} due at {sim.now}"
        assert call.bound == steps[call.step].requirement.bind(call.data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setups(), st.data())
def test_routing_respects_requirements_priorities_and_steps_and_loses_no_call(
    sim: Sim, data: st.DataObject
) -> None:
    arrived: list[str] = []
    queued: Counter[str] = Counter()
    ended: Counter[str] = Counter()

    def settle(timers_ran: bool) -> None:
        for f in sim.take_facts():
            if isinstance(f, CallQueued):
                queued[f.call_id] += 1
            elif isinstance(f, CallEnded):
                ended[f.call_id] += 1
        assert isinstance(sim.engine, CheckedEngine)
        assert not sim.engine.violations, sim.engine.violations
        check_booking(sim)
        if timers_ran:
            check_steps(sim)

    settle(False)
    for _ in range(data.draw(st.integers(5, 80), label="steps")):
        settle(step(sim, data, arrived))
    drain(sim)
    settle(False)

    e = sim.engine
    assert e.calls == {} and e.legs == {}
    assert all(a.state is AgentState.IDLE for a in e.agents.values())
    assert set(queued) == set(arrived) and all(queued[c] == 1 for c in arrived)
    assert set(ended) == set(arrived) and all(ended[c] == 1 for c in arrived)
