"""Public JSON shapes of agents, queues and waiting calls, mapped explicitly from engine state.

The REST API and the live channel both use these, so a browser sees the same fields either way;
nothing from the engine's dataclasses leaks through unlisted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callserver.acd.metrics import MetricsBook
from callserver.acd.service import AcdService
from callserver.acd.views import AgentView

Json = dict[str, Any]


def agent_view(agent: AgentView) -> Json:
    return {
        "id": agent.id,
        "name": agent.name,
        "status": agent.status.value,
        "reason": agent.reason,
        "state": agent.state.value,
        "call_id": agent.call_id,
        "idle_since": agent.idle_since,
        "calls_today": agent.calls_today,
        "queues": list(agent.queues),
        "wrapup_until": agent.wrapup_until,
        "wrapup_limit": agent.wrapup_limit,
        "phone": "reachable" if agent.phone_reachable else "unreachable",
    }


def agents_view(acd: AcdService) -> list[Json]:
    return [agent_view(a) for a in sorted(acd.agents(), key=lambda a: a.id)]


def waiting_view(acd: AcdService, now: float) -> list[Json]:
    """Calls not yet connected, in the order they will be served, with their place in their queue."""
    out: list[Json] = []
    positions: dict[str, int] = {}
    for call in acd.waiting_calls():
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


def queue_view(acd: AcdService, metrics: MetricsBook, name: str, now: float) -> Json:
    """A supervisor's queue tile; today's figures are the live book's (`callserver.figures`)."""
    load = acd.queue_load(name)
    today = metrics.call_stats(name, since=today_start(now))
    return {
        "name": name,
        "waiting": load.waiting,
        "longest_wait": round(now - load.oldest_arrival, 3) if load.oldest_arrival is not None else 0.0,
        "agents_available": load.agents_available,
        "agents_logged_in": load.agents_logged_in,
        "answered_today": today.answered,
        "abandoned_today": today.abandoned,
        "timed_out_today": today.timed_out,
        "service_level_today": today.service_level,
        "service_target": metrics.service_time,
    }


def queues_view(acd: AcdService, metrics: MetricsBook, now: float) -> list[Json]:
    return [queue_view(acd, metrics, name, now) for name in sorted(acd.queues())]
