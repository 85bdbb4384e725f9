"""Calls found talking to one of our agents after a restart or reconnect are adopted, not lost.

Adoption moves the call WAITING -> OFFERING -> CONNECTED and the agent IDLE -> RINGING -> ON_CALL,
every step through the transition tables, on the leg the PBX already has.
"""

from __future__ import annotations

from callserver.acd.commands import CancelAgentLeg, OriginateAgentLeg
from callserver.acd.engine import AcdEngine
from callserver.acd.model import AgentState, AgentStatus, CallState, QueueSpec
from callserver.facts.model import AgentStateChanged, CallAnswered, CallEnded, CallQueued, Outcome

from .driver import agent

SUPPORT = QueueSpec(name="support", skills=frozenset({"support"}), wrapup=0.0)


def adopt(engine: AcdEngine, agent_id: str, *, now: float = 100.0) -> list[object]:
    return list(
        engine.adopt_connected(
            "c1",
            channel="PJSIP/trunk-00000001",
            caller_num="0612345678",
            queue="support",
            agent_id=agent_id,
            leg_id="PJSIP-leg-7",
            now=now,
            arrived_at=now - 40.0,
        )
    )


def test_call_found_bridged_to_an_agent_leg_is_connected_to_that_agent() -> None:
    engine = AcdEngine([SUPPORT], [agent("ann", "support")])
    engine.set_status("ann", AgentStatus.AVAILABLE, 0.0)
    engine.set_pbx_ready(False, 0.0)  # as after a restart: offers wait for the resynchronisation
    engine.pop_facts()
    assert adopt(engine, "ann") == []
    call = engine.calls["c1"]
    assert (call.state, call.agent_id, call.leg_id) == (CallState.CONNECTED, "ann", "PJSIP-leg-7")
    assert engine.agents["ann"].state is AgentState.ON_CALL
    facts = engine.pop_facts()
    assert [type(f) for f in facts] == [CallQueued, AgentStateChanged, AgentStateChanged, CallAnswered]
    assert [(f.old, f.new) for f in facts if isinstance(f, AgentStateChanged)] == [
        ("idle", "ringing"),
        ("ringing", "on_call"),
    ]
    assert facts[-1] == CallAnswered("c1", 100.0, "support", "ann", 40.0)
    # the adopted leg ends like any other: the call is answered and the agent free again
    engine.set_pbx_ready(True, 110.0)
    engine.leg_hung_up("PJSIP-leg-7", 160.0)
    ended = [f for f in engine.pop_facts() if isinstance(f, CallEnded)]
    assert ended == [CallEnded("c1", 160.0, "support", Outcome.ANSWERED, "ann", 40.0, ended_by="agent")]
    assert engine.agents["ann"].state is AgentState.IDLE


def test_an_offer_made_on_arrival_is_withdrawn_for_the_adopted_leg() -> None:
    engine = AcdEngine([SUPPORT], [agent("ann", "support"), agent("bob", "support")])
    engine.set_status("bob", AgentStatus.AVAILABLE, 0.0)  # ann talks on the PBX but is not logged in
    commands = adopt(engine, "ann")
    (offer,) = [c for c in commands if isinstance(c, OriginateAgentLeg)]
    assert offer.agent_id == "bob"
    assert CancelAgentLeg(offer.leg_id) in commands
    call = engine.calls["c1"]
    assert (call.state, call.agent_id, call.ring_legs) == (CallState.CONNECTED, "ann", {"PJSIP-leg-7"})
    assert engine.agents["ann"].state is AgentState.ON_CALL


def test_no_adoption_for_a_busy_agent_a_known_call_or_an_unknown_queue() -> None:
    engine = AcdEngine([SUPPORT], [agent("ann", "support"), agent("bob", "support")])
    engine.set_pbx_ready(False, 0.0)
    adopt(engine, "ann")
    engine.pop_facts()
    assert adopt(engine, "ann") == []  # the same call again: already live
    assert engine.pop_facts() == []
    other = engine.adopt_connected(
        "c2",
        channel="PJSIP/trunk-00000002",
        caller_num="0611",
        queue="support",
        agent_id="ann",  # already on c1
        leg_id="PJSIP-leg-8",
        now=101.0,
        arrived_at=90.0,
    )
    assert other == [] and "c2" not in engine.calls
    lost = engine.adopt_connected(
        "c3",
        channel="PJSIP/trunk-00000003",
        caller_num="0612",
        queue="gone",  # a queue removed from the configuration since
        agent_id="bob",
        leg_id="PJSIP-leg-9",
        now=101.0,
        arrived_at=90.0,
    )
    assert lost == [] and "c3" not in engine.calls
