"""ACD engine behaviour on a virtual clock: who gets which call, and what happens when things go wrong."""

from __future__ import annotations

import pytest

from callserver.acd.adapter import leg_variables
from callserver.acd.commands import CancelAgentLeg, Command, OriginateAgentLeg, PlayMessageAndHangup
from callserver.acd.legs import LEG_GRACE
from callserver.acd.model import AgentState, AgentStatus, QueueSpec
from callserver.acd.offers import NO_ANSWER_REASON, UNREACHABLE_REASON
from callserver.acd.state import UnknownQueue
from callserver.facts.model import (
    AgentStatusChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallQueued,
    CallRequeued,
    OfferEnded,
    OfferResult,
    Outcome,
)

from .driver import Sim, agent

IDLE, RINGING, ON_CALL, WRAPUP = AgentState.IDLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAPUP
AVAILABLE, PAUSED = AgentStatus.AVAILABLE, AgentStatus.PAUSED


def sales(**kw: object) -> QueueSpec:
    return QueueSpec(name="sales", skills=frozenset({"sales"}), **kw)  # type: ignore[arg-type]


def logged_in_at(sim: Sim, times: dict[str, float]) -> None:
    for ident, t in sorted(times.items(), key=lambda kv: kv[1]):
        sim.advance_to(t)
        sim.status(ident, AVAILABLE)


def offered_to(cmds: list[Command]) -> list[str]:
    return [c.agent_id for c in cmds if isinstance(c, OriginateAgentLeg)]


# -- routing ---------------------------------------------------------------------------------


def test_longest_idle_agent_gets_the_call() -> None:
    sim = Sim.build(
        [sales()], [agent("ann", "sales"), agent("bob", "sales"), agent("cy", "sales")], available=False
    )
    logged_in_at(sim, {"bob": 1.0, "cy": 2.0, "ann": 3.0})
    sim.advance_to(10.0)
    assert offered_to(sim.arrive("c1", "sales")) == ["bob"]
    assert offered_to(sim.arrive("c2", "sales")) == ["cy"]
    assert offered_to(sim.arrive("c3", "sales")) == ["ann"]


def test_agent_back_from_a_call_goes_to_the_end_of_the_idle_line() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales"), agent("bob", "sales")], available=False)
    logged_in_at(sim, {"ann": 1.0, "bob": 2.0})
    sim.arrive("c1", "sales")
    sim.answer(sim.ringing_leg("ann"))
    sim.advance(30)
    sim.hang_up_leg(sim.ringing_leg("ann"))
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert offered_to(sim.arrive("c2", "sales")) == ["bob"]


def test_idle_tie_goes_to_the_agent_available_first() -> None:
    sim = Sim.build([sales()], [agent("zed", "sales"), agent("amy", "sales"), agent("kim", "sales")])
    # all three logged in at t=0, in that order: same idle_since, so the order they became free decides
    assert offered_to(sim.arrive("c1", "sales")) == ["zed"]
    assert offered_to(sim.arrive("c2", "sales")) == ["amy"]
    assert offered_to(sim.arrive("c3", "sales")) == ["kim"]


def test_agent_without_queue_skills_is_never_offered() -> None:
    queues = [QueueSpec(name="fr", skills=frozenset({"sales", "french"}), max_wait=60.0)]
    sim = Sim.build(queues, [agent("ann", "sales"), agent("bob", "french")])
    assert sim.arrive("c1", "fr") == []
    sim.advance(120)
    assert sim.ended(sim.take_facts())["c1"].outcome is Outcome.TIMED_OUT
    assert sim.originates() == []


def test_agent_with_a_superset_of_skills_serves_the_queue() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales", "french", "support")])
    assert offered_to(sim.arrive("c1", "sales")) == ["ann"]


def test_queue_without_skills_is_served_by_everyone() -> None:
    sim = Sim.build([QueueSpec(name="general")], [agent("ann")])
    assert offered_to(sim.arrive("c1", "general")) == ["ann"]


def test_paused_and_logged_out_agents_are_not_offered() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales"), agent("bob", "sales")])
    sim.status("ann", PAUSED, "lunch")
    sim.status("bob", AgentStatus.LOGGED_OUT)
    assert sim.arrive("c1", "sales") == []
    assert offered_to(sim.status("bob", AVAILABLE)) == ["bob"]


def test_oldest_call_served_first_across_queues() -> None:
    queues = [sales(), QueueSpec(name="support", skills=frozenset({"support"}))]
    sim = Sim.build(queues, [agent("ann", "sales", "support")], available=False)
    sim.arrive("s1", "support")
    sim.advance(5)
    sim.arrive("x1", "sales")
    sim.advance(5)
    sim.arrive("s2", "support")
    sim.advance(5)
    served = []
    sim.status("ann", AVAILABLE)
    for _ in range(3):
        leg = sim.ringing_leg("ann")
        served.append(sim.legs[leg].cmd.call_id)
        sim.answer(leg)
        sim.hang_up_leg(leg)
    assert served == ["s1", "x1", "s2"]


def test_originate_carries_what_the_dialplan_needs() -> None:
    sim = Sim.build([sales(ring_timeout=20.0)], [agent("ann", "sales")])
    (cmd,) = sim.arrive("c1", "sales", caller_num="0612", caller_name="Jo")
    assert isinstance(cmd, OriginateAgentLeg)
    assert (cmd.call_id, cmd.agent_id, cmd.endpoint, cmd.ring_timeout) == ("c1", "ann", "PJSIP/ann", 20.0)
    assert cmd.caller_channel == "PJSIP/trunk-c1"
    assert cmd.caller_id == '"Jo" <0612>'
    # the PBX adapter turns the command into the channel variables the dialplan reads
    assert leg_variables(cmd) == {"CS_CALLER": "PJSIP/trunk-c1", "CS_CALL": "c1", "CS_AGENT": "ann"}


def test_unknown_queue_is_refused() -> None:
    sim = Sim.build([sales()], [])
    with pytest.raises(UnknownQueue):
        sim.arrive("c1", "nowhere")


def test_duplicate_arrival_of_a_live_call_is_ignored() -> None:
    sim = Sim.build([sales()], [])
    sim.arrive("c1", "sales")
    sim.arrive("c1", "sales")
    assert [type(f) for f in sim.take_facts()] == [CallQueued]


# -- answer, no answer, hangups --------------------------------------------------------------


def test_answered_call_reports_wait_and_ends_answered_when_agent_hangs_up() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")], available=False)
    sim.arrive("c1", "sales")
    sim.advance(12)
    sim.status("ann", AVAILABLE)
    leg = sim.ringing_leg("ann")
    sim.advance(3)
    sim.answer(leg)
    assert sim.agent("ann") == (AVAILABLE, ON_CALL)
    sim.advance(60)
    sim.hang_up_leg(leg)
    facts = sim.take_facts()
    answered = [f for f in facts if isinstance(f, CallAnswered)]
    assert [(f.agent_id, f.wait) for f in answered] == [("ann", 15.0)]
    assert sim.ended(facts)["c1"] == CallEnded(
        "c1", 75.0, "sales", Outcome.ANSWERED, "ann", 15.0, ended_by="agent"
    )
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert sim.engine.calls == {} and sim.engine.legs == {}


def test_ring_no_answer_pauses_agent_and_offers_next_agent() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales"), agent("bob", "sales")])
    sim.arrive("c1", "sales")
    first = sim.ringing_leg("ann")
    sim.advance(15)
    cmds = sim.ring_out(first)
    assert offered_to(cmds) == ["bob"]
    assert sim.agent("ann") == (PAUSED, IDLE)
    assert sim.engine.agents["ann"].reason == NO_ANSWER_REASON
    facts = sim.take_facts()
    assert OfferEnded("c1", 15.0, "ann", first, OfferResult.NO_ANSWER) in facts
    assert AgentStatusChanged("ann", 15.0, "paused", NO_ANSWER_REASON) in facts
    assert [f.attempt for f in facts if isinstance(f, CallOffered)] == [1, 2]


def test_unreachable_phone_pauses_with_its_own_reason() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.ring_out(leg, unreachable=True)
    assert sim.engine.agents["ann"].reason == UNREACHABLE_REASON
    assert OfferEnded("c1", 0.0, "ann", leg, OfferResult.FAILED) in sim.take_facts()


def test_leg_hangup_before_answer_counts_as_no_answer() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales"), agent("bob", "sales")])
    sim.arrive("c1", "sales")
    assert offered_to(sim.hang_up_leg(sim.ringing_leg("ann"))) == ["bob"]
    assert sim.agent("ann") == (PAUSED, IDLE)


def test_paused_agent_resumes_after_no_answer_resume() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")], no_answer_resume=30.0)
    sim.arrive("c1", "sales")
    sim.advance(15)
    sim.ring_out(sim.ringing_leg("ann"))
    assert sim.agent("ann") == (PAUSED, IDLE)
    assert sim.engine.next_deadline() == 45.0
    assert sim.advance_to(44.9) == []
    cmds = sim.advance_to(45.0)
    assert sim.engine.agents["ann"].status is AVAILABLE
    assert offered_to(cmds) == ["ann"]  # the caller was still waiting for her
    assert AgentStatusChanged("ann", 45.0, "available", "") in sim.take_facts()


def test_no_answer_pause_stays_without_auto_resume() -> None:
    sim = Sim.build([sales(max_wait=60.0)], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    sim.ring_out(sim.ringing_leg("ann"))
    sim.advance(1000)
    assert sim.agent("ann") == (PAUSED, IDLE)


def test_agent_pausing_by_hand_cancels_the_auto_resume() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")], no_answer_resume=30.0)
    sim.arrive("c1", "sales")
    sim.ring_out(sim.ringing_leg("ann"))
    sim.status("ann", PAUSED, "lunch")
    sim.advance(100)
    assert sim.engine.agents["ann"].status is PAUSED
    assert sim.engine.agents["ann"].reason == "lunch"


def test_caller_abandons_while_waiting() -> None:
    sim = Sim.build([sales()], [])
    sim.arrive("c1", "sales")
    sim.advance(20)
    assert sim.caller_hangs_up("c1") == []
    assert sim.ended(sim.take_facts())["c1"] == CallEnded("c1", 20.0, "sales", Outcome.ABANDONED, None, 20.0)
    assert sim.engine.calls == {}
    assert sim.engine.next_deadline() is None  # the max-wait timer died with the call


def test_caller_abandons_while_ringing_cancels_leg_and_frees_agent_only_when_leg_gone() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.advance(4)
    sim.arrive("c2", "sales")
    assert sim.caller_hangs_up("c1") == [CancelAgentLeg(leg)]
    facts = sim.take_facts()
    assert OfferEnded("c1", 4.0, "ann", leg, OfferResult.CANCELLED) in facts
    assert sim.ended(facts)["c1"] == CallEnded("c1", 4.0, "sales", Outcome.ABANDONED, None, 4.0)
    # the phone still rings until the PBX says the leg is gone: c2 must wait
    assert sim.agent("ann") == (AVAILABLE, RINGING)
    assert offered_to(sim.commands) == ["ann"]
    sim.advance(1)
    cmds = sim.hang_up_leg(leg)
    assert sim.engine.agents["ann"].status is AVAILABLE  # not the agent's fault: no pause
    assert offered_to(cmds) == ["ann"]
    assert sim.legs[sim.ringing_leg("ann")].cmd.call_id == "c2"


def test_agent_answering_a_cancelled_leg_is_hung_up_and_freed() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.caller_hangs_up("c1")
    assert sim.answer(leg) == [CancelAgentLeg(leg)]  # picked up just too late
    assert sim.agent("ann") == (AVAILABLE, RINGING)
    sim.deliver_all()
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert not any(isinstance(f, CallAnswered) for f in sim.take_facts())


def test_caller_hangs_up_during_conversation() -> None:
    sim = Sim.build([sales(wrapup=10.0)], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.advance(2)
    sim.answer(leg)
    sim.advance(40)
    sim.caller_hangs_up("c1")
    assert sim.ended(sim.take_facts())["c1"].outcome is Outcome.ANSWERED
    assert sim.agent("ann") == (AVAILABLE, WRAPUP)
    sim.hang_up_leg(leg)  # the bridge tore the agent's leg down too
    sim.advance(10)
    assert sim.agent("ann") == (AVAILABLE, IDLE)


def test_agent_is_not_offered_a_new_call_before_the_old_leg_is_gone() -> None:
    """Caller leaves a conversation: until the agent's own leg hangs up, their phone is busy."""
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.answer(leg)
    sim.arrive("c2", "sales")
    sim.caller_hangs_up("c1")  # the driver raises if ann is originated to while `leg` is up
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert offered_to(sim.commands) == ["ann"]
    sim.deliver_all()  # the PBX reports the agent's leg gone
    assert offered_to(sim.commands) == ["ann", "ann"]
    assert sim.legs[sim.ringing_leg("ann")].cmd.call_id == "c2"


# -- max wait and overflow -------------------------------------------------------------------


def test_max_wait_overflows_to_other_queue() -> None:
    queues = [sales(max_wait=60.0, overflow_queue="backup"), QueueSpec(name="backup", max_wait=120.0)]
    sim = Sim.build(queues, [agent("bob")], available=False)
    sim.arrive("c1", "sales")
    sim.advance(60)
    facts = sim.take_facts()
    assert CallRequeued("c1", 60.0, "sales", "backup") in facts
    assert not sim.ended(facts)
    sim.advance(10)
    cmds = sim.status("bob", AVAILABLE)  # bob only serves backup
    assert offered_to(cmds) == ["bob"]
    assert sim.originates()[0].call_id == "c1"
    sim.answer(sim.ringing_leg("bob"))
    answered = [f for f in sim.take_facts() if isinstance(f, CallAnswered)]
    assert [(f.queue, f.wait) for f in answered] == [("backup", 70.0)]


def test_max_wait_without_overflow_plays_message_and_ends_timed_out() -> None:
    sim = Sim.build([sales(max_wait=60.0, timeout_message="sorry-closed")], [])
    sim.arrive("c1", "sales")
    assert sim.advance_to(59.9) == []
    assert sim.advance_to(60.0) == [PlayMessageAndHangup("c1", "PJSIP/trunk-c1", "sorry-closed")]
    assert sim.ended(sim.take_facts())["c1"] == CallEnded("c1", 60.0, "sales", Outcome.TIMED_OUT, None, 60.0)
    sim.deliver_all()  # the PBX hangs the caller up after the message: nothing more happens
    assert sim.take_facts() == []


def test_queue_without_timeout_message_uses_the_default() -> None:
    sim = Sim.build([sales(max_wait=5.0, timeout_message=None)], [])
    sim.arrive("c1", "sales")
    assert sim.advance(5) == [PlayMessageAndHangup("c1", "PJSIP/trunk-c1", "vm-goodbye")]


def test_overflow_loop_ends_instead_of_cycling() -> None:
    queues = [
        QueueSpec(name="a", max_wait=10.0, overflow_queue="b"),
        QueueSpec(name="b", max_wait=20.0, overflow_queue="a"),
    ]
    sim = Sim.build(queues, [])
    sim.arrive("c1", "a")
    sim.advance(1000)
    facts = sim.take_facts()
    assert [f for f in facts if isinstance(f, CallRequeued)] == [CallRequeued("c1", 10.0, "a", "b")]
    assert sim.ended(facts)["c1"] == CallEnded("c1", 30.0, "b", Outcome.TIMED_OUT, None, 30.0)
    assert sim.engine.next_deadline() is None


def test_zero_max_wait_chain_resolves_at_once() -> None:
    queues = [QueueSpec(name="a", max_wait=0.0, overflow_queue="b"), QueueSpec(name="b", max_wait=0.0)]
    sim = Sim.build(queues, [])
    assert sim.arrive("c1", "a") == [PlayMessageAndHangup("c1", "PJSIP/trunk-c1", "vm-goodbye")]
    assert sim.ended(sim.take_facts())["c1"].queue == "b"


def test_max_wait_does_not_cut_a_ringing_offer_but_applies_when_it_fails() -> None:
    sim = Sim.build([sales(max_wait=10.0, ring_timeout=15.0)], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    assert sim.advance(10) == []
    assert sim.agent("ann") == (AVAILABLE, RINGING)
    sim.advance(5)
    assert sim.ring_out(leg) == [PlayMessageAndHangup("c1", "PJSIP/trunk-c1", "vm-goodbye")]
    assert sim.ended(sim.take_facts())["c1"].outcome is Outcome.TIMED_OUT


# -- wrap-up and watchdogs -------------------------------------------------------------------


def test_wrapup_holds_agent_until_deadline() -> None:
    sim = Sim.build([sales(wrapup=20.0)], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.answer(leg)
    sim.advance(30)
    sim.hang_up_leg(leg)
    sim.arrive("c2", "sales")
    assert sim.agent("ann") == (AVAILABLE, WRAPUP)
    assert sim.advance_to(49.9) == []
    cmds = sim.advance_to(50.0)
    assert sim.agent("ann") == (AVAILABLE, RINGING)
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["c2"]


def test_leg_that_never_reports_is_given_up_by_watchdog() -> None:
    sim = Sim.build([sales(ring_timeout=15.0)], [agent("ann", "sales"), agent("bob", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    assert sim.engine.next_deadline() == 15.0 + LEG_GRACE
    cmds = sim.advance(15.0 + LEG_GRACE)
    assert CancelAgentLeg(leg) in cmds
    assert offered_to(cmds) == ["bob"]
    assert sim.agent("ann") == (PAUSED, IDLE)
    assert sim.engine.legs.keys() == {sim.ringing_leg("bob")}
    # the lost result turns up late: ignored
    sim.answer(leg)
    assert sim.agent("ann") == (PAUSED, IDLE)


def test_cancelled_leg_that_never_goes_away_is_given_up_after_grace() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.advance(3)
    sim.caller_hangs_up("c1")
    sim.pending.clear()  # the hangup of the leg is lost
    cmds = sim.advance(LEG_GRACE)
    assert cmds == [CancelAgentLeg(leg)]
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert sim.engine.legs == {}


# -- PBX link --------------------------------------------------------------------------------


def test_pbx_down_holds_offers_until_ready() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.link(False)
    assert sim.arrive("c1", "sales") == []
    sim.advance(30)
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert offered_to(sim.link(True)) == ["ann"]


def test_originate_refused_by_a_dead_link_requeues_without_blaming_the_agent() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.pbx_up = False  # the link died; the engine has not heard yet
    sim.arrive("c1", "sales")
    assert sim.engine.pbx_ready is False
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    facts = sim.take_facts()
    assert [f.result for f in facts if isinstance(f, OfferEnded)] == [OfferResult.FAILED]
    assert sim.engine.calls["c1"].state.value == "waiting"
    assert offered_to(sim.link(True)) == ["ann"]


def test_calls_still_time_out_while_the_pbx_is_down() -> None:
    sim = Sim.build([sales(max_wait=30.0)], [agent("ann", "sales")])
    sim.link(False)
    sim.arrive("c1", "sales")
    assert sim.advance(30) == [PlayMessageAndHangup("c1", "PJSIP/trunk-c1", "vm-goodbye")]


# -- late and duplicate events ---------------------------------------------------------------


def test_events_for_unknown_legs_and_calls_are_ignored() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    e = sim.engine
    assert e.leg_answered("nope", 0.0) == []
    assert e.leg_failed("nope", 0.0) == []
    assert e.leg_hung_up("nope", 0.0) == []
    assert e.pbx_error("nope", 0.0) == []
    assert e.caller_hung_up("nope", 0.0) == []
    assert e.pop_facts() == []


def test_duplicate_events_after_a_call_ended_change_nothing() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.answer(leg)
    sim.hang_up_leg(leg)
    sim.take_facts()
    e = sim.engine
    for out in (
        e.leg_answered(leg, 1.0),
        e.leg_hung_up(leg, 1.0),
        e.leg_failed(leg, 1.0),
        e.caller_hung_up("c1", 1.0),
    ):
        assert out == []
    assert e.pop_facts() == []
    assert sim.agent("ann") == (AVAILABLE, IDLE)


def test_leg_left_behind_by_a_departed_caller_is_given_up_after_grace() -> None:
    sim = Sim.build([sales()], [agent("ann", "sales")])
    sim.arrive("c1", "sales")
    leg = sim.ringing_leg("ann")
    sim.answer(leg)
    sim.arrive("c2", "sales")
    assert sim.caller_hangs_up("c1") == [CancelAgentLeg(leg)]
    sim.pending.clear()  # the agent leg's hangup is lost
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert sim.advance(LEG_GRACE - 0.1) == []
    cmds = sim.advance(0.1)
    assert cmds[0] == CancelAgentLeg(leg)
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["c2"]
