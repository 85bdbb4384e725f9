"""Public JSON shapes of agents, queues and waiting calls, mapped explicitly from engine state.

The REST API and the live channel both use these, so a browser sees the same fields either way;
nothing from the engine's dataclasses leaks through unlisted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callserver.acd.handling import AcdEngine
from callserver.acd.metrics import MetricsBook
from callserver.acd.model import Agent, AgentState, AgentStatus, Call, CallState

Json = dict[str, Any]


def agent_view(agent: Agent) -> Json:
    return {
        "id": agent.id,
        "name": agent.spec.name,
        "status": agent.status.value,
        "reason": agent.reason,
        "state": agent.state.value,
        "call_id": agent.call_id,
        "idle_since": agent.idle_since,
        "calls_today": agent.calls_today,
        "queues": sorted(agent.queues),
    }


def agents_view(engine: AcdEngine) -> list[Json]:
    return [agent_view(a) for a in sorted(engine.agents.values(), key=lambda a: a.id)]


def _waiting_calls(engine: AcdEngine) -> list[Call]:
    calls = [c for c in engine.calls.values() if c.state in (CallState.WAITING, CallState.OFFERING)]
    return sorted(calls, key=lambda c: (c.queued_at, c.arrived_at, c.id))


def waiting_view(engine: AcdEngine, now: float) -> list[Json]:
    """Calls not yet connected, in the order they will be served, with their place in their queue."""
    out: list[Json] = []
    positions: dict[str, int] = {}
    for call in _waiting_calls(engine):
        positions[call.queue] = positions.get(call.queue, 0) + 1
        out.append(
            {
                "call_id": call.id,
                "caller_num": call.caller_num,
                "caller_name": call.caller_name,
                "queue": call.queue,
                "state": call.state.value,
                "agent_id": call.agent_id,
                "arrived_at": call.arrived_at,
                "wait": round(max(0.0, now - call.arrived_at), 3),
                "position": positions[call.queue],
            }
        )
    return out


def today_start(now: float) -> float:
    """Local midnight before `now`: the start of "today" for the tiles and `GET /api/metrics`."""
    return datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def queue_view(engine: AcdEngine, metrics: MetricsBook, name: str, now: float) -> Json:
    """A supervisor's queue tile; today's figures are the live book's (`callserver.figures`)."""
    waiting = [c for c in _waiting_calls(engine) if c.queue == name]
    members = [a for a in engine.agents.values() if name in a.queues]
    today = metrics.call_stats(name, since=today_start(now))
    return {
        "name": name,
        "waiting": len(waiting),
        "longest_wait": round(max((now - c.arrived_at for c in waiting), default=0.0), 3),
        "agents_available": sum(
            1 for a in members if a.status is AgentStatus.AVAILABLE and a.state is AgentState.IDLE
        ),
        "agents_logged_in": sum(1 for a in members if a.status is not AgentStatus.LOGGED_OUT),
        "answered_today": today.answered,
        "abandoned_today": today.abandoned,
        "timed_out_today": today.timed_out,
        "service_level_today": today.service_level,
        "service_target": metrics.service_time,
    }


def queues_view(engine: AcdEngine, metrics: MetricsBook, now: float) -> list[Json]:
    return [queue_view(engine, metrics, name, now) for name in sorted(engine.queues)]
