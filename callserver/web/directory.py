"""Where an agent can send a call: the transfer directory (queues with their load, agents with their
status and state, the numbers this agent dialled lately), so targets are picked, not typed."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callserver.acd.service import AcdService
from callserver.store.store import Store
from callserver.web.api import PRINCIPAL
from callserver.web.auth import Principal


class DirectoryApi:
    def __init__(self, service: AcdService, store: Store) -> None:
        self.service = service
        self.store = store

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/directory", self.directory)]

    async def directory(self, request: web.Request) -> web.Response:
        principal: Principal = request[PRINCIPAL]
        me = principal.agent_id
        queues: list[dict[str, Any]] = []
        for name in self.service.queues():
            load = self.service.queue_load(name)
            queues.append(
                {
                    "name": name,
                    "waiting": load.waiting,
                    "agents_available": load.agents_available,
                    "agents_logged_in": load.agents_logged_in,
                }
            )
        agents = [
            {
                "id": a.id,
                "name": a.name,
                "status": a.status.value,
                "reason": a.reason,
                "state": a.state.value,
                # a colleague can take a transfer when logged in; a consultation only when free now
                "can_take": a.status.value != "logged_out",
                "free": a.status.value == "available" and a.state.value == "idle",
            }
            for a in sorted(self.service.agents(), key=lambda a: a.name)
            if a.id != me
        ]
        numbers = await self.store.recent_numbers(me) if me is not None else []
        return web.json_response({"queues": queues, "agents": agents, "numbers": numbers})
