"""Recovery after a restart, on plain data: what the PBX still has becomes adoption steps that
leave no agent double-booked, and the calls the database still had open are closed saying so.

The planner sees `CoreShowChannel` snapshots and the `CS_*` variables read on them, as a restart
finds them: callers waiting (one with an agent leg ringing for it), talking, on hold with their
agent's leg parked (one with a colleague consulted), and an agent leg dialling a callback.
"""

from __future__ import annotations

from callserver.acd.commands import CancelAgentLeg
from callserver.acd.engine import AcdEngine
from callserver.acd.model import AgentState, AgentStatus, CallKind, CallState, QueueSpec
from callserver.acd.recovery import (
    AdoptConnected,
    AdoptConsult,
    AdoptOffer,
    AdoptStrayLeg,
    AdoptWaiting,
    ChannelVars,
    OpenCall,
    Step,
    close_open_calls,
    plan,
)
from callserver.facts.model import (
    CallAnswered,
    CallEnded,
    CallEndedWithReason,
    CallOffered,
    OfferEnded,
    OfferResult,
    Outcome,
)
from callserver.pbx.dialplan import Context
from callserver.pbx.events import ChannelSnapshot

from .driver import agent

NOW = 1_800_000_100.0
SUPPORT = QueueSpec(name="support", skills=frozenset({"support"}), ring_timeout=30.0)
AGENTS = [agent(f"a{i}", "support") for i in range(1, 8)]


def snap(
    uniqueid: str,
    context: str,
    *,
    state: str = "Up",
    bridge: str = "",
    duration: int = 30,
    channel: str | None = None,
) -> ChannelSnapshot:
    return ChannelSnapshot(
        uniqueid=uniqueid,
        linkedid=uniqueid,
        channel=channel or f"PJSIP/trunk-{uniqueid}",
        state=state,
        caller_num="+33140000001",
        caller_name="Ada",
        context=context,
        exten="s",
        priority=2,
        application="",
        application_data="",
        duration=duration,
        bridge_id=bridge,
    )


def leg(uniqueid: str, context: str, agent_id: str, call_id: str) -> tuple[str, ChannelVars]:
    return uniqueid, ChannelVars(agent=agent_id, call=call_id)


# what a restart finds on the PBX
LISTING = [
    snap("w1", Context.HOLD),  # waiting, nobody rings for it
    snap("w2", Context.HOLD),  # waiting, a1's phone rings for it
    snap("L-a1", "default", state="Ringing", channel="PJSIP/1001-00000001"),
    snap("c1", Context.HOLD, bridge="B1", duration=90),  # talking to a2
    snap("L-a2", Context.AGENT_BRIDGE, bridge="B1", duration=60, channel="PJSIP/1002-00000002"),
    snap("h1", Context.ONHOLD),  # on hold: a3's leg parked
    snap("L-a3", Context.PARKED, channel="PJSIP/1003-00000003"),
    snap("h2", Context.ONHOLD),  # on hold while a4 consults a5
    snap("L-a4", Context.PARKED, bridge="B2", channel="PJSIP/1004-00000004"),
    snap("L-a5", Context.CONSULT, bridge="B2", channel="PJSIP/1005-00000005"),
    snap("L-a6", Context.AGENT_DIAL, bridge="B3", channel="PJSIP/1006-00000006"),  # callback
    snap("x1", "from-trunk", channel="PJSIP/trunk-x1"),  # someone else's call
    snap("L-a7", Context.AGENT, channel="PJSIP/1007-00000007"),  # accepting for a call now gone
]
VARS = dict(
    [
        ("w1", ChannelVars(queue="support")),
        ("w2", ChannelVars(queue="support")),
        leg("L-a1", "default", "a1", "w2"),
        ("c1", ChannelVars(queue="support")),
        leg("L-a2", Context.AGENT_BRIDGE, "a2", "c1"),
        ("h1", ChannelVars(queue="support")),
        leg("L-a3", Context.PARKED, "a3", "h1"),
        ("h2", ChannelVars(queue="support")),
        leg("L-a4", Context.PARKED, "a4", "h2"),
        leg("L-a5", Context.CONSULT, "a5", "h2"),
        leg("L-a6", Context.AGENT_DIAL, "a6", "cb1"),
        leg("L-a7", Context.AGENT, "a7", "gone1"),
    ]
)
CALLBACK_ROW = OpenCall(
    id="cb1",
    queue="support",
    channel="PJSIP/trunk-cb1",
    caller_num="+33140000009",
    caller_name="Bob",
    dnis="500",
    arrived_at=NOW - 600,
    answered_at=NOW - 20,
    agent_id="a6",
    last_seen=NOW - 20,
)


def restart_plan(open_calls: dict[str, OpenCall] | None = None) -> list[Step]:
    rows = {"cb1": CALLBACK_ROW} if open_calls is None else open_calls
    return plan(LISTING, VARS, rows, known=lambda _: False, now=NOW)


def adopt(engine: AcdEngine, steps: list[Step]) -> None:
    """What the resynchronisation does with each step (resync.Resync._take)."""
    for step in steps:
        match step:
            case AdoptWaiting():
                engine.call_arrived(
                    step.call_id,
                    channel=step.channel,
                    caller_num=step.caller_num,
                    caller_name=step.caller_name,
                    dnis=step.dnis,
                    queue=step.queue,
                    now=NOW,
                    arrived_at=step.arrived_at,
                    kind=step.kind,
                    adopted=True,
                )
            case AdoptConnected():
                engine.adopt_connected(
                    step.call_id,
                    channel=step.channel,
                    caller_num=step.caller_num,
                    caller_name=step.caller_name,
                    queue=step.queue,
                    agent_id=step.agent_id,
                    leg_id=step.leg_id,
                    now=NOW,
                    arrived_at=step.arrived_at,
                    answered_at=step.answered_at,
                    on_hold=step.on_hold,
                    kind=step.kind,
                )
            case AdoptOffer():
                engine.adopt_offer(
                    step.call_id,
                    agent_id=step.agent_id,
                    leg_id=step.leg_id,
                    now=NOW,
                    picked_up=step.picked_up,
                    claimed=step.claimed,
                )
            case AdoptConsult():
                engine.adopt_consult(
                    step.call_id, agent_id=step.agent_id, leg_id=step.leg_id, now=NOW, answered=step.answered
                )
            case AdoptStrayLeg():
                engine.adopt_stray_leg(step.leg_id, agent_id=step.agent_id, now=NOW, hang_up=step.hang_up)


def restarted_engine() -> AcdEngine:
    engine = AcdEngine([SUPPORT], AGENTS)
    for spec in AGENTS:
        engine.set_status(spec.id, AgentStatus.AVAILABLE, NOW - 1000)
    engine.set_pbx_ready(False, NOW)  # as at start-up: nothing offered until resynchronised
    engine.pop_facts()
    return engine


def test_every_agent_leg_context_is_recognised_and_linked_to_its_call() -> None:
    steps = restart_plan()
    by_leg = {getattr(s, "leg_id", None): s for s in steps}
    assert AdoptWaiting("w1", "PJSIP/trunk-w1", "+33140000001", "Ada", "s", "support", NOW - 30) in steps
    assert by_leg["L-a1"] == AdoptOffer("w2", "a1", "L-a1", picked_up=False, claimed=False)
    connected = by_leg["L-a2"]
    assert isinstance(connected, AdoptConnected)
    assert (connected.call_id, connected.agent_id, connected.on_hold) == ("c1", "a2", False)
    assert (connected.arrived_at, connected.answered_at) == (NOW - 90, NOW - 60)  # from Duration
    held = by_leg["L-a3"]
    assert isinstance(held, AdoptConnected) and (held.call_id, held.on_hold) == ("h1", True)
    consulting = by_leg["L-a4"]
    assert isinstance(consulting, AdoptConnected) and (consulting.call_id, consulting.on_hold) == ("h2", True)
    assert by_leg["L-a5"] == AdoptConsult("h2", "a5", "L-a5", answered=True)
    callback = by_leg["L-a6"]
    assert isinstance(callback, AdoptConnected)
    assert (callback.call_id, callback.kind, callback.answered_at) == ("cb1", CallKind.CALLBACK, NOW - 20)
    assert by_leg["L-a7"] == AdoptStrayLeg("L-a7", "a7", hang_up=True)
    assert not any(getattr(s, "call_id", "") == "x1" for s in steps)  # not ours
    # calls before what hangs on them, stray legs last
    kinds = [type(s) for s in steps]
    assert kinds.index(AdoptOffer) > kinds.index(AdoptWaiting)
    assert kinds.index(AdoptConsult) > max(i for i, k in enumerate(kinds) if k is AdoptConnected)
    assert kinds[-1] is AdoptStrayLeg


def test_after_adoption_each_agent_is_busy_with_exactly_what_the_pbx_says() -> None:
    engine = restarted_engine()
    adopt(engine, restart_plan())
    states = {a.id: (a.state, a.call_id) for a in engine.agents.values()}
    assert states == {
        "a1": (AgentState.RINGING, "w2"),
        "a2": (AgentState.ON_CALL, "c1"),
        "a3": (AgentState.ON_CALL, "h1"),
        "a4": (AgentState.ON_CALL, "h2"),
        "a5": (AgentState.ON_CALL, "h2"),
        "a6": (AgentState.ON_CALL, "cb1"),
        "a7": (AgentState.IDLE, None),  # but held by its stray leg until the PBX says it is gone
    }
    calls = {c.id: (c.state, c.agent_id, c.on_hold) for c in engine.calls.values()}
    assert calls == {
        "w1": (CallState.WAITING, None, False),
        "w2": (CallState.OFFERING, "a1", False),
        "c1": (CallState.CONNECTED, "a2", False),
        "h1": (CallState.CONNECTED, "a3", True),
        "h2": (CallState.CONNECTED, "a4", True),
        "cb1": (CallState.CONNECTED, "a6", False),
    }
    assert engine.calls["h2"].consult_leg == "L-a5"
    # the link is back: the one waiting call finds no free agent, nobody is rung twice
    assert engine.set_pbx_ready(True, NOW + 1) == []
    assert set(engine.router.free) == set()
    assert engine.calls["w1"].state is CallState.WAITING
    # a7's leftover leg goes: only then is a7 free, and takes the waiting call
    commands = engine.leg_hung_up("L-a7", NOW + 2)
    assert [c.agent_id for c in commands if hasattr(c, "agent_id")] == ["a7"]
    assert engine.calls["w1"].agent_id == "a7"


def test_adopted_answer_keeps_its_time_and_the_ringing_offer_is_offered_again() -> None:
    engine = restarted_engine()
    adopt(engine, restart_plan())
    facts = engine.pop_facts()
    answered = {f.call_id: f for f in facts if isinstance(f, CallAnswered)}
    assert answered["c1"] == CallAnswered("c1", NOW - 60, "support", "a2", 30.0)
    assert answered["cb1"].at == NOW - 20
    offered = [f for f in facts if isinstance(f, CallOffered)]
    assert [(f.call_id, f.agent_id, f.leg_id) for f in offered] == [("w2", "a1", "L-a1")]
    # the ringing leg goes on where it was: answered and bridged, the call is a1's
    engine.set_pbx_ready(True, NOW + 1)
    engine.leg_picked_up("L-a1", NOW + 2)
    engine.leg_claim("L-a1", NOW + 2)
    engine.leg_answered("L-a1", NOW + 3)
    assert engine.calls["w2"].state is CallState.CONNECTED
    assert engine.agents["a1"].state is AgentState.ON_CALL


def test_an_answered_leg_whose_accept_was_lost_is_hung_up_and_the_call_offered_again() -> None:
    listing = [snap("w9", Context.HOLD), snap("L-x", Context.AGENT, channel="PJSIP/1001-0000000a")]
    variables = {"w9": ChannelVars(queue="support"), "L-x": ChannelVars(agent="a1", call="w9")}
    steps = plan(listing, variables, {}, known=lambda _: False, now=NOW)
    assert steps[1:] == [AdoptStrayLeg("L-x", "a1", hang_up=True)]
    engine = restarted_engine()
    adopt(engine, steps)
    commands = engine.adopt_stray_leg("L-x", agent_id="a1", now=NOW, hang_up=True)
    assert commands == []  # already held
    assert engine.set_pbx_ready(True, NOW + 1) != []  # w9 offered to someone free...
    assert engine.calls["w9"].agent_id != "a1"  # ...but not to a1, whose phone is still busy


def test_a_stray_leg_is_hung_up_and_holds_its_agent_until_gone() -> None:
    engine = restarted_engine()
    assert engine.adopt_stray_leg("L-z", agent_id="a1", now=NOW, hang_up=True) == [CancelAgentLeg("L-z")]
    assert "a1" not in engine.router.free
    engine.leg_hung_up("L-z", NOW + 1)
    assert "a1" in engine.router.free


def test_open_rows_nobody_has_any_more_are_closed_saying_so() -> None:
    waiting = OpenCall(
        "r1",
        "support",
        "PJSIP/trunk-r1",
        "+331",
        "",
        "500",
        NOW - 50,
        None,
        None,
        NOW - 40,
        (("a1", "leg-1"),),
    )
    talking = OpenCall(
        "r2", "support", "PJSIP/trunk-r2", "+332", "", "500", NOW - 90, NOW - 80, "a2", NOW - 80
    )
    adopted = OpenCall("r3", "support", "PJSIP/trunk-r3", "+333", "", "500", NOW - 10, None, None, NOW - 10)
    facts = close_open_calls([waiting, talking, adopted], live=lambda c: c == "r3", pbx_restarted_since=None)
    assert facts == [
        OfferEnded("r1", NOW - 40, "a1", "leg-1", OfferResult.UNKNOWN),
        CallEndedWithReason(
            "r1", NOW - 40, "support", Outcome.UNKNOWN, None, 10.0, "ended while callserver was stopped", True
        ),
        CallEndedWithReason(
            "r2",
            NOW - 80,
            "support",
            Outcome.ANSWERED,
            "a2",
            10.0,
            "ended while callserver was stopped",
            True,
        ),
    ]
    restarted = close_open_calls([waiting], live=lambda _: False, pbx_restarted_since=NOW - 5)
    ended = [f for f in restarted if isinstance(f, CallEnded)]
    assert isinstance(ended[0], CallEndedWithReason)
    assert ended[0].reason.endswith("(the PBX restarted meanwhile)")
