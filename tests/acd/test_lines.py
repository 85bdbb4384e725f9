"""Persistent lines and outside work in the ACD engine: an agent on a line takes offers on the line
(the leg is the line, bridged not originated, and survives the call); an agent engaged by a
campaign is offered nothing until released. The default per-offer leg is unchanged."""

from __future__ import annotations

from callserver.acd.commands import CancelAgentLeg, Command, OriginateAgentLeg
from callserver.acd.engine import AcdEngine
from callserver.acd.model import AgentSpec, AgentState, AgentStatus, CallState, QueueSpec
from callserver.facts.model import CallAnswered, CallEnded, OfferEnded

QUEUE = QueueSpec("support", skills=frozenset({"support"}), wrapup=0.0)


def engine(*agent_ids: str) -> AcdEngine:
    agents = [AgentSpec(a, a.title(), f"PJSIP/{a}", {"support": 5}) for a in agent_ids]
    acd = AcdEngine([QUEUE], agents)
    for a in agent_ids:
        acd.set_status(a, AgentStatus.AVAILABLE, 0.0)
    acd.pop_facts()
    return acd


def arrive(acd: AcdEngine, call_id: str, now: float) -> list[Command]:
    return acd.call_arrived(
        call_id,
        channel=f"PJSIP/trunk-{call_id}",
        caller_num="+33140000001",
        caller_name="",
        dnis="500",
        queue="support",
        now=now,
    )


def offers(commands: list[Command]) -> list[OriginateAgentLeg]:
    return [c for c in commands if isinstance(c, OriginateAgentLeg)]


def test_without_a_line_an_offer_rings_a_new_leg() -> None:
    acd = engine("a1")
    (offer,) = offers(arrive(acd, "c1", 1.0))
    assert offer.leg_id != "line-a1" and offer.leg_id.startswith("cs-")
    assert offer.endpoint == "PJSIP/a1"


def test_an_agent_on_a_line_takes_each_call_on_it_and_keeps_it_after_the_caller_hangs_up() -> None:
    acd = engine("a1")
    acd.set_line("a1", "line-a1", 0.5)
    for n, t in ((1, 1.0), (2, 10.0)):
        (offer,) = offers(arrive(acd, f"c{n}", t))
        assert offer.leg_id == "line-a1" and acd.lines.is_line(offer.leg_id)
        acd.leg_claim("line-a1", t)
        acd.leg_answered("line-a1", t + 0.1)  # the line's BridgeEnter
        assert acd.calls[f"c{n}"].state is CallState.CONNECTED
        out = acd.caller_hung_up(f"c{n}", t + 5.0)
        assert out == [CancelAgentLeg("line-a1")]  # the adapter keeps the line: line_leg_done
        acd.line_leg_done("line-a1", t + 5.0)
        agent = acd.agents["a1"]
        assert (agent.state, agent.line_id, acd.legs) == (AgentState.IDLE, "line-a1", {})
    facts = acd.pop_facts()
    assert [f.call_id for f in facts if isinstance(f, CallAnswered)] == ["c1", "c2"]
    assert [f.outcome.value for f in facts if isinstance(f, CallEnded)] == ["answered", "answered"]


def test_the_line_going_down_during_a_call_ends_the_call() -> None:
    acd = engine("a1")
    acd.set_line("a1", "line-a1", 0.5)
    arrive(acd, "c1", 1.0)
    acd.leg_answered("line-a1", 1.1)
    acd.set_line("a1", None, 4.0)  # the agent hung the phone up
    assert "c1" not in acd.calls and acd.legs == {}
    assert acd.agents["a1"].line_id is None
    (ended,) = [f for f in acd.pop_facts() if isinstance(f, CallEnded)]
    assert ended.outcome.value == "answered"
    (offer,) = offers(arrive(acd, "c2", 5.0))  # back to ringing the phone for each call
    assert offer.leg_id.startswith("cs-")


def test_a_bridge_that_could_not_be_made_puts_the_call_back_without_pausing_the_agent() -> None:
    acd = engine("a1", "a2")
    acd.set_line("a1", "line-a1", 0.0)
    acd.set_status("a2", AgentStatus.PAUSED, 0.0, "break")
    arrive(acd, "c1", 1.0)
    out = acd.line_leg_done("line-a1", 1.2)  # the adapter's Bridge was refused
    agent = acd.agents["a1"]
    assert agent.status is AgentStatus.AVAILABLE and agent.no_answers == 0
    (again,) = offers(out)  # offered again at once, on the same line
    assert again.leg_id == "line-a1" and acd.calls["c1"].state is CallState.OFFERING
    assert not [f for f in acd.pop_facts() if isinstance(f, OfferEnded) and f.result.value == "no_answer"]


def test_an_engaged_agent_is_offered_no_call_until_released() -> None:
    acd = engine("a1")
    acd.engage("a1", "campaign:spring", 1.0)
    assert offers(arrive(acd, "c1", 2.0)) == []
    assert acd.calls["c1"].state is CallState.WAITING
    (offer,) = offers(acd.release("a1", 30.0))
    assert (offer.call_id, offer.agent_id) == ("c1", "a1")
    assert acd.agents["a1"].engaged is None
