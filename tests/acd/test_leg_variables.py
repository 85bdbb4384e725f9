"""What the PBX adapter puts on an agent leg: the context and the `CS_*` variables the dialplan reads."""

from __future__ import annotations

from callserver.acd.adapter import leg_context, leg_variables
from callserver.acd.commands import OriginateAgentLeg
from callserver.acd.model import QueueSpec
from callserver.pbx.dialplan import Context

from .driver import Sim, agent


def test_offer_leg_bridges_to_the_caller() -> None:
    sim = Sim.build([QueueSpec(name="sales", skills=frozenset({"sales"}))], [agent("ann", "sales")])
    (cmd,) = sim.arrive("c1", "sales")
    assert isinstance(cmd, OriginateAgentLeg)
    assert leg_context(cmd) is Context.AGENT
    assert leg_variables(cmd) == {"CS_CALLER": "PJSIP/trunk-c1", "CS_CALL": "c1", "CS_AGENT": "ann"}


def test_consult_leg_talks_to_the_asking_agents_leg_by_its_channel_name() -> None:
    sim = Sim.build(
        [QueueSpec(name="sales", skills=frozenset({"sales"}))], [agent("ann", "sales"), agent("bob", "sales")]
    )
    sim.parallel_legs = True
    sim.arrive("c1", "sales")
    ann_leg = sim.ringing_leg("ann")
    sim.answer(ann_leg)
    (cmd,) = sim.feed(sim.engine.consult_agent("c1", "bob", sim.now))
    assert isinstance(cmd, OriginateAgentLeg)
    assert (cmd.purpose, cmd.caller_channel, cmd.peer_leg) == ("consult", "", ann_leg)
    assert leg_context(cmd) is Context.CONSULT
    assert leg_variables(cmd, peer_channel="PJSIP/1001-00000002") == {
        "CS_CALL": "c1",
        "CS_AGENT": "bob",
        "CS_PEER_LEG": "PJSIP/1001-00000002",
    }
    # a leg whose channel name was never seen is named by its id (AMI accepts either)
    assert leg_variables(cmd)["CS_PEER_LEG"] == ann_leg
