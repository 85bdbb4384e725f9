"""REST for voicemail: the backlog (supervisors) or one's own messages (agents), the recording as
WAV for the browser's audio player, calling the customer back, and closing with an outcome.

Payloads are mapped explicitly from `Voicemail` records; file paths never leave the server.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from callserver.voicemail.audio import AudioUnavailable, browser_wav
from callserver.voicemail.model import Voicemail
from callserver.voicemail.service import VoicemailError, VoicemailService
from callserver.web.api import PRINCIPAL, json_error, read_json
from callserver.web.auth import Principal
from callserver.web.params import path_parameters


def voicemail_view(vm: Voicemail, now: datetime) -> dict[str, Any]:
    return {
        "id": vm.id,
        "call_id": vm.call_id,
        "caller_num": vm.caller_num,
        "caller_name": vm.caller_name,
        "customer_id": vm.customer_id,
        "box": str(vm.box),
        "queue": vm.queue or None,
        "recorded_at": vm.recorded_at.isoformat(),
        "age": round(vm.age(now), 1),
        "duration": vm.duration,
        "has_audio": vm.path is not None,
        "status": vm.status.value,
        "agent_id": vm.agent_id,
        "outcome": vm.outcome,
        "callback_call_id": vm.callback_call_id,
        "data": dict(vm.data),
    }


class VoicemailApi:
    def __init__(
        self,
        service: VoicemailService,
        *,
        outcomes: Collection[str],
        audio_cache: Path,
        clock: Callable[[], float],
    ) -> None:
        self.service = service
        self.outcomes = frozenset(outcomes)
        self.audio_cache = audio_cache
        self.clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/voicemails", self.listing),
            web.get("/api/voicemails/{voicemail_id}/audio", self.audio),
            web.post("/api/voicemails/{voicemail_id}/callback", self.callback),
            web.post("/api/voicemails/{voicemail_id}/close", self.close),
        ]

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    async def listing(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        items = await self.service.visible_to(None if p.is_supervisor else (p.agent_id or ""))
        now = self._now()
        return web.json_response({"voicemails": [voicemail_view(vm, now) for vm in items]})

    async def _visible(self, request: web.Request) -> Voicemail:
        vm = await self.service.get(int(request.match_info["voicemail_id"]))  # range-checked: params.py
        p: Principal = request[PRINCIPAL]
        if vm is None or not (p.is_supervisor or (p.agent_id is not None and vm.agent_id == p.agent_id)):
            # the same answer for "none" and "not yours": ids are not to be probed
            raise web.HTTPNotFound(text='{"error":"no such voicemail"}', content_type="application/json")
        return vm

    async def audio(self, request: web.Request) -> web.StreamResponse:
        vm = await self._visible(request)
        if vm.path is None:
            return json_error(404, "nothing was recorded")
        try:
            wav = await browser_wav(Path(vm.path), self.audio_cache, f"voicemail-{vm.id}")
        except AudioUnavailable as err:
            return json_error(404, str(err))
        return web.FileResponse(wav, headers={"Content-Type": "audio/wav"})

    async def callback(self, request: web.Request) -> web.Response:
        vm = await self._visible(request)
        p: Principal = request[PRINCIPAL]
        agent_id = p.agent_id if not p.is_supervisor else vm.agent_id
        if agent_id is None:
            return json_error(409, "the voicemail is not assigned to an agent")
        try:
            vm = await self.service.start_callback(vm.id, agent_id)
        except VoicemailError as err:
            return json_error(409, str(err))
        return web.json_response(voicemail_view(vm, self._now()), status=202)

    async def close(self, request: web.Request) -> web.Response:
        vm = await self._visible(request)
        body = await read_json(request)
        outcome = body.get("outcome")
        if not isinstance(outcome, str) or outcome not in self.outcomes:
            return json_error(400, f"outcome must be one of {', '.join(sorted(self.outcomes))}")
        p: Principal = request[PRINCIPAL]
        try:
            vm = await self.service.close(vm.id, None if p.is_supervisor else p.agent_id, outcome)
        except VoicemailError as err:
            return json_error(409, str(err))
        return web.json_response(voicemail_view(vm, self._now()))


def _path_param() -> list[dict[str, Any]]:
    return path_parameters(["voicemail_id"])


def _response(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


VOICEMAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "caller_num", "box", "recorded_at", "age", "status", "has_audio"],
    "properties": {
        "id": {"type": "integer"},
        "call_id": {"type": "string"},
        "caller_num": {"type": "string"},
        "caller_name": {"type": "string"},
        "customer_id": {"type": ["integer", "null"]},
        "box": {"type": "string", "description": "queue:<name> or agent:<id>"},
        "queue": {"type": ["string", "null"]},
        "recorded_at": {"type": "string", "format": "date-time"},
        "age": {"type": "number", "description": "seconds since the message was left"},
        "duration": {"type": ["number", "null"]},
        "has_audio": {"type": "boolean"},
        "status": {"enum": ["new", "assigned", "in_progress", "done"]},
        "agent_id": {"type": ["string", "null"]},
        "outcome": {"type": ["string", "null"]},
        "callback_call_id": {"type": ["string", "null"]},
        "data": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def openapi_paths() -> dict[str, Any]:
    """The voicemail routes in OpenAPI 3.1 form, to merge into the document's `paths`."""
    item = {"$ref": "#/components/schemas/Voicemail"}
    error = _response("error", {"$ref": "#/components/schemas/Error"})
    return {
        "/api/voicemails": {
            "get": {
                "summary": "Open voicemails: all with their age (supervisors) or those assigned to me",
                "responses": {
                    "200": _response(
                        "OK",
                        {"type": "object", "properties": {"voicemails": {"type": "array", "items": item}}},
                    )
                },
            }
        },
        "/api/voicemails/{voicemail_id}/audio": {
            "parameters": _path_param(),
            "get": {
                "summary": "The recording as PCM WAV for the browser's audio player",
                "responses": {
                    "200": {"description": "audio", "content": {"audio/wav": {}}},
                    "404": error,
                },
            },
        },
        "/api/voicemails/{voicemail_id}/callback": {
            "parameters": _path_param(),
            "post": {
                "summary": "Ring my phone, then dial the customer; links the callback call id",
                "responses": {"202": _response("callback placed", item), "404": error, "409": error},
            },
        },
        "/api/voicemails/{voicemail_id}/close": {
            "parameters": _path_param(),
            "post": {
                "summary": "Close with an outcome (one of the configured outcome codes)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["outcome"],
                                "properties": {"outcome": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {"200": _response("closed", item), "400": error, "404": error, "409": error},
            },
        },
    }
