"""`GET /api/queue-log?from=&to=`: the period's `queue_log` lines for supervisors and admins, streamed
as text as the database is read (a month's log is never held in memory)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from callserver.queuelog.export import QueueLogExport
from callserver.web.api import PRINCIPAL
from callserver.web.params import query_parameters

ROUTE = "/api/queue-log"


def _when(text: str) -> float:
    when = datetime.fromisoformat(text)
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()


class QueueLogApi:
    def __init__(self, export: QueueLogExport, before_reading: Callable[[], Awaitable[None]] | None) -> None:
        self.export = export
        self.before_reading = before_reading  # the fact writer's flush: the log holds every fact so far

    def routes(self) -> list[web.RouteDef]:
        return [web.get(ROUTE, self.lines)]

    async def lines(self, request: web.Request) -> web.StreamResponse:
        if not request[PRINCIPAL].is_supervisor:
            raise web.HTTPForbidden(
                text='{"error":"only supervisors and admins may read the queue log"}',
                content_type="application/json",
            )
        missing = [name for name in ("from", "to") if name not in request.query]
        if missing:
            return web.json_response(
                {"error": f"query parameter '{missing[0]}' is required", "parameter": missing[0]}, status=400
            )
        moments: dict[str, float] = {}
        for name in ("from", "to"):
            try:
                moments[name] = _when(request.query[name])
            except (ValueError, OverflowError) as err:
                return web.json_response(
                    {"error": f"'{name}' is not a date or time: {err}", "parameter": name}, status=400
                )
        start, end = moments["from"], moments["to"]
        if end <= start:
            return web.json_response({"error": "'to' must be after 'from'", "parameter": "to"}, status=400)
        if self.before_reading is not None:
            await self.before_reading()
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        response.headers["Content-Disposition"] = 'attachment; filename="queue_log"'
        await response.prepare(request)
        chunk: list[str] = []
        async for line in self.export.lines(start, end):
            chunk.append(line)
            if len(chunk) >= 500:
                await response.write("".join(chunk).encode())
                chunk.clear()
        if chunk:
            await response.write("".join(chunk).encode())
        await response.write_eof()
        return response


def openapi_paths() -> dict[str, Any]:
    return {
        ROUTE: {
            "get": {
                "summary": "Asterisk queue_log lines of a period, from the fact log (supervisors, admins)",
                "parameters": [{**p, "required": True} for p in query_parameters(ROUTE)],
                "responses": {
                    "200": {
                        "description": "queue_log lines, oldest first",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "400": {
                        "description": "a missing or malformed period",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                    "401": {"description": "no session"},
                    "403": {"description": "supervisors and admins only"},
                },
            }
        }
    }
