"""How calls end when callserver did not see them end, and phones the PBX cannot reach.

A call cut by the PBX (its shutdown, a restart seen at the next login, a network cause) failed; it
was not abandoned. One gone while the link was down ended no later than the PBX was last heard
(an estimate), not at the reconnect. An agent whose phone the PBX cannot reach is offered nothing
and comes back by themself when it can.
"""

from __future__ import annotations

from callserver.acd.commands import OriginateAgentLeg
from callserver.acd.model import AgentState, AgentStatus, QueueSpec
from callserver.acd.pbxstate import LINK_DOWN_REASON, PbxState
from callserver.acd.phones import PhoneBook
from callserver.facts.model import AgentPhoneChanged, CallEnded, CallEndedWithReason, Outcome

from .driver import Sim, agent

SUPPORT = QueueSpec(name="support", skills=frozenset({"support"}), ring_timeout=10.0, max_wait=600.0)


def ended(sim: Sim) -> dict[str, CallEnded]:
    return sim.ended(sim.take_facts())


def test_a_waiting_call_cut_by_a_pbx_shutdown_failed_at_the_shutdown() -> None:
    state = PbxState()
    state.shutting_down(100.0, restart=True)
    state.link_down(100.2, 100.5)
    sim = Sim.build([SUPPORT], [agent("ann", "support")], available=False)
    sim.arrive("c1", "support")
    sim.now = 130.0  # the link is back: the listing no longer has c1
    sim.feed(sim.engine.caller_hung_up("c1", sim.now, state.vanished(sim.now)))
    (end,) = ended(sim).values()
    assert isinstance(end, CallEndedWithReason)
    assert (end.outcome, end.at, end.reason, end.estimated) == (
        Outcome.FAILED,
        100.0,
        "cut by the PBX restart",
        False,
    )


def test_a_restart_seen_only_at_the_next_login_cuts_calls_no_later_than_last_heard() -> None:
    state = PbxState()
    state.link_down(50.0, 52.0)
    state.booted(uptime=3.0, now=70.0)  # up since 67: it restarted while we were away
    ending = state.vanished(71.0)
    assert (ending.at, ending.cut, ending.estimated, ending.reason) == (
        50.0,
        True,
        True,
        "cut by a PBX restart",
    )
    state.resynchronised()
    state.link_down(80.0, 81.0)
    state.booted(uptime=1000.0, now=85.0)  # the same PBX: only the link was down
    ending = state.vanished(86.0)
    assert (ending.at, ending.cut, ending.estimated, ending.reason) == (80.0, False, True, LINK_DOWN_REASON)


def test_a_call_gone_while_the_link_was_down_ends_when_the_pbx_was_last_heard() -> None:
    state = PbxState()
    sim = Sim.build([SUPPORT], [agent("ann", "support")])
    (offer,) = sim.arrive("c1", "support")
    assert isinstance(offer, OriginateAgentLeg)
    sim.answer(offer.leg_id)
    sim.now = 40.0
    state.link_down(last_heard=41.5, now=45.0)
    sim.now = 56.0  # reconnected 11 s later: the caller and the leg are both gone
    ending = state.vanished(sim.now)
    sim.feed(sim.engine.caller_hung_up("c1", sim.now, ending))
    end = ended(sim)["c1"]
    assert isinstance(end, CallEndedWithReason)
    assert (end.outcome, end.at, end.estimated, end.reason) == (
        Outcome.ANSWERED,
        41.5,
        True,
        LINK_DOWN_REASON,
    )
    assert sim.engine.agents["ann"].state is AgentState.IDLE


def test_a_network_cause_cuts_the_call_and_an_ordinary_hangup_does_not() -> None:
    state = PbxState()
    assert state.hangup(16, "Normal Clearing", 10.0) is None
    assert state.hangup(0, "Unknown", 10.0) is None
    cut = state.hangup(38, "Network out of order", 10.0)
    assert cut is not None and cut.cut and cut.reason == "cut by the network: Network out of order (cause 38)"
    sim = Sim.build([SUPPORT], [agent("ann", "support")], available=False)
    sim.arrive("c1", "support")
    sim.feed(sim.engine.caller_hung_up("c1", sim.now, cut))
    end = ended(sim)["c1"]
    assert isinstance(end, CallEndedWithReason) and end.outcome is Outcome.FAILED
    # after a Shutdown every hangup is the PBX's doing
    state.shutting_down(20.0, restart=False)
    during = state.hangup(16, "Normal Clearing", 21.0)
    assert during is not None and during.cut and during.reason == "cut by the PBX shutdown"


def test_an_unreachable_phone_is_offered_nothing_and_comes_back_by_itself() -> None:
    sim = Sim.build([SUPPORT], [agent("ann", "support"), agent("bob", "support")])
    sim.feed(sim.engine.phone_reachable("ann", False, sim.now))
    facts = sim.take_facts()
    assert facts == [AgentPhoneChanged("ann", 0.0, False, "PJSIP/ann")]
    assert sim.engine.agents["ann"].status is AgentStatus.AVAILABLE  # not paused: not her choice
    (first,) = sim.arrive("c1", "support")
    assert isinstance(first, OriginateAgentLeg) and first.agent_id == "bob"
    assert sim.arrive("c2", "support") == []  # ann is free and available, but cannot be rung
    assert sim.engine.calls["c2"].agent_id is None
    back = sim.feed(sim.engine.phone_reachable("ann", True, sim.now + 1))
    assert [c.agent_id for c in back if isinstance(c, OriginateAgentLeg)] == ["ann"]
    assert sim.engine.phone_reachable("ann", True, sim.now + 2) == []  # no change, no fact


def test_contact_and_device_states_say_which_phones_can_ring() -> None:
    book = PhoneBook()
    book.index([("ann", "PJSIP/1001"), ("bob", "PJSIP/1002"), ("rem", "PJSIP/0612@trunk")])
    assert book.agents_on("PJSIP/1001") == ["ann"]
    assert book.contact_status("1001", "sip:1001@10.0.0.5:5060", "Unreachable") == ("PJSIP/1001", False)
    assert book.contact_status("1001", "sip:1001@10.0.0.5:5060", "Reachable") == ("PJSIP/1001", True)
    # two contacts: reachable while either is
    book.contact_status("1002", "sip:a", "Reachable")
    assert book.contact_status("1002", "sip:b", "Unreachable") == ("PJSIP/1002", True)
    assert book.contact_status("1002", "sip:a", "Removed") == ("PJSIP/1002", False)
    assert book.contact_status("1002", "sip:a", "Unknown") == ("PJSIP/1002", None)
    assert book.device_state("PJSIP/1001", "UNAVAILABLE") is False
    assert book.device_state("PJSIP/1001", "NOT_INUSE") is True
    assert book.device_state("PJSIP/1001", "INUSE") is True
    assert book.device_state("PJSIP/1001", "UNKNOWN") is None
    assert book.device_state("Queue:support", "INUSE") is None  # no agent there
