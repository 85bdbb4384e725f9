"""The one translation from configured queues and agents to the engine's specs."""

from __future__ import annotations

import dataclasses

from callserver.acd.model import Destination, QueueSpec, Strategy
from callserver.acd.specs import agent_spec, queue_spec
from callserver.config import AgentConfig, QueueConfig


def test_a_queue_given_only_its_name_means_the_same_to_the_configuration_and_the_engine() -> None:
    by_hand = QueueSpec(name="q")
    configured = queue_spec(QueueConfig(name="q"))
    # the configuration always names where a timed-out caller goes; every other default is shared
    assert configured == dataclasses.replace(by_hand, on_timeout=by_hand.timeout_destination())
    assert configured.timeout_destination() == Destination("message", "vm-goodbye")


def test_routing_steps_are_parsed_and_destinations_resolved() -> None:
    spec = queue_spec(
        QueueConfig.model_validate(
            {
                "name": "billing",
                "steps": [{"after": 0, "require": "billing >= 5"}, {"after": 30, "require": "billing"}],
                "strategy": "best_skill",
                "on_timeout": {"voicemail": "billing"},
                "on_full": {"queue": "general"},
                "when_no_agents": "refuse",
            }
        )
    )
    assert [(s.after, s.requirement.text) for s in spec.steps] == [(0, "billing >= 5"), (30, "billing")]
    assert spec.strategy is Strategy.BEST_SKILL
    assert spec.timeout_destination() == Destination("voicemail", "billing")
    assert (spec.on_full, spec.refuse_without_agents) == (Destination("queue", "general"), True)
    assert spec.served_by({"billing": 1}) and not spec.served_by({"sales": 9})


def test_a_remote_agent_is_dialled_through_the_trunk() -> None:
    agent = AgentConfig(id="a", name="A", login="a", number="+33612345678", skills={"s": 3})
    spec = agent_spec(agent, "PJSIP/{number}@trunk")
    assert (spec.endpoint, spec.remote, spec.skills) == ("PJSIP/+33612345678@trunk", True, {"s": 3})
