"""Call handling by agents on a virtual clock: hold, transfers, consultation, and what is refused."""

from __future__ import annotations

import pytest

from callserver.acd.commands import CancelAgentLeg, OriginateAgentLeg
from callserver.acd.handling import NotAllowed
from callserver.acd.model import AgentSpec, AgentState, AgentStatus, CallState, QueueSpec
from callserver.facts.model import CallHeld, CallResumed, CallTransferred, Outcome

from .driver import Sim

IDLE, RINGING, ON_CALL, WRAPUP = AgentState.IDLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAPUP
AVAILABLE = AgentStatus.AVAILABLE


def person(ident: str, *skills: str) -> AgentSpec:
    return AgentSpec(ident, ident.title(), f"PJSIP/{ident}", dict.fromkeys(skills, 5))


def centre() -> Sim:
    """ann takes c1 from "billing"; bob and carl are free; wrap-up 30 s in every queue."""
    queues = [
        QueueSpec(name="billing", skills=frozenset({"billing"}), wrapup=30.0, max_wait=3600.0),
        QueueSpec(name="sales", skills=frozenset({"sales"}), wrapup=30.0, max_wait=3600.0),
    ]
    agents = [person("ann", "billing"), person("carl", "billing", "sales"), person("bob", "billing", "sales")]
    sim = Sim.build(queues, agents, available=False)
    sim.parallel_legs = True  # a consultation or a transfer rings a second leg for the same caller
    for ident in ("ann", "carl", "bob"):  # carl idle longer than bob
        sim.status(ident, AVAILABLE)
        sim.advance(1)
    sim.arrive("c1", "billing")
    sim.answer(sim.ringing_leg("ann"))
    sim.take_facts()
    return sim


def originated(cmds: list[object]) -> list[tuple[str, str, str]]:
    return [(c.call_id, c.agent_id, c.purpose) for c in cmds if isinstance(c, OriginateAgentLeg)]


# -- hold ----------------------------------------------------------------------------------------


def test_hold_and_resume_report_the_time_on_hold() -> None:
    sim = centre()
    sim.advance_to(10)
    sim.feed(sim.engine.hold("c1", sim.now))
    sim.advance_to(25)
    sim.feed(sim.engine.resume("c1", sim.now))
    sim.advance_to(40)
    sim.feed(sim.engine.hold("c1", sim.now))
    sim.advance_to(45)
    sim.feed(sim.engine.resume("c1", sim.now))
    facts = sim.take_facts()
    assert [f for f in facts if isinstance(f, CallHeld | CallResumed)] == [
        CallHeld("c1", 10.0, "ann"),
        CallResumed("c1", 25.0, "ann", 15.0),
        CallHeld("c1", 40.0, "ann"),
        CallResumed("c1", 45.0, "ann", 5.0),
    ]
    assert sim.engine.calls["c1"].hold_total == 20.0


def test_hold_time_still_running_at_hangup_is_counted() -> None:
    sim = centre()
    sim.advance_to(10)
    sim.feed(sim.engine.hold("c1", sim.now))
    call = sim.engine.calls["c1"]
    sim.advance_to(18)
    sim.caller_hangs_up("c1")
    assert call.hold_total == 8.0 and not call.on_hold


def test_hold_twice_and_resume_without_hold_are_refused() -> None:
    sim = centre()
    with pytest.raises(NotAllowed, match="not on hold"):
        sim.engine.resume("c1", sim.now)
    sim.engine.hold("c1", sim.now)
    with pytest.raises(NotAllowed, match="already on hold"):
        sim.engine.hold("c1", sim.now)


# -- blind transfers ---------------------------------------------------------------------------------


def test_transfer_to_queue_rings_an_agent_of_that_queue_and_puts_the_first_in_wrapup() -> None:
    sim = centre()
    sim.advance_to(60)
    first_leg = sim.ringing_leg("ann")
    cmds = sim.feed(sim.engine.transfer_to_queue("c1", "sales", sim.now))
    assert CancelAgentLeg(first_leg) in cmds
    assert originated(cmds) == [("c1", "carl", "offer")]
    assert sim.agent("ann") == (AVAILABLE, WRAPUP)
    facts = sim.take_facts()
    assert CallTransferred("c1", 60.0, "ann", "queue", "sales") in facts
    sim.deliver_all()  # ann's leg goes
    sim.answer(sim.ringing_leg("carl"))
    assert sim.engine.calls["c1"].queue == "sales"
    assert sim.engine.calls["c1"].agent_id == "carl"


def test_transfer_to_agent_is_only_ever_offered_to_that_agent() -> None:
    sim = centre()
    sim.feed(sim.engine.hold("c1", sim.now))
    sim.arrive("busy", "sales")  # carl, the longest idle, is busy
    sim.answer(sim.ringing_leg("carl"))
    sim.arrive("busy2", "sales")
    sim.answer(sim.ringing_leg("bob"))
    sim.advance_to(50)
    cmds = sim.feed(sim.engine.transfer_to_agent("c1", "carl", sim.now))
    assert originated(cmds) == []  # carl is on a call; bob is free but may not take it
    assert sim.engine.calls["c1"].state is CallState.WAITING
    assert not sim.engine.calls["c1"].on_hold
    sim.advance_to(60)
    cmds = sim.hang_up_leg(sim.ringing_leg("bob"))
    sim.advance_to(100)  # bob's wrap-up ends: still not for him
    assert originated(cmds) == []
    assert sim.agent("bob") == (AVAILABLE, IDLE)
    sim.hang_up_leg(sim.ringing_leg("carl"))
    cmds = sim.advance_to(200)  # carl's wrap-up ends
    assert originated(cmds) == [("c1", "carl", "offer")]


def test_transfer_out_ends_the_call_as_transferred_and_frees_the_agent_after_wrapup() -> None:
    sim = centre()
    sim.advance_to(45)
    cmds = sim.feed(sim.engine.transfer_out("c1", "0800123456", sim.now))
    assert CancelAgentLeg(sim.originates("ann")[0].leg_id) in cmds
    facts = sim.take_facts()
    assert CallTransferred("c1", 45.0, "ann", "number", "0800123456") in facts
    assert sim.ended(facts)["c1"].outcome is Outcome.TRANSFERRED
    assert sim.agent("ann") == (AVAILABLE, WRAPUP)
    sim.deliver_all()
    sim.advance_to(75)
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert sim.engine.calls == {} and sim.engine.legs == {}


def test_transfer_to_the_agent_who_has_the_call_is_refused() -> None:
    sim = centre()
    with pytest.raises(NotAllowed, match="agent who has it"):
        sim.engine.transfer_to_agent("c1", "ann", sim.now)
    with pytest.raises(NotAllowed, match="unknown agent zoe"):
        sim.engine.transfer_to_agent("c1", "zoe", sim.now)


# -- consultation ---------------------------------------------------------------------------------


def consulting(sim: Sim, target: str) -> str:
    cmds = sim.feed(sim.engine.consult_agent("c1", target, sim.now))
    assert originated(cmds) == [("c1", target, "consult")]
    return sim.ringing_leg(target)


def test_consulted_agent_is_busy_and_not_offered_other_calls() -> None:
    sim = centre()
    consulting(sim, "carl")
    assert sim.agent("carl") == (AVAILABLE, RINGING)
    assert originated(sim.arrive("c2", "billing")) == [("c2", "bob", "offer")]
    assert originated(sim.arrive("c3", "billing")) == []
    sim.answer(sim.ringing_leg("carl"))
    assert sim.agent("carl") == (AVAILABLE, ON_CALL)
    assert sim.engine.calls["c3"].state is CallState.WAITING


def test_consult_complete_moves_the_call_to_the_colleague() -> None:
    sim = centre()
    sim.feed(sim.engine.hold("c1", sim.now))
    leg = consulting(sim, "carl")
    sim.answer(leg)
    sim.advance_to(40)
    cmds = sim.feed(sim.engine.consult_complete("c1", sim.now))
    assert CancelAgentLeg(sim.originates("ann")[0].leg_id) in cmds
    call = sim.engine.calls["c1"]
    assert (call.agent_id, call.leg_id, call.consult_leg, call.on_hold) == ("carl", leg, None, False)
    assert sim.agent("ann") == (AVAILABLE, WRAPUP)
    assert CallTransferred("c1", 40.0, "ann", "consult", "carl") in sim.take_facts()
    sim.deliver_all()
    sim.advance_to(90)
    sim.hang_up_leg(leg)
    ended = sim.ended(sim.take_facts())["c1"]
    assert (ended.outcome, ended.agent_id) == (Outcome.ANSWERED, "carl")
    assert sim.agent("carl") == (AVAILABLE, WRAPUP)
    assert sim.engine.agents["carl"].calls_today == 1


def test_consult_cancel_frees_the_colleague_once_their_leg_is_gone() -> None:
    sim = centre()
    leg = consulting(sim, "carl")
    sim.answer(leg)
    sim.arrive("c2", "billing")
    sim.answer(sim.ringing_leg("bob"))
    sim.arrive("c3", "billing")  # nobody free
    cmds = sim.feed(sim.engine.consult_cancel("c1", sim.now))
    assert cmds == [CancelAgentLeg(leg)]
    assert sim.agent("carl") == (AVAILABLE, ON_CALL)  # until the PBX says the leg is gone
    cmds = sim.hang_up_leg(leg)
    assert originated(cmds) == [("c3", "carl", "offer")]
    call = sim.engine.calls["c1"]
    assert (call.state, call.agent_id, call.consult_leg) == (CallState.CONNECTED, "ann", None)


def test_consult_refusals_name_the_reason() -> None:
    sim = centre()
    with pytest.raises(NotAllowed, match="has no consultation"):
        sim.engine.consult_cancel("c1", sim.now)
    with pytest.raises(NotAllowed, match="has no answered consultation"):
        sim.engine.consult_complete("c1", sim.now)
    sim.arrive("c2", "billing")  # rings carl
    with pytest.raises(NotAllowed, match="agent carl is not free"):
        sim.engine.consult_agent("c1", "carl", sim.now)
    consulting(sim, "bob")
    with pytest.raises(NotAllowed, match="has no answered consultation"):
        sim.engine.consult_complete("c1", sim.now)
    with pytest.raises(NotAllowed, match="already has a consultation"):
        sim.engine.consult_agent("c1", "carl", sim.now)


def test_call_control_on_a_call_not_connected_names_its_state() -> None:
    sim = centre()
    sim.arrive("c2", "billing")  # ringing carl
    with pytest.raises(NotAllowed, match="call c2 is offering, not connected"):
        sim.engine.hold("c2", sim.now)
    sim.arrive("c3", "billing")
    sim.arrive("c4", "billing")  # nobody free: waiting
    with pytest.raises(NotAllowed, match="call c4 is waiting, not connected"):
        sim.engine.transfer_to_queue("c4", "sales", sim.now)
    with pytest.raises(NotAllowed, match="call gone is not in progress"):
        sim.engine.transfer_out("gone", "0800", sim.now)
    sim.caller_hangs_up("c1")
    with pytest.raises(NotAllowed, match="call c1 is not in progress"):
        sim.engine.hold("c1", sim.now)


def test_call_transferred_to_an_agent_who_never_takes_it_overflows_to_anyone_in_the_next_queue() -> None:
    queues = [
        QueueSpec(name="billing", skills=frozenset({"billing"}), max_wait=60.0, overflow_queue="sales"),
        QueueSpec(name="sales", skills=frozenset({"sales"}), max_wait=60.0),
    ]
    sim = Sim.build(queues, [person("ann", "billing"), person("bob", "billing"), person("carl", "sales")])
    sim.parallel_legs = True
    sim.arrive("c1", "billing")
    sim.answer(sim.ringing_leg("ann"))
    sim.status("bob", AgentStatus.PAUSED, "lunch")
    sim.feed(sim.engine.transfer_to_agent("c1", "bob", sim.now))
    sim.deliver_all()
    assert sim.advance_to(59.0) == []  # only bob may take it, and bob is at lunch
    cmds = sim.advance_to(60.0)
    assert originated(cmds) == [("c1", "carl", "offer")]
