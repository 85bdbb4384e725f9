"""Wrap-up, transfers and voicemail callbacks on a virtual clock: the wrap-up's countdown and its
extension, what is saved when it runs out, a transferred call kept from the agent who transferred
it, a transfer to an agent that times out, and a callback that keeps its agent busy."""

from __future__ import annotations

from callserver.acd.expr import parse
from callserver.acd.model import AgentSpec, AgentState, AgentStatus, CallState, QueueSpec, RoutingStep
from callserver.acd.wrapups import WrapupDrafts
from callserver.facts.model import (
    AgentStateChanged,
    CallWrappedUp,
    Fact,
    TransferProgress,
    TransferState,
    WrapupExtended,
)

from .driver import Sim
from .test_handling import originated

IDLE, RINGING, ON_CALL, WRAPUP = AgentState.IDLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAPUP


def person(ident: str, *skills: str) -> AgentSpec:
    return AgentSpec(ident, ident.title(), f"PJSIP/{ident}", dict.fromkeys(skills, 5))


def centre(*, wrapup: float = 30.0, wrapup_max: float = 90.0, **engine: object) -> Sim:
    """ann talks with c1 from "billing"; bob is free too."""
    queues = [
        QueueSpec(
            name="billing",
            skills=frozenset({"billing"}),
            wrapup=wrapup,
            wrapup_max=wrapup_max,
            max_wait=3600.0,
        ),
        QueueSpec(name="sales", skills=frozenset({"sales"}), wrapup=wrapup, max_wait=3600.0),
    ]
    sim = Sim.build(queues, [person("ann", "billing", "sales"), person("bob", "billing")], available=False)
    for key, value in engine.items():
        setattr(sim.engine.acd, key, value)
    sim.parallel_legs = True
    sim.status("ann", AgentStatus.AVAILABLE)
    sim.advance(1)
    sim.status("bob", AgentStatus.AVAILABLE)
    sim.arrive("c1", "billing")
    sim.answer(sim.ringing_leg("ann"))
    sim.take_facts()
    return sim


def drafts_after(facts: list[Fact], book: WrapupDrafts) -> list[CallWrappedUp]:
    saved: list[CallWrappedUp] = []
    for fact in facts:
        saved += book.on_fact(fact)
    return saved


# -- wrap-up --------------------------------------------------------------------------------------


def test_wrapup_has_a_countdown_and_extends_up_to_the_queue_maximum() -> None:
    sim = centre()
    sim.advance_to(10)
    sim.caller_hangs_up("c1")
    start = next(f for f in sim.take_facts() if isinstance(f, AgentStateChanged) and f.new == "wrapup")
    assert start.until == 40.0
    assert sim.engine.extend_wrapup("ann", 30, sim.now) == 70.0
    assert sim.engine.extend_wrapup("ann", 60, sim.now) == 100.0  # 10 + 90: the maximum
    assert sim.engine.extend_wrapup("ann", 60, sim.now) == 100.0
    assert [f for f in sim.take_facts() if isinstance(f, WrapupExtended)] == [
        WrapupExtended("ann", 10.0, "c1", 70.0),
        WrapupExtended("ann", 10.0, "c1", 100.0),
    ]
    sim.deliver_all()
    sim.advance_to(99)
    assert sim.agent("ann")[1] is WRAPUP  # the extension holds past the first deadline (40)
    sim.advance_to(100)
    assert sim.agent("ann")[1] is IDLE
    assert sim.engine.extend_wrapup("ann", 30, sim.now) is None


def test_wrapup_timing_out_saves_the_draft_marked_timed_out() -> None:
    sim = centre()
    book = WrapupDrafts()
    facts = [f for f in sim.facts]
    sim.take_facts()
    # the book follows every fact from the answer on
    book.on_fact(AgentStateChanged("ann", 1.0, "ringing", "on_call", "c1"))
    assert book.save("ann", "c1", "sale", "two seats, call back Monday")
    sim.caller_hangs_up("c1")
    sim.deliver_all()
    sim.advance_to(60)
    saved = drafts_after(facts + sim.take_facts(), book)
    assert saved == [
        CallWrappedUp("c1", 31.0, "ann", "sale", "two seats, call back Monday", "", timed_out=True)
    ]


def test_wrapup_timing_out_with_nothing_chosen_is_saved_as_timed_out_with_no_code() -> None:
    sim = centre()
    book = WrapupDrafts()
    book.on_fact(AgentStateChanged("ann", 1.0, "ringing", "on_call", "c1"))
    sim.caller_hangs_up("c1")
    sim.deliver_all()
    sim.advance_to(60)
    assert drafts_after(sim.take_facts(), book) == [
        CallWrappedUp("c1", 31.0, "ann", "", "", "", timed_out=True)
    ]


def test_wrapup_sent_in_time_ends_it_and_nothing_more_is_saved() -> None:
    sim = centre()
    book = WrapupDrafts()
    book.on_fact(AgentStateChanged("ann", 1.0, "ringing", "on_call", "c1"))
    book.save("ann", "c1", "sale", "draft")
    sim.caller_hangs_up("c1")
    sim.advance_to(5)
    assert sim.engine.finish_wrapup("ann", "c2", "resolved", "", "ann", sim.now) == (False, [])
    done, _ = sim.engine.finish_wrapup("ann", "c1", "resolved", "final", "ann", sim.now)
    assert done and sim.agent("ann")[1] is IDLE
    facts = sim.take_facts()
    assert CallWrappedUp("c1", 5.0, "ann", "resolved", "final", "ann") in facts
    sim.deliver_all()
    sim.advance_to(100)
    assert drafts_after(facts + sim.take_facts(), book) == []


def test_draft_is_refused_for_a_call_the_agent_is_not_on() -> None:
    book = WrapupDrafts()
    book.on_fact(AgentStateChanged("ann", 1.0, "ringing", "on_call", "c1"))
    assert not book.save("ann", "c9", "sale", "")
    assert not book.save("bob", "c1", "sale", "")


# -- transfers ------------------------------------------------------------------------------------


def test_call_transferred_to_a_queue_is_not_offered_back_to_the_transferring_agent() -> None:
    sim = centre(wrapup=0.0, wrapup_max=0.0)
    sim.status("bob", AgentStatus.PAUSED, "lunch")
    sim.feed(sim.engine.transfer_to_queue("c1", "billing", sim.now))
    sim.deliver_all()  # ann's leg is gone: she is free at once (no wrap-up)
    assert sim.agent("ann") == (AgentStatus.AVAILABLE, IDLE)
    assert sim.engine.calls["c1"].state is CallState.WAITING
    cmds = sim.status("bob", AgentStatus.AVAILABLE)
    assert originated(cmds) == [("c1", "bob", "offer")]


def test_transferring_agent_gets_the_call_back_only_when_alone_after_the_last_step_and_a_delay() -> None:
    queues = [
        QueueSpec(
            name="billing",
            max_wait=3600.0,
            steps=(RoutingStep(0.0, parse("billing >= 9")), RoutingStep(20.0, parse("billing"))),
        )
    ]
    sim = Sim.build(queues, [person("ann", "billing"), person("bob", "billing")], available=False)
    sim.parallel_legs = True
    sim.status("ann", AgentStatus.AVAILABLE)
    sim.arrive("c1", "billing")
    sim.advance_to(25)  # the last step lets ann (level 5) take it
    sim.answer(sim.ringing_leg("ann"))
    sim.advance_to(100)
    sim.feed(sim.engine.transfer_to_queue("c1", "billing", sim.now))
    sim.deliver_all()
    assert sim.advance_to(129.9) == []  # 20 s to the last step, then 10 s more
    cmds = sim.advance_to(130.0)
    assert originated(cmds) == [("c1", "ann", "offer")]


def test_transferring_agent_stays_excluded_while_someone_else_is_available() -> None:
    sim = centre(wrapup=0.0, wrapup_max=0.0)
    sim.arrive("c2", "billing")
    sim.answer(sim.ringing_leg("bob"))  # bob busy but available
    sim.feed(sim.engine.transfer_to_queue("c1", "billing", sim.now))
    sim.deliver_all()
    assert originated(sim.advance(120)) == []  # keeps waiting for bob
    cmds = sim.hang_up_leg(sim.ringing_leg("bob"))
    assert originated(cmds) == [("c1", "bob", "offer")]


def test_transfer_to_a_busy_agent_waits_for_them_then_returns_to_the_queue() -> None:
    sim = centre(transfer_timeout=30.0)
    sim.arrive("c2", "billing")
    sim.answer(sim.ringing_leg("bob"))
    sim.take_facts()
    sim.feed(sim.engine.transfer_to_agent("c1", "bob", sim.now))
    sim.deliver_all()
    progress = [f for f in sim.take_facts() if isinstance(f, TransferProgress)]
    assert progress == [TransferProgress("c1", 1.0, "ann", "transfer", "agent", "bob", TransferState.WAITING)]
    sim.advance_to(30.9)
    assert sim.engine.calls["c1"].target_agent == "bob"
    sim.advance_to(31.0)
    returned = [f for f in sim.take_facts() if isinstance(f, TransferProgress)]
    assert [f.state for f in returned] == [TransferState.RETURNED]
    call = sim.engine.calls["c1"]
    assert (call.state, call.target_agent, call.excluded, call.queue) == (
        CallState.WAITING,
        None,
        "ann",
        "billing",
    )


def test_transfer_to_an_agent_returns_to_the_transferring_agent_when_configured() -> None:
    sim = centre(transfer_timeout=30.0, transfer_return="agent", wrapup=5.0)
    sim.status("bob", AgentStatus.PAUSED, "lunch")
    sim.feed(sim.engine.transfer_to_agent("c1", "bob", sim.now))
    sim.deliver_all()
    cmds = sim.advance_to(31.0)  # ann's wrap-up (5 s) is long over
    assert originated(cmds) == [("c1", "ann", "offer")]
    states = [f.state for f in sim.take_facts() if isinstance(f, TransferProgress)]
    assert states == [TransferState.WAITING, TransferState.RETURNED]  # back with ann: not a transfer now


def test_transfer_to_an_agent_rings_them_when_free_and_both_see_it_answered() -> None:
    sim = centre(transfer_timeout=60.0, wrapup=5.0)
    sim.arrive("c2", "billing")
    sim.answer(sim.ringing_leg("bob"))
    sim.feed(sim.engine.transfer_to_agent("c1", "bob", sim.now))
    sim.deliver_all()
    sim.advance_to(11)
    sim.hang_up_leg(sim.ringing_leg("bob"))  # bob's call ends: wrap-up 5 s
    cmds = sim.advance_to(17)
    assert originated(cmds) == [("c1", "bob", "offer")]
    sim.answer(sim.ringing_leg("bob"))
    states = [(f.state, f.agent_id, f.target) for f in sim.take_facts() if isinstance(f, TransferProgress)]
    assert states == [
        (TransferState.WAITING, "ann", "bob"),
        (TransferState.RINGING, "ann", "bob"),
        (TransferState.ANSWERED, "ann", "bob"),
    ]


def test_consultation_reports_ringing_answered_and_gone() -> None:
    sim = centre()
    sim.feed(sim.engine.consult_agent("c1", "bob", sim.now))
    leg = sim.ringing_leg("bob")
    sim.answer(leg)
    sim.hang_up_leg(leg)
    states = [f.state for f in sim.take_facts() if isinstance(f, TransferProgress)]
    assert states == [TransferState.RINGING, TransferState.ANSWERED, TransferState.GONE]


# -- voicemail callbacks --------------------------------------------------------------------------


def test_voicemail_task_closed_during_its_callback_keeps_the_agent_busy_until_it_ends() -> None:
    queues = [QueueSpec(name="billing", skills=frozenset({"billing"}), wrapup=10.0)]
    sim = Sim.build(queues, [person("ann", "billing")])
    sim.task("vm-1", "billing")
    assert sim.agent("ann")[1] is ON_CALL
    sim.feed(sim.engine.callback_started("ann", "cb-1", "vm-1", sim.now))
    sim.advance_to(20)
    sim.feed(sim.engine.task_done("vm-1", sim.now))
    assert sim.agent("ann")[1] is ON_CALL and "vm-1" in sim.engine.calls
    assert originated(sim.arrive("c9", "billing")) == []  # not offered on top of the callback
    sim.advance_to(50)
    sim.feed(sim.engine.leg_hung_up("cb-1", sim.now))
    assert "vm-1" not in sim.engine.calls
    assert sim.agent("ann")[1] is WRAPUP
    cmds = sim.advance_to(60)
    assert originated(cmds) == [("c9", "ann", "offer")]


def test_callback_from_an_own_mailbox_puts_an_idle_agent_on_that_call_until_it_ends() -> None:
    queues = [QueueSpec(name="billing", skills=frozenset({"billing"}))]
    sim = Sim.build(queues, [person("ann", "billing")])
    sim.feed(sim.engine.callback_started("ann", "cb-2", None, sim.now))
    assert sim.agent("ann")[1] is ON_CALL
    assert originated(sim.arrive("c1", "billing")) == []
    cmds = sim.feed(sim.engine.leg_failed("cb-2", 5.0))
    states = [(f.old, f.new) for f in sim.take_facts() if isinstance(f, AgentStateChanged)]
    assert states[-2:] == [("on_call", "idle"), ("idle", "ringing")]
    assert originated(cmds) == [("c1", "ann", "offer")]  # free again: the waiting call is hers
