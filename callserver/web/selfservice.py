"""The public self-service pages: `/self/<script>` (no login) and its small JSON API under
`/self/api/<script>`, outside `/api/` so that the API's rules (a session for everything) stay as
they are.

Hostile ground: a page is opened only with the header `X-Callserver-Self: 1` and, when the browser
sends one, an `Origin` of this host; its cookie is HttpOnly and SameSite=Strict; every later move
carries the page's own CSRF token in `X-Self-Token`; bodies are small and validated (the engine
checks every answer); replies are never cached and hold only what the script shows. Limits per
client address, account and page are `SelfService`'s.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from callserver.scripts.selfservice import SelfService, SelfServiceError

COOKIE = "cs_self"
OPEN_HEADER = "X-Callserver-Self"
TOKEN_HEADER = "X-Self-Token"
MAX_BODY = 8 * 1024
PAGE = "selfservice/index.html"


class SelfServiceWeb:
    def __init__(self, service: SelfService, ui_dir: Path, *, cookie_secure: bool | None) -> None:
        self.service = service
        self.ui_dir = ui_dir
        self.cookie_secure = cookie_secure

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/self/{script_id}", self.page),
            web.get("/self/api/{script_id}", self.info),
            web.post("/self/api/{script_id}/start", self.start),
            web.get("/self/api/{script_id}/page", self.current),
            web.post("/self/api/{script_id}/move", self.move),
        ]

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The same static page for every web script; it reads the script's id from its address."""
        if self.service.script(request.match_info["script_id"]) is None:
            return web.Response(status=404, text="This page does not exist.", content_type="text/plain")
        page = self.ui_dir / PAGE
        if not page.is_file():
            return web.Response(status=404, text="self-service page not installed")
        return web.FileResponse(page, headers={"Cache-Control": "no-store"})

    async def info(self, request: web.Request) -> web.Response:
        async def go() -> dict[str, Any]:
            return self.service.info(request.match_info["script_id"])

        return await self._answer(go)

    async def start(self, request: web.Request) -> web.Response:
        async def go() -> dict[str, Any] | web.Response:
            self._opened_here(request)
            body = await _body(request)
            account, factor = body.get("account"), body.get("factor")
            if not isinstance(account, str | None) or not isinstance(factor, str | None):
                raise SelfServiceError(400, "The account number and the second detail are text.")
            page, view = await self.service.start(
                request.match_info["script_id"], _client(request), account=account, factor=factor
            )
            response = _reply({"csrf": page.csrf, "page": view})
            response.set_cookie(
                COOKIE,
                page.token,
                httponly=True,
                samesite="Strict",
                path="/self/",
                secure=self._secure(request),
            )
            return response

        return await self._answer(go)

    async def current(self, request: web.Request) -> web.Response:
        async def go() -> dict[str, Any]:
            page = self.service.page(request.cookies.get(COOKIE, ""), request.match_info["script_id"])
            return {"page": self.service.view(page)}

        return await self._answer(go)

    async def move(self, request: web.Request) -> web.Response:
        async def go() -> dict[str, Any]:
            page = self.service.page(
                request.cookies.get(COOKIE, ""),
                request.match_info["script_id"],
                csrf=request.headers.get(TOKEN_HEADER, ""),
            )
            body = await _body(request)
            op, position = body.get("op"), body.get("position")
            if op not in ("next", "back", "talk"):
                raise SelfServiceError(400, "Unknown request.")
            if not isinstance(position, int) or isinstance(position, bool):
                raise SelfServiceError(400, "Unknown request.")
            view = await self.service.move(
                page, op, position=position, value=body.get("value"), number=body.get("number")
            )
            return {"page": view}

        return await self._answer(go)

    # -- plumbing -------------------------------------------------------------------------------

    async def _answer(self, handler: Callable[[], Awaitable[dict[str, Any] | web.Response]]) -> web.Response:
        try:
            result = await handler()
        except SelfServiceError as err:
            data: dict[str, Any] = {"error": str(err)}
            if err.status == 409:
                data["stale"] = True
            response = _reply(data, err.status)
            if err.retry_after is not None:
                response.headers["Retry-After"] = str(max(1, round(err.retry_after)))
            return response
        return result if isinstance(result, web.Response) else _reply(result)

    def _opened_here(self, request: web.Request) -> None:
        if request.headers.get(OPEN_HEADER) != "1":
            raise SelfServiceError(403, "This page cannot be used from here: reload it.")
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
            raise SelfServiceError(403, "This page cannot be used from here: reload it.")

    def _secure(self, request: web.Request) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        host = (request.url.host or "").strip("[]")
        return request.secure or host not in {"127.0.0.1", "localhost", "::1"}


def _reply(data: dict[str, Any], status: int = 200) -> web.Response:
    response = web.json_response(data, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise SelfServiceError(413, "Too much to send at once.")
    text = await request.text()
    if len(text) > MAX_BODY:
        raise SelfServiceError(413, "Too much to send at once.")
    try:
        body = json.loads(text or "{}")
    except ValueError:
        raise SelfServiceError(400, "Unknown request.") from None
    if not isinstance(body, dict):
        raise SelfServiceError(400, "Unknown request.")
    return body


def openapi_paths() -> dict[str, Any]:
    """The public routes in OpenAPI 3.1 form: no session (`security: []`)."""
    error = {
        "description": "error (a message that can be shown to the customer)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    param = [{"name": "script_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    page = {"description": "the page now", "content": {"application/json": {"schema": {"type": "object"}}}}

    def op(summary: str, ok: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"summary": summary, "security": [], "responses": {"200": ok, "404": error, **(extra or {})}}

    return {
        "/self/{script_id}": {
            "parameters": param,
            "get": op("The public self-service page of a web script (HTML)", {"description": "the page"}),
        },
        "/self/api/{script_id}": {
            "parameters": param,
            "get": op("Title, description, how customers identify, the handoff button's label", page),
        },
        "/self/api/{script_id}/start": {
            "parameters": param,
            "post": {
                **op(
                    "Open a page (header X-Callserver-Self: 1; optional {account, factor}); sets the "
                    "cs_self cookie and returns {csrf, page}",
                    page,
                    {"400": error, "401": error, "403": error, "429": error, "503": error},
                ),
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SelfStart"}}},
                },
            },
        },
        "/self/api/{script_id}/page": {
            "parameters": param,
            "get": op("The page as it is now (cs_self cookie)", page, {"410": error}),
        },
        "/self/api/{script_id}/move": {
            "parameters": param,
            "post": {
                **op(
                    "next (answer and go on), back, or talk (to a person); header X-Self-Token",
                    page,
                    {"400": error, "403": error, "409": error, "410": error, "429": error},
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SelfMove"}}},
                },
            },
        },
    }


SELF_SCHEMAS: dict[str, Any] = {
    "SelfStart": {
        "type": "object",
        "properties": {"account": {"type": "string"}, "factor": {"type": "string"}},
    },
    "SelfMove": {
        "type": "object",
        "required": ["op", "position"],
        "properties": {
            "op": {"enum": ["next", "back", "talk"]},
            "position": {"type": "integer", "description": "the page's position, as last received"},
            "value": {"description": "the answer (text, number or boolean)"},
            "number": {"type": "string", "description": "a phone number to be called back on"},
        },
    },
}
