"""The OpenAPI 3.1 description of the REST API, written by hand and served at /api/openapi.json.

Tests walk its paths to check that every route exists, that none answers without a session and that
every parameter declares its range (params.py holds the one declaration of each).
"""

from __future__ import annotations

from typing import Any

from callserver.web.params import path_parameters, query_parameters

_ERROR: dict[str, Any] = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_DENIED = {"401": {"description": "no session"}, "403": {"description": "not allowed for this role"}}


def _op(
    summary: str, ok: str = "OK", body: str | None = None, responses: dict[str, Any] | None = None
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": {"description": ok}, **_DENIED, **(responses or {})},
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": body}}}}
    return op


def _param(name: str) -> dict[str, Any]:
    """A path parameter as declared (with its range) in params.py."""
    return path_parameters([name])[0]


def openapi_document(
    *,
    voicemail: bool = True,
    scripts: bool = False,
    campaigns: bool = False,
    queue_log: bool = True,
    reports: bool = False,
) -> dict[str, Any]:
    """The served API; the voicemail, dialogue-script, campaign and report routes exist only where those
    services are wired (the scripts' public self-service pages are described too, with no security)."""
    from callserver.web.call_history import SCHEMAS as CALL_SCHEMAS
    from callserver.web.call_history import openapi_paths as call_paths
    from callserver.web.customer_routes import SCHEMAS
    from callserver.web.customer_routes import openapi_paths as customer_paths
    from callserver.web.health import openapi_paths as health_paths
    from callserver.web.monitor import openapi_paths as monitor_paths

    document = _document()
    for path, item in [
        *customer_paths().items(),
        *monitor_paths().items(),
        *health_paths().items(),
        *call_paths().items(),
    ]:
        document["paths"].setdefault(path, {}).update(item)
    document["components"]["schemas"].update(SCHEMAS)
    document["components"]["schemas"].update(CALL_SCHEMAS)
    if queue_log:
        from callserver.web.queuelog import openapi_paths as queue_log_paths

        document["paths"].update(queue_log_paths())
    if voicemail:
        from callserver.web.voicemail import VOICEMAIL_SCHEMA, openapi_paths

        document["paths"].update(openapi_paths())
        document["components"]["schemas"]["Voicemail"] = VOICEMAIL_SCHEMA
    if scripts:
        from callserver.web import scripts as script_routes
        from callserver.web import selfservice

        document["paths"].update(script_routes.openapi_paths())
        document["paths"].update(selfservice.openapi_paths())
        document["components"]["schemas"].update(script_routes.SCRIPT_SCHEMAS)
        document["components"]["schemas"].update(selfservice.SELF_SCHEMAS)
    if campaigns:
        from callserver.web import campaigns as outbound

        document["paths"].update(outbound.openapi_paths())
        document["components"]["schemas"].update(outbound.openapi_schemas())
    if reports:
        from callserver.web.reports import openapi_paths as report_paths

        document["paths"].update(report_paths())
    return document


def _document() -> dict[str, Any]:
    customer_body = "#/components/schemas/CustomerInput"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callserver agent and supervisor API",
            "version": "1",
            "description": "Session cookie (from POST /api/login) or `Authorization: Bearer <token>` "
            "(login with `bearer: true`). State-changing requests need the header `X-Callserver: 1`. "
            "The live websocket is /api/live, described in callserver/web/schema.json.",
        },
        "paths": {
            "/api/login": {
                "post": _op("Open a session", body="#/components/schemas/Login", responses={"429": _ERROR})
            },
            "/api/logout": {
                "post": _op(
                    "Close this session and its live streams; an agent is logged out of their queues "
                    "(on a call: 409 unless body {force: true})",
                    responses={"409": _ERROR},
                )
            },
            "/api/directory": {
                "get": _op(
                    "Transfer targets: queues with their load, agents with status and state, recent numbers"
                )
            },
            "/api/me": {"get": _op("Who I am; for agents their status, state and calls today")},
            "/api/agents": {"get": _op("All agents (supervisors)")},
            "/api/agents/{agent_id}/status": {
                "parameters": [_param("agent_id")],
                "post": _op(
                    "Set an agent's status (own, or anyone's for supervisors)",
                    body="#/components/schemas/StatusChange",
                    responses={"400": _ERROR, "404": _ERROR},
                ),
            },
            "/api/queues": {"get": _op("Queue tiles: waiting, longest wait, agents, today's counters")},
            "/api/agents/{agent_id}/phone": {
                "parameters": [_param("agent_id")],
                "post": _op(
                    "Take calls on another phone ({number}: remote, accepts with 1; null: configured one)",
                    responses={"400": _ERROR, "404": _ERROR},
                ),
            },
            "/api/metrics": {
                "get": _op(
                    "Today's per-queue figures, in total and per 15 minutes: waiting, longest wait,"
                    " answered, abandoned (short apart), service level (two variants), ASA, AHT,"
                    " occupancy; defined in docs/metrics.md"
                )
            },
            "/api/calls/waiting": {"get": _op("Calls waiting or being offered, in service order")},
            "/api/pops/{call_id}": {
                "parameters": [_param("call_id")],
                "get": _op(
                    "Screen-pop of a call offered to me (supervisors: any)", responses={"404": _ERROR}
                ),
            },
            "/api/customers": {
                "post": _op(
                    "Create a customer from a pop",
                    "created",
                    body=customer_body,
                    responses={"201": {"description": "created"}, "400": _ERROR, "409": _ERROR},
                ),
            },
            "/api/customers/{customer_id}": {
                "parameters": [_param("customer_id")],
                "put": _op(
                    "Edit a customer of my current pop (supervisors: any)",
                    body=customer_body,
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR},
                ),
            },
            "/api/calls/{call_id}/hangup": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Hang up the caller (own call, or any for supervisors)",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/hold": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Put the caller on hold (music); the agent leg waits",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/resume": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Take the caller off hold, same agent",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/transfer": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Blind transfer; body {kind: queue|agent|number, target}",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/consult": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Consult a colleague or a number, caller on hold; body {kind: agent|number, target}",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/consult/complete": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "The consulted party takes the caller",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/consult/cancel": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Drop the consulted party, caller back to the agent",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/wrapup": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Record the wrap-up outcome code and note (stored before the reply); "
                    "ends the agent's wrap-up; body {outcome, note}",
                    responses={"400": _ERROR, "404": _ERROR, "409": _ERROR, "502": _ERROR},
                ),
            },
            "/api/calls/{call_id}/wrapup/draft": {
                "parameters": [_param("call_id")],
                "post": _op(
                    "Keep what the agent has chosen and typed so far (saved if the wrap-up time runs "
                    "out); body {outcome, note}",
                    responses={"400": _ERROR, "403": _ERROR, "409": _ERROR},
                ),
            },
            "/api/agents/{agent_id}/wrapup/extend": {
                "parameters": [_param("agent_id")],
                "post": _op(
                    "More wrap-up time, never past the queue's wrapup_max; body {seconds}; "
                    "answers {until, limit}",
                    responses={"400": _ERROR, "403": _ERROR, "404": _ERROR, "409": _ERROR},
                ),
            },
            "/api/outcomes": {
                "parameters": query_parameters("/api/outcomes"),
                "get": _op(
                    "The wrap-up outcome codes of a call's queue (?call_id= or ?queue=; else the default "
                    "list): {list, required, outcomes, codes: [{code, label}]}"
                ),
            },
            "/api/openapi.json": {"get": _op("This document")},
            "/api/live": {
                "parameters": query_parameters("/api/live"),
                "get": _op(
                    "Websocket upgrade for the live channel",
                    "switching protocols",
                    responses={"400": _ERROR},
                ),
            },
        },
        "components": {
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "cs_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                },
                "Login": {
                    "type": "object",
                    "required": ["login", "password"],
                    "properties": {
                        "login": {"type": "string"},
                        "password": {"type": "string"},
                        "bearer": {"type": "boolean", "description": "return the token instead of a cookie"},
                    },
                },
                "StatusChange": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "status": {"enum": ["available", "paused", "logged_out"]},
                        "reason": {
                            "type": "string",
                            "description": "required for paused: a configured reason",
                        },
                    },
                },
                "CustomerInput": {
                    "type": "object",
                    "required": ["name", "phones"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "phones": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "account": {"type": ["string", "null"]},
                        "email": {"type": ["string", "null"]},
                        "language": {"type": ["string", "null"]},
                        "vip": {"type": "boolean"},
                        "notes": {"type": "string"},
                    },
                },
            },
        },
        "security": [{"cookie": []}, {"bearer": []}],
    }
