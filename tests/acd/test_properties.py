"""Property test: whatever order the PBX reports things in, no call is lost and no agent double-booked.

Hypothesis drives a fake PBX through random arrivals, answers, ring-outs, hangups (including late and
duplicate ones), agent status changes, clock jumps and link failures; every step is checked against
the invariants, then everything is drained and every call must have ended exactly once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callserver.acd.model import AgentState, AgentStatus, CallState, QueueSpec
from callserver.facts.model import (
    AgentStateChanged,
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    CallRequeued,
    Fact,
    OfferEnded,
    Outcome,
)

from .driver import Sim, agent

SKILLS = ("sales", "support")


@dataclass
class Ledger:
    """Replays facts and refuses any that a call or agent could not legally produce in that order."""

    call: dict[str, str] = field(default_factory=dict)  # W(aiting) O(ffered) C(onnected) E(nded)
    offer: dict[str, tuple[str, str]] = field(default_factory=dict)  # call -> (leg, agent)
    agent_state: dict[str, str] = field(default_factory=dict)
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    ended: Counter[str] = field(default_factory=Counter)

    def see(self, f: Fact) -> None:
        if isinstance(f, CallQueued):
            assert f.call_id not in self.call, f"{f.call_id} queued twice"
            self.call[f.call_id] = "W"
        elif isinstance(f, CallOffered):
            self._move(f.call_id, "W", "O", f)
            self.offer[f.call_id] = (f.leg_id, f.agent_id)
        elif isinstance(f, OfferEnded):
            self._move(f.call_id, "O", "W", f)
            assert self.offer.pop(f.call_id) == (f.leg_id, f.agent_id)
        elif isinstance(f, CallAnswered):
            self._move(f.call_id, "O", "C", f)
            assert self.offer[f.call_id][1] == f.agent_id
        elif isinstance(f, CallRequeued):
            self._move(f.call_id, "W", "W", f)
        elif isinstance(f, CallEnded):
            was = self.call.get(f.call_id)
            assert was in ("W", "C"), f"{f} while {was}"
            assert (f.outcome is Outcome.ANSWERED) == (was == "C"), f
            assert f.outcome is not Outcome.FAILED
            self.call[f.call_id] = "E"
            self.outcomes[f.outcome] += 1
            self.ended[f.call_id] += 1
        elif isinstance(f, AgentStateChanged):
            old = self.agent_state.get(f.agent_id, "idle")
            assert f.old == old, f"{f} but agent was {old}"
            self.agent_state[f.agent_id] = f.new
        else:
            assert isinstance(f, AgentStatusChanged)

    def _move(self, call_id: str, old: str, new: str, f: Fact) -> None:
        assert self.call.get(call_id) == old, f"{f} while {self.call.get(call_id)}"
        self.call[call_id] = new


def check_engine(sim: Sim) -> None:
    """Cross-check the engine's own records: one leg per agent and per call, states that agree."""
    e = sim.engine
    per_agent = Counter(leg.agent_id for leg in e.legs.values())
    assert max(per_agent.values(), default=0) <= 1, f"agent with two legs: {per_agent}"
    per_call = Counter(leg.call_id for leg in e.legs.values() if leg.call_id in e.calls)
    assert max(per_call.values(), default=0) <= 1, f"call offered twice: {per_call}"
    for call in e.calls.values():
        assert call.state is not CallState.ENDED
        if call.state is CallState.OFFERING:
            assert call.leg_id in e.legs and call.agent_id is not None
            a = e.agents[call.agent_id]
            assert (a.state, a.leg_id, a.call_id) == (AgentState.RINGING, call.leg_id, call.id)
        elif call.state is CallState.CONNECTED:
            assert call.agent_id is not None
            a = e.agents[call.agent_id]
            assert (a.state, a.call_id) == (AgentState.ON_CALL, call.id)
        else:
            assert call.leg_id is None and call.agent_id is None
    for a in e.agents.values():
        if a.state is AgentState.RINGING:
            assert a.leg_id in e.legs and e.legs[a.leg_id].agent_id == a.id
        if a.state is AgentState.ON_CALL:
            assert a.call_id in e.calls


@st.composite
def setups(draw: st.DrawFn) -> Sim:
    def queue(name: str, skills: frozenset[str], overflow: list[str]) -> QueueSpec:
        return QueueSpec(
            name=name,
            skills=skills,
            max_wait=draw(st.sampled_from([0.0, 20.0, 60.0, 200.0])),
            overflow_queue=draw(st.sampled_from([None, *overflow])),
            ring_timeout=draw(st.sampled_from([5.0, 15.0])),
            wrapup=draw(st.sampled_from([0.0, 0.0, 10.0])),
        )

    queues = [
        queue("sales", frozenset({"sales"}), ["support", "general"]),
        queue("support", frozenset({"support"}), ["sales", "general"]),
        queue("general", frozenset(), ["sales"]),
    ]
    n = draw(st.integers(2, 6))
    agents = [agent(f"a{i}", *draw(st.sets(st.sampled_from(SKILLS)))) for i in range(n)]
    resume = draw(st.sampled_from([None, 0.0, 30.0]))
    sim = Sim.build(queues, agents, available=False, no_answer_resume=resume)
    for spec in agents:
        if draw(st.booleans()):
            sim.advance(draw(st.sampled_from([0.0, 1.0])))
            sim.status(spec.id, AgentStatus.AVAILABLE)
    return sim


ACTIONS = (
    "arrive",
    "answer",
    "ring_out",
    "hang_up_leg",
    "caller_hangs_up",
    "deliver",
    "status",
    "tick",
    "next_deadline",
    "link_down",
    "link_dies_silently",
    "link_up",
    "stale",
)


def step(sim: Sim, data: st.DataObject, arrived: list[str]) -> None:
    e = sim.engine
    action = data.draw(st.sampled_from(ACTIONS))
    ringing = sorted(k for k, v in sim.legs.items() if not v.up)
    up = sorted(k for k, v in sim.legs.items() if v.up)
    if action == "arrive":
        call_id = f"c{len(arrived)}"
        arrived.append(call_id)
        sim.arrive(call_id, data.draw(st.sampled_from(sorted(e.queues))))
    elif action == "answer" and ringing:
        sim.answer(data.draw(st.sampled_from(ringing)))
    elif action == "ring_out" and ringing:
        sim.ring_out(data.draw(st.sampled_from(ringing)), unreachable=data.draw(st.booleans()))
    elif action == "hang_up_leg" and sim.legs:
        sim.hang_up_leg(data.draw(st.sampled_from(sorted(sim.legs))))
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
        sim.advance(data.draw(st.sampled_from([0.0, 1.0, 5.0, 12.0, 30.0])))
    elif action == "next_deadline" and e.next_deadline() is not None:
        sim.run_next_deadline()
    elif action == "link_down":
        sim.link(False)
    elif action == "link_dies_silently":
        sim.pbx_up = False  # the engine only finds out when an originate fails
    elif action == "link_up":
        sim.link(True)
    elif action == "stale":
        # late or duplicate reports about legs and callers the PBX no longer has, and duplicate arrivals
        gone_legs = [*sorted({c.leg_id for c in sim.originates()} - set(sim.legs)), "cs-404"]
        gone_calls = [*sorted(set(arrived) - sim.callers), "c-404"]
        leg, call, now = (
            data.draw(st.sampled_from(gone_legs)),
            data.draw(st.sampled_from(gone_calls)),
            sim.now,
        )
        kind = data.draw(st.sampled_from(["answered", "failed", "hung_up", "pbx_error", "caller", "dup"]))
        if kind == "answered":
            sim.feed(e.leg_answered(leg, now))
        elif kind == "failed":
            sim.feed(e.leg_failed(leg, now))
        elif kind == "hung_up":
            sim.feed(e.leg_hung_up(leg, now))
        elif kind == "pbx_error":
            sim.feed(e.pbx_error(leg, now))
        elif kind == "caller":
            sim.feed(e.caller_hung_up(call, now))
        elif up:
            sim.feed(e.leg_answered(up[0], now))  # the same OriginateResponse twice


def drain(sim: Sim) -> None:
    """Let the PBX finish everything it has started and the clock run out; must terminate."""
    sim.link(True)
    for _ in range(2000):
        sim.deliver_all()
        for leg_id in sorted(sim.legs):
            leg = sim.legs.get(leg_id)
            if leg is not None and leg.up:
                sim.hang_up_leg(leg_id)
            elif leg is not None:
                sim.advance_to(leg.at + leg.cmd.ring_timeout)  # it rings out, unless a timer acts first
                if leg_id in sim.legs and not sim.legs[leg_id].up:
                    sim.ring_out(leg_id)
        if sim.legs or sim.pending:
            continue
        if sim.engine.next_deadline() is None:
            return
        sim.run_next_deadline()
    raise AssertionError("drain did not settle")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setups(), st.data())
def test_random_event_orders_lose_no_call_and_double_book_no_agent(sim: Sim, data: st.DataObject) -> None:
    ledger = Ledger()
    arrived: list[str] = []

    def settle() -> None:
        for f in sim.take_facts():
            ledger.see(f)
        check_engine(sim)

    settle()
    for _ in range(data.draw(st.integers(0, 80), label="steps")):
        step(sim, data, arrived)  # the driver itself refuses an originate to an agent or call already live
        settle()
    drain(sim)
    settle()

    e = sim.engine
    assert e.calls == {} and e.legs == {}
    assert all(a.state is AgentState.IDLE for a in e.agents.values())
    assert set(ledger.call) == set(arrived)
    assert all(state == "E" for state in ledger.call.values())
    assert all(ledger.ended[c] == 1 for c in arrived)
    assert len(arrived) == sum(ledger.outcomes.values())
    assert set(ledger.outcomes) <= {Outcome.ANSWERED, Outcome.ABANDONED, Outcome.TIMED_OUT}
