"""The one translation from configured queues and agents to what the engine needs of them.

The server (`app.build_engine`), the capacity simulator and the store's mirror of the queues all
call `queue_spec`, so a queue means the same thing to each: the routing steps parsed, the timeout
destination resolved, the defaults applied once. Requirements must have passed `callserver.checks`
(`parse` raises on a bad one).
"""

from __future__ import annotations

from ..config import AgentConfig, QueueRules, TimeoutAction
from . import queue_options as default
from .expr import parse
from .model import AgentSpec, Destination, QueueSpec, RoutingStep


def destination(action: TimeoutAction | None) -> Destination | None:
    """A configured `{queue|voicemail|number|message: target}` as the engine's destination."""
    return None if action is None else Destination(*action.kind_target())


def queue_spec(rules: QueueRules, default_wrapup: float = default.WRAPUP) -> QueueSpec:
    """The engine's view of one queue; every field comes from the configuration (`default_wrapup`:
    the server's `acd.wrapup`, for a queue that gives none)."""
    return QueueSpec(
        name=rules.name,
        skills=frozenset(rules.skills),
        max_wait=rules.max_wait,
        ring_timeout=rules.ring_timeout,
        wrapup=rules.wrapup_seconds(default_wrapup),
        wrapup_max=rules.wrapup_limit(default_wrapup),
        steps=tuple(RoutingStep(s.after, parse(s.require)) for s in rules.steps),
        strategy=rules.strategy,
        priority=rules.priority,
        vip_priority=rules.vip_priority,
        max_length=rules.max_length,
        on_full=destination(rules.on_full),
        on_timeout=destination(rules.timeout_action()),
        refuse_without_agents=rules.when_no_agents == "refuse",
        on_no_agents=destination(rules.on_no_agents),
        announce_every=rules.announce_every,
        callback_key=rules.callback_key,
        pause_after_no_answers=rules.pause_after_no_answers,
        task_priority=rules.task_priority,
    )


def agent_spec(agent: AgentConfig, remote_dial: str) -> AgentSpec:
    """The engine's view of one agent: a remote agent's number is dialled through `remote_dial`."""
    return AgentSpec(
        id=agent.id,
        name=agent.name,
        endpoint=agent.interface or remote_dial.format(number=agent.number),
        skills=dict(agent.skills),
        remote=agent.number is not None,
    )
