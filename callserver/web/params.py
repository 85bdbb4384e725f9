"""The REST API's path and query parameters: one declaration per name, enforced by a middleware before
any handler runs and published in the OpenAPI document.

A handler that receives `voicemail_id` knows it is an integer SQLite and PostgreSQL can hold; an id
past 2^63 is a 400 naming the parameter, never an OverflowError from the database driver.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

MAX_ID = 2**63 - 1  # the largest BIGINT: what the stores can look up


@dataclass(frozen=True, slots=True)
class Param:
    """An integer in [minimum, maximum], or a string of at most `max_length` matching `pattern`."""

    kind: str  # "integer" or "string"
    description: str
    minimum: int = 0
    maximum: int = MAX_ID
    pattern: str = ""
    max_length: int = 0

    def schema(self) -> dict[str, Any]:
        if self.kind == "integer":
            return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        return {"type": "string", "pattern": self.pattern, "maxLength": self.max_length}

    def problem(self, raw: str) -> str | None:
        """Why `raw` is not acceptable, or None."""
        if self.kind == "integer":
            if not re.fullmatch(r"-?[0-9]{1,20}", raw):
                return f"must be an integer from {self.minimum} to {self.maximum}"
            if not self.minimum <= int(raw) <= self.maximum:
                return f"must be an integer from {self.minimum} to {self.maximum}"
            return None
        if len(raw) > self.max_length or not re.fullmatch(self.pattern, raw):
            return f"must be at most {self.max_length} characters matching {self.pattern}"
        return None


_ID = Param("integer", "a record id", minimum=1)
PATH: dict[str, Param] = {
    "agent_id": Param(
        "string", "an agent id from the configuration", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64
    ),
    # Asterisk uniqueids (1700000000.12, optionally after a system name) and the ids callserver makes
    "call_id": Param("string", "a call id", pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$", max_length=128),
    "customer_id": _ID,
    "voicemail_id": _ID,
    "callback_id": _ID,
    "run_id": Param("string", "a script run id", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=64),
    "script_id": Param("string", "a dialogue script id", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64),
    "report": Param(
        "string", "a report name (GET /api/reports)", pattern=r"^[a-z][a-z0-9_]*$", max_length=64
    ),
    "name": Param("string", "a campaign name", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=40),
}
"""Every path parameter of every route, by name."""

_TEXT = r"^[^\x00-\x1f]*$"  # any printable text: no control characters
_FLAG = Param("string", "true or false", pattern=r"^(true|false|1|0|yes|no)$", max_length=5)
_WHEN = Param(
    "string",
    "an ISO 8601 date or time",
    pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?$",
    max_length=40,
)
QUERY: dict[str, dict[str, Param]] = {
    "/api/customers": {
        "q": Param(
            "string", "words of a name, e-mail or account, or phone digits", pattern=_TEXT, max_length=100
        ),
        "limit": Param("integer", "customers per page", minimum=1, maximum=100),
        "offset": Param("integer", "customers to skip", minimum=0, maximum=10**9),
    },
    "/api/customers/import": {"update": _FLAG},
    "/api/outcomes": {
        "call_id": PATH["call_id"],
        "queue": Param("string", "a queue name", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64),
    },
    "/api/script-runs": {
        "script_id": PATH["script_id"],
        "customer_id": _ID,
        "agent_id": PATH["agent_id"],
        "status": Param("string", "a run status", pattern=r"^[a-z_]+$", max_length=20),
        "since": _WHEN,
        "until": _WHEN,
        "limit": Param("integer", "runs at most", minimum=1, maximum=10_000),
        "format": Param("string", "csv for CSV, else JSON", pattern=r"^(csv|json)$", max_length=4),
    },
    "/api/calls": {
        "from": Param(
            "string",
            "first local day (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM, local unless it has an offset)",
            pattern=_WHEN.pattern,
            max_length=40,
        ),
        "to": Param(
            "string",
            "last local day, included (YYYY-MM-DD), or a time: calls that arrived before it",
            pattern=_WHEN.pattern,
            max_length=40,
        ),
        "number": Param(
            "string",
            "the caller's number, national or international form (compared in E.164)",
            pattern=_TEXT,
            max_length=40,
        ),
        "customer": Param(
            "string", "a customer id, an account, or part of a customer's name", pattern=_TEXT, max_length=100
        ),
        "agent": PATH["agent_id"],
        "queue": Param("string", "a queue name", pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=64),
        "outcome": Param(
            "string",
            "how the call ended (answered, abandoned, timed_out...) or the wrap-up outcome code",
            pattern=r"^[A-Za-z0-9_.-]+$",
            max_length=32,
        ),
        "limit": Param("integer", "calls per page", minimum=1, maximum=200),
        "cursor": Param(
            "string", "next_cursor of the previous page", pattern=r"^[A-Za-z0-9_-]+$", max_length=400
        ),
    },
    "/api/queue-log": {
        "from": _WHEN,  # naive times are UTC
        "to": _WHEN,
    },
    "/api/reports/{report}": {
        "from": Param(
            "string", "first local day, YYYY-MM-DD", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", max_length=10
        ),
        "to": Param(
            "string",
            "last local day, YYYY-MM-DD (included)",
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            max_length=10,
        ),
        "interval": Param(
            "string",
            "15m, 30m, 60m, day, week or month",
            pattern=r"^(15m|30m|60m|day|week|month)$",
            max_length=5,
        ),
        "format": Param("string", "csv for CSV, else JSON", pattern=r"^(csv|json)$", max_length=4),
        # the report's dimension filters (queue=..., agent=...; repeatable) are checked by the report
    },
    "/api/live": {
        "resume": Param(
            "string", "the stream to resume (from `hello`)", pattern=r"^[A-Za-z0-9_-]+$", max_length=64
        ),
        "last_seq": Param("integer", "the highest seq the tab has processed", minimum=-1),
    },
}
"""Query parameters per route; others are ignored."""


def path_parameters(names: list[str]) -> list[dict[str, Any]]:
    """OpenAPI `parameters` for the path parameters `names`."""
    return [
        {
            "name": n,
            "in": "path",
            "required": True,
            "description": PATH[n].description,
            "schema": PATH[n].schema(),
        }
        for n in names
    ]


def query_parameters(route: str) -> list[dict[str, Any]]:
    """OpenAPI `parameters` for the query of `route`."""
    return [
        {"name": n, "in": "query", "required": False, "description": p.description, "schema": p.schema()}
        for n, p in QUERY.get(route, {}).items()
    ]


def bad_parameter(name: str, where: str, problem: str) -> web.Response:
    return web.json_response(
        {"error": f"{where} parameter '{name}' {problem}", "parameter": name}, status=400
    )


def check(match_info: Mapping[str, str], route: str, query: Mapping[str, str]) -> web.Response | None:
    """The 400 answer for the first parameter out of range, or None when all are fine."""
    for name, raw in match_info.items():
        param = PATH.get(name)
        problem = "is not a declared parameter" if param is None else param.problem(raw)
        if problem is not None:
            return bad_parameter(name, "path", problem)
    for name, param in QUERY.get(route, {}).items():
        if name in query:
            problem = param.problem(query[name])
            if problem is not None:
                return bad_parameter(name, "query", problem)
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def validate_parameters(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Reject out-of-range parameters of /api/ routes before their handler runs."""
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else ""
    if route.startswith("/api/"):
        refused = check(request.match_info, route, request.query)
        if refused is not None:
            return refused
    return await handler(request)
