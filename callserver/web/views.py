"""Public JSON shapes of agents, queues and waiting calls, mapped explicitly from engine state.

The REST API and the live channel both use these, so a browser sees the same fields either way;
nothing from the engine's dataclasses leaks through unlisted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from callserver.acd.control import SpySession
from callserver.acd.metrics import MetricsBook
from callserver.acd.service import AcdService
from callserver.acd.views import AgentView, CallView
from callserver.config import QueueThresholds, Threshold
from callserver.web.agent_times import AgentTimes

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


def caller_view(call: CallView | None) -> Json | None:
    """Who is on a call, as a person reads it: number, name given by the network, customer."""
    if call is None:
        return None
    customer = call.data.get("customer.name")
    return {
        "num": call.caller_num,
        "name": call.caller_name,
        "customer": customer if isinstance(customer, str) and customer else None,
    }


def monitor_agent_view(acd: AcdService, agent: AgentView, times: AgentTimes | None) -> Json:
    """An agent's row on the monitor: the agent view, when the state and status began (server
    time) and who they are talking with."""
    view = agent_view(agent)
    if times is not None:
        view["state_since"] = times.state_since(agent.id)
        view["status_since"] = times.status_since(agent.id)
    view["caller"] = caller_view(acd.call(agent.call_id)) if agent.call_id is not None else None
    return view


def agents_view(acd: AcdService, times: AgentTimes | None = None) -> list[Json]:
    return [monitor_agent_view(acd, a, times) for a in sorted(acd.agents(), key=lambda a: a.id)]


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
                "customer_name": (caller_view(call) or {}).get("customer"),
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


def level(value: float | None, threshold: Threshold | None, *, higher_is_better: bool) -> str | None:
    """good / warn / bad for a figure against its thresholds; None without a figure or thresholds."""
    if value is None or threshold is None:
        return None
    if higher_is_better:
        return "good" if value >= threshold.warn else "warn" if value >= threshold.bad else "bad"
    return "good" if value <= threshold.warn else "warn" if value <= threshold.bad else "bad"


def queue_view(
    acd: AcdService,
    metrics: MetricsBook,
    name: str,
    now: float,
    thresholds: Mapping[str, QueueThresholds] | None = None,
) -> Json:
    """A supervisor's queue tile; today's figures are the live book's (`callserver.figures`), each
    with its level against the queue's thresholds."""
    load = acd.queue_load(name)
    today = metrics.call_stats(name, since=today_start(now))
    limits = (thresholds or {}).get(name) or QueueThresholds()
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
        "abandon_rate_today": today.abandon_rate,
        "aht_today": today.aht,
        "levels": {
            "service_level": level(today.service_level, limits.service_level, higher_is_better=True),
            "abandon_rate": level(today.abandon_rate, limits.abandon_rate, higher_is_better=False),
            "aht": level(today.aht, limits.aht, higher_is_better=False),
        },
        "thresholds": limits.model_dump(mode="json"),
    }


def queues_view(
    acd: AcdService, metrics: MetricsBook, now: float, thresholds: Mapping[str, QueueThresholds] | None = None
) -> list[Json]:
    return [queue_view(acd, metrics, name, now, thresholds) for name in sorted(acd.queues())]


def spy_view(session: SpySession | None) -> dict[str, Any] | None:
    if session is None:
        return None
    return {
        "supervisor": session.supervisor,
        "agent_id": session.agent_id,
        "mode": session.mode,
        "phone": session.phone,
        "leg_id": session.leg_id,
        "state": "ended" if session.ended else "active" if session.answered else "ringing",
    }
