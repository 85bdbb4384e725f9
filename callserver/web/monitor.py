"""The supervisor monitor's own REST: listen / whisper / barge on an agent's call from the
supervisor's phone, the state of that monitoring call, stopping it, and the phone itself.

The phone comes from the supervisor's profile (`web_users[].phone` in the configuration) and may be
changed from the monitor for the life of the server process. A supervisor has one monitoring call
at a time (`acd.control.SpySession`): a second click does not ring a second call, another agent or
mode moves the same call. Every change reaches the monitors as a `monitor.spy` live message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from callserver.acd.control import SPY_OPTIONS, CallControl, ControlError
from callserver.web.api import PRINCIPAL, json_error, read_json
from callserver.web.auth import Principal
from callserver.web.params import path_parameters
from callserver.web.views import spy_view

EXTENSION = re.compile(r"^\+?[0-9]{2,20}$")
ENDPOINT = re.compile(r"^(?:PJSIP|SIP|IAX2|Local)/[A-Za-z0-9_.@+-]{1,80}$")


def phone_endpoint(raw: str) -> str | None:
    """An extension (2001) as its PJSIP endpoint, an endpoint as it is; None if neither."""
    text = raw.strip()
    if EXTENSION.match(text):
        return f"PJSIP/{text}"
    return text if ENDPOINT.match(text) else None


class SupervisorPhones:
    """Where each supervisor's phone rings: the configured one unless changed from the monitor."""

    def __init__(self, configured: Mapping[str, str]) -> None:
        self._phones = dict(configured)

    def get(self, login: str) -> str | None:
        return self._phones.get(login)

    def set(self, login: str, phone: str | None) -> None:
        if phone is None:
            self._phones.pop(login, None)
        else:
            self._phones[login] = phone


class MonitorApi:
    def __init__(self, control: CallControl | None, phones: SupervisorPhones) -> None:
        self.control = control
        self.phones = phones

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/agents/{agent_id}/spy", self.spy),
            web.get("/api/spy", self.current),
            web.post("/api/spy/stop", self.stop),
            web.put("/api/me/phone", self.set_phone),
        ]

    @staticmethod
    def _supervisor(request: web.Request) -> Principal:
        principal: Principal = request[PRINCIPAL]
        if not principal.is_supervisor:
            raise web.HTTPForbidden(
                text='{"error":"only supervisors may listen to calls"}', content_type="application/json"
            )
        return principal

    def _control(self) -> CallControl:
        if self.control is None:
            raise ControlError("call control is not available on this server")
        return self.control

    async def spy(self, request: web.Request) -> web.Response:
        """Body: `mode` (listen, whisper, barge) and optionally `phone` (default: my profile's)."""
        principal = self._supervisor(request)
        agent_id = request.match_info["agent_id"]
        body = await read_json(request)
        mode, given = body.get("mode"), body.get("phone")
        if not isinstance(mode, str) or mode not in SPY_OPTIONS:
            return json_error(400, f"'mode' must be one of: {', '.join(SPY_OPTIONS)}")
        raw = given if given is not None else self.phones.get(principal.login)
        if raw is None:
            return json_error(400, "no phone in your profile: set yours in the monitor (or give 'phone')")
        phone = phone_endpoint(raw) if isinstance(raw, str) else None
        if phone is None:
            return json_error(400, "'phone' must be an extension number or an endpoint such as PJSIP/9003")
        try:
            control = self._control()
            if control.service.agent(agent_id) is None:
                return json_error(404, f"unknown agent {agent_id}")
            leg_id = await control.spy(agent_id, mode, phone, principal.login)
        except ControlError as err:
            return json_error(err.status, str(err))
        session = control.spy_of(principal.login)
        return web.json_response(
            {"ok": True, "agent_id": agent_id, "leg_id": leg_id, "mode": mode, "spy": spy_view(session)}
        )

    async def current(self, request: web.Request) -> web.Response:
        principal = self._supervisor(request)
        session = self.control.spy_of(principal.login) if self.control is not None else None
        return web.json_response({"spy": spy_view(session), "phone": self.phones.get(principal.login)})

    async def stop(self, request: web.Request) -> web.Response:
        principal = self._supervisor(request)
        try:
            session = await self._control().stop_spy(principal.login)
        except ControlError as err:
            return json_error(err.status, str(err))
        return web.json_response({"ok": True, "spy": spy_view(session)})

    async def set_phone(self, request: web.Request) -> web.Response:
        """Body: `phone` (an extension or endpoint; null: no phone). Kept until the server restarts."""
        principal = self._supervisor(request)
        body = await read_json(request)
        raw = body.get("phone")
        if raw is None or raw == "":
            self.phones.set(principal.login, None)
            return web.json_response({"phone": None})
        phone = phone_endpoint(raw) if isinstance(raw, str) else None
        if phone is None:
            return json_error(400, "'phone' must be an extension number or an endpoint such as PJSIP/9003")
        self.phones.set(principal.login, phone)
        return web.json_response({"phone": phone})


def openapi_paths() -> dict[str, Any]:
    denied = {"401": {"description": "no session"}, "403": {"description": "supervisors only"}}
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "/api/agents/{agent_id}/spy": {
            "parameters": path_parameters(["agent_id"]),
            "post": {
                "summary": "Listen, whisper or barge on the agent's call from my phone (my profile's unless "
                "`phone` is given). One monitoring call per supervisor: the same request again rings "
                "nothing, another agent or mode moves the call without a new one",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["mode"],
                                "properties": {
                                    "mode": {"enum": list(SPY_OPTIONS)},
                                    "phone": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "monitoring"},
                    "400": error,
                    "404": error,
                    "409": error,
                    "502": error,
                    **denied,
                },
            },
        },
        "/api/spy": {
            "get": {
                "summary": "My monitoring call (or null) and my phone",
                "responses": {"200": {"description": "OK"}, **denied},
            }
        },
        "/api/spy/stop": {
            "post": {
                "summary": "Hang up my monitoring call",
                "responses": {"200": {"description": "stopped"}, "404": error, **denied},
            }
        },
        "/api/me/phone": {
            "put": {
                "summary": "Set where my monitoring calls ring (an extension or endpoint; null: none) "
                "until the server restarts",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"phone": {"type": ["string", "null"]}},
                            }
                        }
                    },
                },
                "responses": {"200": {"description": "OK"}, "400": error, **denied},
            }
        },
    }
