"""The `/api/live` websocket: attach to a stream, write its messages, validate what the browser sends.

Heartbeats are the server's job (a `ping` message every `ping_interval` plus aiohttp's protocol-level
heartbeat), so a throttled background tab only has to answer. Hostile or broken frames get an
`error` message; a connection that keeps sending them is closed with the policy-violation code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from callserver.web.auth import Principal
from callserver.web.hub import CLOSE_POLICY, Connection, LiveHub

log = logging.getLogger("callserver.web.live")

CLIENT_TYPES = frozenset({"ack", "pong"})


@dataclass(frozen=True, slots=True)
class LiveSettings:
    ping_interval: float = 20.0
    heartbeat: float = 30.0
    max_frame: int = 4096  # larger text frames get an error; far larger ones close the socket
    hard_frame_limit: int = 65536
    max_errors: int = 5


def origin_allowed(request: web.Request) -> bool:
    """Refuse cross-site websocket hijacking: a browser always sends Origin; it must be this host."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


def check_frame(text: str, max_frame: int) -> tuple[str, str] | None:
    """None for a valid client frame, else (error code, explanation)."""
    if len(text) > max_frame:
        return "frame_too_large", f"frames are limited to {max_frame} characters"
    try:
        frame = json.loads(text)
    except ValueError:
        return "invalid_json", "the frame is not valid JSON"
    if not isinstance(frame, dict):
        return "not_an_object", "a frame must be a JSON object"
    kind = frame.get("type")
    if kind not in CLIENT_TYPES:
        return "unknown_type", f"'type' must be one of {sorted(CLIENT_TYPES)}"
    data = frame.get("data", {})
    if not isinstance(data, dict):
        return "invalid_data", "'data' must be an object"
    if kind == "ack" and (not isinstance(data.get("seq"), int) or isinstance(data.get("seq"), bool)):
        return "invalid_data", "ack needs data.seq, an integer"
    return None


async def serve_live(
    request: web.Request, hub: LiveHub, principal: Principal, token: str, settings: LiveSettings
) -> web.StreamResponse:
    if not origin_allowed(request):
        raise web.HTTPForbidden(
            text='{"error":"cross-origin websocket refused"}', content_type="application/json"
        )
    try:
        last_seq = int(request.query.get("last_seq", "-1"))
    except ValueError:
        last_seq = -1
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=settings.hard_frame_limit)
    await ws.prepare(request)
    stream, conn = hub.open(principal, token, request.query.get("resume"), last_seq)
    writer = asyncio.create_task(_write(ws, hub, conn, settings.ping_interval), name=f"live-{stream.id}")
    errors = 0
    try:
        async for msg in ws:
            problem: tuple[str, str] | None
            if msg.type is WSMsgType.TEXT:
                problem = check_frame(msg.data, settings.max_frame)
            elif msg.type is WSMsgType.BINARY:
                problem = ("binary_not_supported", "send JSON text frames")
            else:
                break
            if problem is None:
                continue
            errors += 1
            hub.control(conn, "error", {"code": problem[0], "message": problem[1]})
            if errors >= settings.max_errors:
                log.warning(
                    "live stream %s of %s: closed after %d bad frames", stream.id, principal.login, errors
                )
                conn.close(CLOSE_POLICY)
                break
    finally:
        hub.detach(stream, conn)
        conn.close()
        with contextlib.suppress(Exception):
            await writer
        await ws.close()
    return ws


async def _write(ws: web.WebSocketResponse, hub: LiveHub, conn: Connection, ping_interval: float) -> None:
    """Send queued messages in order; a quiet connection gets a `ping` every `ping_interval`."""
    try:
        while True:
            while conn.pending:
                await ws.send_str(conn.pending.popleft())
            if conn.closing:
                break
            conn.wake.clear()
            try:
                async with asyncio.timeout(ping_interval):
                    await conn.wake.wait()
            except TimeoutError:
                hub.control(conn, "ping", {"t": hub.clock()})
    except (ConnectionError, RuntimeError) as err:
        log.debug("live connection lost while writing: %s", err)
    with contextlib.suppress(Exception):
        await ws.close(code=conn.close_code)
