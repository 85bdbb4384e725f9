"""The simulator's traffic as a capacity scenario: what `make run` would give over a whole day,
computed in a second on the capacity simulator's virtual clock with the real ACD engine.

The translation uses the same parameters the live simulator does: the arrival rate and the
numbers callers dial (`traffic.dnis_pool`), the IVR caller profile (`callers.default_profile`)
walked through the configured flow, talk time, patience and answer delay, the queues' own rules,
every configured agent, and after hours the voicemail tasks the simulated desks work
(`simulator.desks.voicemail_time`), queued behind live calls as the ACD does. What it leaves out:
the phones' no-answer rate, and call data such as the language a dialled number implies.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from callserver.capacity.scenario import Scenario, parse_scenario
from callserver.config import QueueConfig, Settings
from callserver.ivr.model import (
    BranchNode,
    CollectNode,
    FlowConfig,
    HoursNode,
    LookupNode,
    MenuNode,
    PlayNode,
    QueueNode,
    SayNode,
    SetNode,
    VoicemailNode,
)
from callserver.ivr.section import flows_of
from callserver.sim.callers import Behaviour, default_profile
from callserver.sim.traffic import IVR_ACCOUNTS, arrival_rate, dnis_pool

TASKS = "-voicemail"  # suffix of the pseudo-queue that holds a queue's voicemail tasks
_MAX_STEPS = 100


def scenario_of(settings: Settings, *, office_hours: bool, hours: float = 8.0, seed: int = 1) -> Scenario:
    """A day of `hours` of the simulator's callers against the configured centre."""
    sim = settings.simulator
    ivr, _ = flows_of(settings)
    pool = dnis_pool(settings, ivr)
    per_number = arrival_rate(settings) * 60.0 / max(1, len(pool))
    calls: defaultdict[str, float] = defaultdict(float)  # calls per hour, by queue
    tasks: defaultdict[str, float] = defaultdict(float)  # voicemail tasks per hour, by queue
    profile = default_profile(IVR_ACCOUNTS)
    weights = sum(b.weight for b in profile.behaviours) or 1.0
    for dnis in pool:
        found = ivr.flow_for_dnis(dnis) if ivr is not None else None
        if found is None:
            queue = settings.queue_for_dnis(dnis)
            if queue is not None:
                calls[queue.name] += per_number
            continue
        for behaviour in profile.behaviours:
            share = per_number * behaviour.weight / weights
            match walk(found[1], behaviour, office_hours=office_hours):
                case ("queue", name):
                    calls[name] += share
                case ("voicemail", name):
                    tasks[name] += share
                case _:
                    pass
    uniform = _uniform
    queues: list[dict[str, Any]] = []
    for q in settings.queues:
        queues.append(_queue(q, calls[q.name], uniform(sim.callers.talk_time), uniform(sim.callers.patience)))
    for name, rate in tasks.items():
        queue = next((q for q in settings.queues if q.name == name), None)
        if queue is not None:
            queues.append(_tasks(queue, rate, uniform(sim.desks.voicemail_time)))
    data = {
        "seed": seed,
        "interval_minutes": 30,
        "day": {"start": 0, "end": hours},
        "service_time": settings.web.service_target,
        "ring_delay": uniform(sim.phones.answer_delay),
        "no_answer_resume": settings.acd.no_answer_resume or 60.0,
        "queues": queues,
        "agents": [
            {"group": a.id, "count": 1, "skills": dict(a.skills), "shift": [0, hours]}
            for a in settings.agents
        ],
    }
    return parse_scenario(data, "<simulator day>")


def walk(flow: FlowConfig, caller: Behaviour, *, office_hours: bool) -> tuple[str, str] | None:
    """Where a caller typing `caller.digits` ends: ("queue", q), ("voicemail", q) or None (gone).

    Lookups find the caller (the simulator's callers dial from the customers' numbers and type
    their accounts); a caller who hangs up in a menu leaves at the first menu.
    """
    keys = list(caller.digits.replace("{account}", IVR_ACCOUNTS[0]).replace("{unknown}", "999999"))
    node_id = flow.start
    for _ in range(_MAX_STEPS):
        node = flow.nodes.get(node_id)
        match node:
            case HoursNode():
                node_id = node.open if office_hours else node.closed
            case LookupNode():
                node_id = node.found
            case BranchNode():
                node_id = node.default
            case SetNode() | SayNode() | PlayNode():
                node_id = node.next
            case MenuNode():
                if caller.hangup_after is not None:
                    return None
                key = keys.pop(0) if keys else None
                node_id = node.options.get(key, node.fallback) if key is not None else node.fallback
            case CollectNode():
                while keys and keys.pop(0) != "#":
                    pass
                node_id = node.next
            case QueueNode():
                return ("queue", node.queue)
            case VoicemailNode():
                return ("voicemail", node.queue) if node.queue is not None else None
            case _:
                return None
    return None


def _uniform(bounds: tuple[float, float]) -> dict[str, Any]:
    return {"kind": "uniform", "low": bounds[0], "high": bounds[1]}


def _rules(queue: QueueConfig) -> dict[str, Any]:
    return queue.model_dump(mode="json", exclude={"dnis", "dnis_data", "thresholds"}, exclude_none=True)


def _queue(queue: QueueConfig, rate: float, talk: dict[str, Any], patience: dict[str, Any]) -> dict[str, Any]:
    return {**_rules(queue), "talk_time": talk, "patience": patience, "calls_per_hour": [rate]}


def _tasks(queue: QueueConfig, rate: float, work: dict[str, Any]) -> dict[str, Any]:
    """A queue's voicemail tasks: its routing, behind its live calls, never given up on."""
    rules = _rules(queue)
    for key in ("max_wait", "on_timeout", "max_length", "on_full", "announce_every", "callback_key"):
        rules.pop(key, None)
    rules.update(
        name=queue.name + TASKS,
        priority=queue.priority + queue.task_priority,
        talk_time=work,
        calls_per_hour=[rate],
    )
    return rules


__all__ = ["TASKS", "scenario_of", "walk"]
