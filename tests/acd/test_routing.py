"""Routing on a virtual clock: requirements over call data, relaxation steps, strategies, call choice,
queue limits, announcements, callbacks and remote agents."""

from __future__ import annotations

import pytest

from callserver.acd.adapter import leg_variables
from callserver.acd.commands import (
    Announce,
    CancelAgentLeg,
    Command,
    ConfirmCallback,
    OfferTask,
    OriginateAgentLeg,
    PlayMessageAndHangup,
    SendCallerTo,
)
from callserver.acd.expr import parse
from callserver.acd.model import (
    AgentSpec,
    AgentState,
    AgentStatus,
    CallState,
    Destination,
    QueueSpec,
    RoutingStep,
    Strategy,
)
from callserver.acd.offers import NO_ANSWER_REASON
from callserver.acd.queueing import DEFAULT_AHT
from callserver.facts.model import (
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallRequeued,
    OfferEnded,
    OfferResult,
    Outcome,
)

from .driver import Sim

IDLE, RINGING, ON_CALL = AgentState.IDLE, AgentState.RINGING, AgentState.ON_CALL
AVAILABLE, PAUSED = AgentStatus.AVAILABLE, AgentStatus.PAUSED


def skilled(ident: str, *, remote: bool = False, **levels: int) -> AgentSpec:
    return AgentSpec(ident, ident.title(), f"PJSIP/{ident}", dict(levels), remote=remote)


def queue(name: str = "billing", *requirements: tuple[float, str], **kw: object) -> QueueSpec:
    steps = tuple(RoutingStep(after, parse(text)) for after, text in requirements or ((0.0, "billing"),))
    return QueueSpec(name=name, steps=steps, **kw)  # type: ignore[arg-type]


def offered_to(cmds: list[Command]) -> list[str]:
    return [c.agent_id for c in cmds if isinstance(c, OriginateAgentLeg)]


def logged_in_in_order(sim: Sim, *idents: str) -> None:
    for ident in idents:
        sim.advance(1.0)
        sim.status(ident, AVAILABLE)


def take(sim: Sim, call_id: str, queue_name: str, agent_id: str, talk: float) -> None:
    """A call that `agent_id` answers at once and that lasts `talk` seconds."""
    assert offered_to(sim.arrive(call_id, queue_name)) == [agent_id]
    sim.answer(sim.ringing_leg(agent_id))
    sim.advance(talk)
    sim.hang_up_leg(sim.ringing_leg(agent_id))


# -- requirements over call data ----------------------------------------------------------------

FR_VIP = 'billing >= 3 and (call.language != "fr" or french >= 5) and (not customer.vip or billing >= 7)'


def fr_vip_sim() -> Sim:
    agents = [
        skilled("old", billing=9, french=2),  # longest idle, but no French
        skilled("mid", billing=4, french=8),  # French, but not senior enough for a VIP
        skilled("low", billing=2, french=9),  # not billing at all
        skilled("pro", billing=7, french=5),  # the only one for a French VIP
    ]
    sim = Sim.build([queue("billing", (0.0, FR_VIP))], agents, available=False)
    logged_in_in_order(sim, "old", "mid", "low", "pro")
    return sim


def test_french_vip_caller_goes_to_the_only_qualified_agent_not_the_longest_idle() -> None:
    sim = fr_vip_sim()
    cmds = sim.arrive_with("c1", "billing", data={"call.language": "fr", "customer.vip": True})
    assert offered_to(cmds) == ["pro"]
    assert sim.agent("old") == (AVAILABLE, IDLE)


def test_french_caller_without_vip_may_go_to_a_junior_french_speaker() -> None:
    sim = fr_vip_sim()
    assert offered_to(sim.arrive_with("c1", "billing", data={"call.language": "fr"})) == ["mid"]


def test_english_caller_goes_to_anyone_with_billing_three_longest_idle_first() -> None:
    sim = fr_vip_sim()
    data = {"call.language": "en", "customer.vip": False}
    assert offered_to(sim.arrive_with("c1", "billing", data=data)) == ["old"]
    assert offered_to(sim.arrive_with("c2", "billing", data=data)) == ["mid"]
    assert offered_to(sim.arrive_with("c3", "billing", data=data)) == ["pro"]
    assert sim.arrive_with("c4", "billing", data=data) == []  # "low" has billing 2
    assert sim.agent("low") == (AVAILABLE, IDLE)


# -- relaxation steps -----------------------------------------------------------------------------

RELAXING = ((0.0, "billing >= 8"), (30.0, "billing >= 5"), (60.0, "billing >= 1"))


def test_step_widens_the_requirement_exactly_at_its_time() -> None:
    sim = Sim.build([queue("billing", *RELAXING)], [skilled("five", billing=5)])
    assert sim.arrive("c1", "billing") == []
    assert offered_to(sim.advance_to(29.9)) == []
    assert sim.engine.calls["c1"].step == 0
    assert offered_to(sim.advance_to(30.0)) == ["five"]
    assert sim.engine.calls["c1"].step == 1


def test_last_step_reaches_the_most_junior_agent_at_sixty_seconds() -> None:
    sim = Sim.build([queue("billing", *RELAXING)], [skilled("one", billing=1)])
    sim.arrive("c1", "billing")
    assert offered_to(sim.advance_to(59.9)) == []
    assert sim.engine.calls["c1"].step == 1
    assert offered_to(sim.advance_to(60.0)) == ["one"]


def test_expert_takes_the_call_at_once_without_waiting_for_any_step() -> None:
    sim = Sim.build([queue("billing", *RELAXING)], [skilled("five", billing=5), skilled("ace", billing=9)])
    assert offered_to(sim.arrive("c1", "billing")) == ["ace"]


def test_each_call_relaxes_at_its_own_time() -> None:
    sim = Sim.build([queue("billing", *RELAXING)], [skilled("f1", billing=5), skilled("f2", billing=6)])
    sim.arrive("c1", "billing")
    sim.advance_to(10.0)
    sim.arrive("c2", "billing")
    cmds = sim.advance_to(30.0)
    assert [(c.call_id, c.agent_id) for c in cmds if isinstance(c, OriginateAgentLeg)] == [("c1", "f1")]
    assert sim.engine.calls["c2"].step == 0
    assert offered_to(sim.advance_to(39.9)) == []
    cmds = sim.advance_to(40.0)
    assert [(c.call_id, c.agent_id) for c in cmds if isinstance(c, OriginateAgentLeg)] == [("c2", "f2")]


# -- strategies ---------------------------------------------------------------------------------


def test_longest_idle_picks_the_agent_free_the_longest() -> None:
    agents = [skilled("a", billing=1), skilled("b", billing=1), skilled("c", billing=1)]
    sim = Sim.build([queue()], agents, available=False)
    logged_in_in_order(sim, "c", "a", "b")
    sim.advance(10)
    assert offered_to(sim.arrive("c1", "billing")) == ["c"]


def test_least_occupied_prefers_the_agent_with_the_lowest_occupancy_over_the_longest_idle() -> None:
    q = queue(strategy=Strategy.LEAST_OCCUPIED)
    sim = Sim.build([q], [skilled("busy", billing=1), skilled("fresh", billing=1)], available=False)
    sim.status("busy", AVAILABLE)
    sim.advance_to(10)
    take(sim, "c1", "billing", "busy", talk=70)  # busy 70 s of the 100 s staffed by t=100
    sim.advance_to(90)
    sim.status("fresh", AVAILABLE)  # idle for less time, but never occupied
    sim.advance_to(100)
    assert offered_to(sim.arrive("c2", "billing")) == ["fresh"]


def test_fewest_calls_prefers_the_agent_with_fewer_calls_over_the_longest_idle() -> None:
    q = queue(strategy=Strategy.FEWEST_CALLS)
    sim = Sim.build([q], [skilled("a", billing=1), skilled("b", billing=1)])
    sim.advance_to(1)
    assert offered_to(sim.arrive("c1", "billing")) == ["a"]  # tie on calls: longest idle
    sim.answer(sim.ringing_leg("a"))
    sim.advance_to(2)
    assert offered_to(sim.arrive("c2", "billing")) == ["b"]
    sim.answer(sim.ringing_leg("b"))
    sim.advance_to(3)
    sim.hang_up_leg(sim.ringing_leg("a"))
    sim.advance_to(4)
    take(sim, "c3", "billing", "a", talk=1)  # a: two calls, idle since 5
    sim.advance_to(10)
    sim.hang_up_leg(sim.ringing_leg("b"))  # b: one call, idle since 10
    sim.advance_to(20)
    assert offered_to(sim.arrive("c4", "billing")) == ["b"]


def test_best_skill_prefers_the_highest_level_then_the_longest_idle() -> None:
    q = queue("billing", (0.0, "billing >= 3"), strategy=Strategy.BEST_SKILL)
    agents = [skilled("ok", billing=5), skilled("top1", billing=9), skilled("top2", billing=9)]
    sim = Sim.build([q], agents, available=False)
    logged_in_in_order(sim, "ok", "top2", "top1")
    assert offered_to(sim.arrive("c1", "billing")) == ["top2"]
    assert offered_to(sim.arrive("c2", "billing")) == ["top1"]
    assert offered_to(sim.arrive("c3", "billing")) == ["ok"]


def test_round_robin_rotates_over_agents_regardless_of_idle_time() -> None:
    q = queue(strategy=Strategy.ROUND_ROBIN)
    agents = [skilled("a", billing=1), skilled("b", billing=1), skilled("c", billing=1)]
    sim = Sim.build([q], agents, available=False)
    logged_in_in_order(sim, "c", "b", "a")  # longest idle would start with c
    chosen = []
    for i in range(5):
        cmds = sim.arrive(f"c{i}", "billing")
        (who,) = offered_to(cmds)
        chosen.append(who)
        sim.answer(sim.ringing_leg(who))
        sim.advance(5)
        sim.hang_up_leg(sim.ringing_leg(who))
    assert chosen == ["a", "b", "c", "a", "b"]


def random_choices(seed: int) -> list[str]:
    q = queue(strategy=Strategy.RANDOM)
    agents = [skilled(f"a{i}", billing=1) for i in range(5)] + [skilled("none", sales=1)]
    sim = Sim.build([q], agents, seed=seed)
    chosen = []
    for i in range(6):
        (who,) = offered_to(sim.arrive(f"c{i}", "billing"))
        chosen.append(who)
        sim.answer(sim.ringing_leg(who))
        sim.hang_up_leg(sim.ringing_leg(who))
    return chosen


def test_random_strategy_is_deterministic_for_a_seed_and_only_picks_eligible_agents() -> None:
    assert random_choices(7) == random_choices(7)
    picks = {tuple(random_choices(seed)) for seed in range(10)}
    assert len(picks) > 1
    assert all("none" not in p for p in picks)


def ring_all_sim() -> Sim:
    q = queue(strategy=Strategy.RING_ALL)
    agents = [
        skilled("a", billing=1),
        skilled("b", billing=1),
        skilled("c", billing=1),
        skilled("x", sales=1),
    ]
    sim = Sim.build([q], agents)
    sim.parallel_legs = True
    return sim


def test_ring_all_rings_every_eligible_free_agent_and_the_first_claim_wins() -> None:
    sim = ring_all_sim()
    cmds = sim.arrive("c1", "billing")
    assert sorted(offered_to(cmds)) == ["a", "b", "c"]
    legs = {c.agent_id: c.leg_id for c in cmds if isinstance(c, OriginateAgentLeg)}
    sim.take_facts()
    out = sim.feed(sim.engine.leg_claim(legs["b"], sim.now))
    assert sim.engine.legs[legs["b"]].claimed
    assert sorted(c.leg_id for c in out if isinstance(c, CancelAgentLeg)) == sorted([legs["a"], legs["c"]])
    ended = [(f.agent_id, f.result) for f in sim.take_facts() if isinstance(f, OfferEnded)]
    assert sorted(ended) == [("a", OfferResult.CANCELLED), ("c", OfferResult.CANCELLED)]
    # a second claim, even before the cancel lands, does not take the call
    sim.feed(sim.engine.leg_claim(legs["a"], sim.now))
    assert not sim.engine.legs[legs["a"]].claimed
    sim.answer(legs["b"])
    assert sim.engine.calls["c1"].state is CallState.CONNECTED
    assert sim.engine.calls["c1"].agent_id == "b"
    # a's phone answers late, before its hangup arrives: the engine hangs it up again
    late = sim.answer(legs["a"])
    assert late == [CancelAgentLeg(legs["a"])]
    sim.deliver_all()
    assert sim.agent("a") == (AVAILABLE, IDLE)
    assert sim.agent("c") == (AVAILABLE, IDLE)
    assert sim.agent("b") == (AVAILABLE, ON_CALL)
    assert sim.agent("x") == (AVAILABLE, IDLE)


def test_ring_all_pauses_nobody_for_not_answering() -> None:
    sim = ring_all_sim()
    cmds = sim.arrive("c1", "billing")
    legs = [c.leg_id for c in cmds if isinstance(c, OriginateAgentLeg)]
    for _ in range(3):  # every phone rings out, three rounds in a row
        for leg_id in legs:
            cmds = sim.ring_out(leg_id) or cmds
        legs = [c.leg_id for c in cmds if isinstance(c, OriginateAgentLeg)]
        assert len(legs) == 3
    assert {sim.agent(a)[0] for a in "abc"} == {AVAILABLE}
    assert not any(f for f in sim.take_facts() if getattr(f, "status", None) == "paused")


# -- which call an agent takes ----------------------------------------------------------------


def two_queue_sim(low: QueueSpec, high: QueueSpec) -> Sim:
    sim = Sim.build([low, high], [skilled("ann", billing=1)])
    sim.arrive("busy", low.name)
    sim.answer(sim.ringing_leg("ann"))
    return sim


def test_freed_agent_takes_the_highest_priority_call_across_its_queues() -> None:
    sim = two_queue_sim(queue("low"), queue("high", priority=5))
    sim.arrive("old", "low")
    sim.advance_to(10)
    sim.arrive("new", "high")
    sim.advance_to(20)
    cmds = sim.hang_up_leg(sim.ringing_leg("ann"))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["new"]


def test_freed_agent_takes_the_longest_waiting_call_at_equal_priority() -> None:
    sim = two_queue_sim(queue("one"), queue("two"))
    sim.advance_to(5)
    sim.arrive("second", "two")  # queue "one" was entered first by "busy", but this call is older
    sim.advance_to(6)
    sim.arrive("third", "one")
    sim.advance_to(20)
    cmds = sim.hang_up_leg(sim.ringing_leg("ann"))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["second"]


@pytest.mark.parametrize(("high_arrives", "first"), [(290.0, "high"), (310.0, "low")])
def test_old_low_priority_call_overtakes_a_newer_high_priority_one_after_ageing(
    high_arrives: float, first: str
) -> None:
    # one point a minute: a 5-point gap is closed by 300 s of extra waiting
    sim = two_queue_sim(queue("low", max_wait=3600.0), queue("high", priority=5, max_wait=3600.0))
    sim.arrive("low", "low")
    sim.advance_to(high_arrives)
    sim.arrive("high", "high")
    sim.advance_to(400)
    cmds = sim.hang_up_leg(sim.ringing_leg("ann"))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == [first]


def test_vip_bonus_puts_a_newer_vip_caller_first() -> None:
    sim = two_queue_sim(queue("billing", vip_priority=10), queue("other"))
    sim.arrive_with("plain", "billing", data={"customer.vip": False})
    sim.advance_to(60)
    sim.arrive_with("vip", "billing", data={"customer.vip": True})
    sim.advance_to(120)
    cmds = sim.hang_up_leg(sim.ringing_leg("ann"))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["vip"]


def test_voicemail_task_waits_behind_live_calls_and_is_offered_as_a_task() -> None:
    sim = two_queue_sim(queue("billing", max_wait=3600.0), queue("other"))
    assert sim.task("vm1", "billing", data={"call.language": "fr"}) == []
    sim.advance_to(600)  # ten minutes of ageing is nowhere near the task's -1000
    sim.arrive("live", "billing")
    sim.advance_to(610)
    cmds = sim.hang_up_leg(sim.ringing_leg("ann"))
    assert [c.call_id for c in cmds if isinstance(c, OriginateAgentLeg)] == ["live"]
    sim.answer(sim.ringing_leg("ann"))
    sim.advance_to(620)
    cmds = sim.hang_up_leg(sim.ringing_leg("ann"))
    assert cmds == [OfferTask("vm1", "ann", "voicemail")]
    assert sim.agent("ann") == (AVAILABLE, ON_CALL)
    assert sim.engine.calls["vm1"].state is CallState.CONNECTED
    assert any(isinstance(f, CallAnswered) and f.call_id == "vm1" for f in sim.take_facts())
    sim.advance_to(700)
    sim.feed(sim.engine.task_done("vm1", sim.now))
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert sim.ended(sim.take_facts())["vm1"].outcome is Outcome.ANSWERED


# -- queue limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dest", "command", "outcome"),
    [
        (
            Destination("voicemail", "200"),
            SendCallerTo("c2", "PJSIP/trunk-c2", "voicemail", "200"),
            "overflowed",
        ),
        (Destination("number", "0800"), SendCallerTo("c2", "PJSIP/trunk-c2", "number", "0800"), "overflowed"),
        (
            Destination("message", "all-busy"),
            PlayMessageAndHangup("c2", "PJSIP/trunk-c2", "all-busy"),
            "timed_out",
        ),
    ],
)
def test_full_queue_sends_the_next_caller_to_its_on_full_destination(
    dest: Destination, command: Command, outcome: str
) -> None:
    sim = Sim.build([queue(max_length=1, on_full=dest)], [skilled("ann", billing=1)], available=False)
    assert sim.arrive("c1", "billing") == []
    assert sim.arrive("c2", "billing") == [command]
    facts = sim.ended(sim.take_facts())
    assert facts["c2"].outcome == outcome
    assert "c1" not in facts and sim.engine.calls["c1"].state is CallState.WAITING


def test_full_queue_can_overflow_into_another_queue() -> None:
    queues = [queue(max_length=1, on_full=Destination("queue", "spare")), queue("spare")]
    sim = Sim.build(queues, [skilled("ann", billing=1)], available=False)
    sim.arrive("c1", "billing")
    assert sim.arrive("c2", "billing") == []
    assert [f for f in sim.take_facts() if isinstance(f, CallRequeued)] == [
        CallRequeued("c2", 0.0, "billing", "spare")
    ]
    assert sim.engine.calls["c2"].queue == "spare"
    sim.advance(1)
    assert [c.call_id for c in sim.status("ann", AVAILABLE) if isinstance(c, OriginateAgentLeg)] == ["c1"]


def test_queue_refuses_callers_when_nobody_is_logged_in() -> None:
    q = queue(refuse_without_agents=True, on_no_agents=Destination("voicemail", "300"))
    sim = Sim.build([q], [skilled("ann", billing=1)], available=False)
    assert sim.arrive("c1", "billing") == [SendCallerTo("c1", "PJSIP/trunk-c1", "voicemail", "300")]
    assert sim.ended(sim.take_facts())["c1"].outcome is Outcome.OVERFLOWED
    sim.status("ann", PAUSED, "lunch")  # logged in, even on a break: callers wait for her
    assert sim.arrive("c2", "billing") == []
    assert sim.engine.calls["c2"].state is CallState.WAITING


def test_caller_leaves_for_the_timeout_destination_at_max_wait() -> None:
    q = queue(max_wait=120.0, on_timeout=Destination("voicemail", "400"))
    sim = Sim.build([q], [skilled("ann", billing=1)], available=False)
    sim.arrive("c1", "billing")
    assert sim.advance_to(119.9) == []
    assert sim.advance_to(120.0) == [SendCallerTo("c1", "PJSIP/trunk-c1", "voicemail", "400")]
    assert sim.ended(sim.take_facts())["c1"].outcome is Outcome.OVERFLOWED


def test_agent_is_paused_only_after_the_second_unanswered_offer_in_a_row() -> None:
    sim = Sim.build([queue(pause_after_no_answers=2)], [skilled("ann", billing=1)])
    sim.arrive("c1", "billing")
    sim.ring_out(sim.ringing_leg("ann"))
    assert sim.agent("ann") == (AVAILABLE, RINGING)  # offered again at once: nobody else
    sim.ring_out(sim.ringing_leg("ann"))
    assert sim.agent("ann") == (PAUSED, IDLE)
    assert sim.engine.agents["ann"].reason == NO_ANSWER_REASON


def test_answered_call_resets_the_no_answer_count() -> None:
    sim = Sim.build([queue(pause_after_no_answers=2)], [skilled("ann", billing=1)])
    sim.arrive("c1", "billing")
    sim.ring_out(sim.ringing_leg("ann"))
    sim.answer(sim.ringing_leg("ann"))
    sim.advance(30)
    sim.hang_up_leg(sim.ringing_leg("ann"))
    sim.arrive("c2", "billing")
    sim.ring_out(sim.ringing_leg("ann"))
    assert sim.agent("ann") == (AVAILABLE, RINGING)
    sim.ring_out(sim.ringing_leg("ann"))
    assert sim.agent("ann") == (PAUSED, IDLE)


# -- announcements -------------------------------------------------------------------------------


def announcements(cmds: list[Command]) -> list[tuple[str, int, int]]:
    return [(c.call_id, c.position, c.wait_seconds) for c in cmds if isinstance(c, Announce)]


def test_announcements_give_position_and_a_wait_estimate_that_follows_the_live_handle_time() -> None:
    q = queue(announce_every=20.0, max_wait=1000.0)
    sim = Sim.build([q], [skilled("a", billing=1), skilled("b", billing=1), skilled("x", sales=1)])
    sim.arrive("ta", "billing")
    sim.answer(sim.ringing_leg("a"))
    sim.arrive("tb", "billing")
    sim.answer(sim.ringing_leg("b"))
    sim.arrive("c1", "billing")
    sim.advance_to(1)
    sim.arrive("c2", "billing")
    # two agents available for billing (x does not count), the default handle time
    assert announcements(sim.advance_to(21)) == [
        ("c1", 1, round(1 * DEFAULT_AHT / 2)),
        ("c2", 2, round(2 * DEFAULT_AHT / 2)),
    ]
    sim.advance_to(40)
    sim.hang_up_leg(sim.ringing_leg("a"))  # a 40 s call: the handle time drops to 166 s
    assert sim.engine.aht["billing"] == pytest.approx(166.0)
    assert sim.engine.calls["c1"].state is CallState.OFFERING
    assert announcements(sim.advance_to(41)) == [("c2", 1, 83)]
    sim.status("b", PAUSED, "break")  # one agent left: the same position waits twice as long
    assert announcements(sim.advance_to(61)) == [("c2", 1, 166)]


# -- callbacks --------------------------------------------------------------------------------------


def test_callback_keeps_the_callers_place_and_dials_them_back() -> None:
    q = queue(callback_key="5", max_wait=60.0)
    sim = Sim.build([q], [skilled("ann", billing=1)])
    sim.arrive("busy", "billing")
    sim.answer(sim.ringing_leg("ann"))
    sim.advance_to(5)
    sim.arrive("c1", "billing", caller_num="0612345678")
    sim.advance_to(10)
    assert sim.feed(sim.engine.dtmf("c1", "4", sim.now)) == []  # not the callback key
    assert sim.feed(sim.engine.dtmf("c1", "5", sim.now)) == [ConfirmCallback("c1", "PJSIP/trunk-c1")]
    sim.advance_to(11)
    sim.caller_hangs_up("c1")
    facts = sim.take_facts()
    assert [f for f in facts if isinstance(f, CallbackRequested)] == [
        CallbackRequested("c1", 10.0, "billing", "0612345678")
    ]
    assert "c1" not in sim.ended(facts)
    sim.advance_to(20)
    sim.arrive("later", "billing")
    sim.advance_to(200)  # past max_wait: a callback does not time out
    assert "c1" in sim.engine.calls
    cmds = sim.hang_up_leg(sim.ringing_leg("ann"))
    (offer,) = [c for c in cmds if isinstance(c, OriginateAgentLeg)]
    assert (offer.call_id, offer.purpose, leg_variables(offer)["CS_DIAL"]) == ("c1", "callback", "0612345678")


def test_claimed_callback_leg_that_never_bridges_ends_the_call_as_callback_failed() -> None:
    sim = Sim.build([queue(callback_key="5")], [skilled("ann", billing=1)], available=False)
    sim.arrive("c1", "billing", caller_num="0612345678")
    sim.feed(sim.engine.dtmf("c1", "5", sim.now))
    sim.caller_hangs_up("c1")
    sim.status("ann", AVAILABLE)
    leg = sim.ringing_leg("ann")
    sim.feed(sim.engine.leg_claim(leg, sim.now))
    sim.advance(30)
    sim.ring_out(leg)  # the customer did not pick up
    assert sim.ended(sim.take_facts())["c1"].outcome is Outcome.CALLBACK_FAILED
    assert sim.agent("ann") == (AVAILABLE, IDLE)
    assert "c1" not in sim.engine.calls


# -- remote agents -----------------------------------------------------------------------------------


def test_remote_agent_must_accept_each_offer() -> None:
    sim = Sim.build([queue()], [skilled("home", remote=True, billing=1), skilled("desk", billing=1)])
    sim.arrive("c1", "billing")
    sim.arrive("c2", "billing")
    assert sim.engine.leg_needs_accept(sim.ringing_leg("home"))
    assert not sim.engine.leg_needs_accept(sim.ringing_leg("desk"))


def test_agent_logging_in_from_home_must_accept_and_is_dialled_there() -> None:
    sim = Sim.build([queue()], [skilled("ann", billing=1)], available=False)
    sim.engine.set_endpoint("ann", "PJSIP/trunk/0601020304", remote=True)
    sim.status("ann", AVAILABLE)
    (offer,) = [c for c in sim.arrive("c1", "billing") if isinstance(c, OriginateAgentLeg)]
    assert offer.endpoint == "PJSIP/trunk/0601020304"
    assert sim.engine.leg_needs_accept(offer.leg_id)


def test_remote_agent_refusing_after_pick_up_counts_as_no_answer() -> None:
    sim = Sim.build([queue()], [skilled("home", remote=True, billing=1)])
    sim.arrive("c1", "billing")
    leg = sim.ringing_leg("home")
    sim.feed(sim.engine.leg_picked_up(leg, sim.now))
    sim.take_facts()
    sim.ring_out(leg)  # pressed nothing / hung up: the leg ends without a bridge
    facts = sim.take_facts()
    assert [(f.agent_id, f.result) for f in facts if isinstance(f, OfferEnded)] == [
        ("home", OfferResult.NO_ANSWER)
    ]
    assert sim.agent("home") == (PAUSED, IDLE)
    assert sim.engine.calls["c1"].state is CallState.WAITING
    assert not [f for f in facts if isinstance(f, CallEnded)]
