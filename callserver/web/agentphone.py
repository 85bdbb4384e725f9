"""Where an agent takes calls, and the live queue metrics: two small REST additions.

`POST /api/agents/{id}/phone {"number": "+33612345678"}` logs a remote agent in on any phone: offers
then go out through the trunk and must be accepted with 1. `{"number": null}` goes back to the
configured phone. `GET /api/metrics` gives supervisors every queue's figures for today (since local
midnight, per 15-minute interval too): the live book the queue tiles read, so both show one figure.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from aiohttp import web

from callserver.acd.metrics import MetricsBook
from callserver.acd.service import AcdService
from callserver.web.api import PRINCIPAL, json_error, read_json
from callserver.web.views import agent_view, today_start

_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class AgentPhoneApi:
    def __init__(self, service: AcdService, *, remote_dial: str, metrics: MetricsBook) -> None:
        self.service = service
        self.remote_dial = remote_dial
        self.metrics = metrics

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/agents/{agent_id}/phone", self.set_phone),
            web.get("/api/metrics", self.live_metrics),
        ]

    async def set_phone(self, request: web.Request) -> web.Response:
        principal = request[PRINCIPAL]
        agent_id = request.match_info["agent_id"]
        if not principal.may_act_for(agent_id):
            return json_error(403, "you may only change your own phone")
        if self.service.agent(agent_id) is None:
            return json_error(404, f"unknown agent '{agent_id}'")
        body = await read_json(request)
        number = body.get("number")
        if number is None:
            agent = self.service.reset_endpoint(agent_id)
        elif isinstance(number, str) and _NUMBER.match(number):
            agent = self.service.set_endpoint(agent_id, self.remote_dial.format(number=number), remote=True)
        else:
            return json_error(400, "'number' must be a phone number (digits, optional +) or null")
        return web.json_response({**agent_view(agent), "endpoint": agent.endpoint, "remote": agent.remote})

    async def live_metrics(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        now = self.service.clock()
        snapshot = self.metrics.snapshot(now, since=today_start(now))
        return web.json_response(_plain(dataclasses.asdict(snapshot)))


def _plain(value: Any) -> Any:
    """JSON-safe: dict keys as strings, infinities as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return None
    return value
