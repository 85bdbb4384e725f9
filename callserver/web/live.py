"""The `/api/live` websocket: attach to a stream, write its messages, validate what the browser sends.

Heartbeats are the server's job (a protocol ping and, on a quiet connection, a `ping` message every
`ping_interval`), so a throttled background tab only has to answer. Hostile or broken frames,
whatever the parser makes of them, get an `error` message; a connection that keeps sending them is
closed with the policy-violation code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from callserver.web.auth import Principal
from callserver.web.hub import CLOSE_GONE, CLOSE_LOGGED_OUT, CLOSE_POLICY, Connection, LiveHub

log = logging.getLogger("callserver.web.live")

CLIENT_TYPES = frozenset({"ack", "pong"})


# Pings are due on a grid of this share of the interval (1 s at 20 s): the sockets whose pings
# fall in the same step are pinged in one wake-up of the loop instead of one each. With 400
# agents connected that was 20 wake-ups a second at 20 s, each costing more than the ping itself.
PING_GRID_SHARE = 0.05


def next_ping(last: float, interval: float) -> float:
    """When the socket pinged at `last` is due again: `interval` later, rounded up to the grid."""
    step = interval * PING_GRID_SHARE
    return math.ceil((last + interval) / step) * step


@dataclass(frozen=True, slots=True)
class LiveSettings:
    ping_interval: float = 20.0
    heartbeat: float = 45.0  # a peer silent this long (no pong, no frame) is taken to be gone
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
    """None for a valid client frame, else (error code, explanation).

    Whatever the parser raises is a bad frame: `[[[[...` a thousand deep raises RecursionError,
    not ValueError, and must count against the budget like any other garbage.
    """
    if len(text) > max_frame:
        return "frame_too_large", f"frames are limited to {max_frame} characters"
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError, MemoryError):
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
    request: web.Request,
    hub: LiveHub,
    principal: Principal,
    token: str,
    settings: LiveSettings,
    session_alive: Callable[[], bool] = lambda: True,
) -> web.StreamResponse:
    """`resume` and `last_seq` have been range-checked by the parameter middleware (params.py)."""
    if not origin_allowed(request):
        raise web.HTTPForbidden(
            text='{"error":"cross-origin websocket refused"}', content_type="application/json"
        )
    last_seq = int(request.query.get("last_seq", "-1"))
    # No permessage-deflate: messages are a few hundred bytes, and each connection's zlib state
    # (hundreds of KiB outside Python's heap) costs more than it saves. No aiohttp heartbeat
    # either: its timer outlives a closed socket and keeps the connection in memory for a whole
    # interval; `_write` pings at the protocol level itself and `_read` notes every answer.
    ws = web.WebSocketResponse(
        heartbeat=None, autoping=False, max_msg_size=settings.hard_frame_limit, compress=False
    )
    await ws.prepare(request)
    stream, conn = hub.open(principal, token, request.query.get("resume"), last_seq)
    loop = asyncio.get_running_loop()
    heard = [loop.time()]
    writer = asyncio.create_task(
        _write(ws, hub, conn, settings, session_alive, heard), name=f"live-{stream.id}"
    )
    try:
        errors = await _read(ws, hub, conn, settings, heard)
        if errors >= settings.max_errors:
            log.warning(
                "live stream %s of %s: closed after %d bad frames", stream.id, principal.login, errors
            )
    finally:
        hub.detach(stream, conn)
        conn.close()
        with contextlib.suppress(Exception):
            await writer
        await ws.close()
    return ws


async def _read(
    ws: web.WebSocketResponse, hub: LiveHub, conn: Connection, settings: LiveSettings, heard: list[float]
) -> int:
    """Check what the browser sends until it closes or uses up its bad frames; the bad-frame count."""
    loop = asyncio.get_running_loop()
    errors = 0
    async for msg in ws:
        heard[0] = loop.time()
        problem: tuple[str, str] | None
        if msg.type is WSMsgType.TEXT:
            try:
                problem = check_frame(msg.data, settings.max_frame)
            except Exception:  # whatever a frame does, it must not take the handler down
                problem = ("invalid_data", "the frame could not be read")
        elif msg.type is WSMsgType.BINARY:
            problem = ("binary_not_supported", "send JSON text frames")
        elif msg.type is WSMsgType.PING:
            await ws.pong(msg.data)
            continue
        elif msg.type is WSMsgType.PONG:
            continue
        else:
            break
        if problem is None:
            continue
        errors += 1
        hub.control(conn, "error", {"code": problem[0], "message": problem[1]})
        if errors >= settings.max_errors:
            conn.close(CLOSE_POLICY)
            break
    return errors


async def _write(
    ws: web.WebSocketResponse,
    hub: LiveHub,
    conn: Connection,
    settings: LiveSettings,
    session_alive: Callable[[], bool],
    heard: list[float],
) -> None:
    """Send queued messages in order. Every `ping_interval` (rounded up to `next_ping`'s grid, so
    that the sockets are pinged together) the socket gets a protocol ping (browsers
    answer those by themselves, even in throttled background tabs) and, when quiet, a `ping`
    message; a peer silent for `heartbeat` seconds is closed (1001), and so is a socket whose
    session has ended (4401) even if nobody logged out."""
    loop = asyncio.get_running_loop()
    pinged = loop.time()
    # one timer per ping interval wakes the writer when the socket stayed quiet until then (a
    # timeout around every wait would be made and torn down for each message sent)
    timer: asyncio.TimerHandle | None = None
    rang = [False]

    def ring() -> None:
        rang[0] = True
        conn.wake.set()

    try:
        while True:
            while conn.pending:
                await ws.send_str(conn.pending.popleft())
            if not conn.closing and not session_alive():
                conn.close(CLOSE_LOGGED_OUT)
            now = loop.time()
            if not conn.closing and now - heard[0] > settings.heartbeat:
                conn.close(CLOSE_GONE)
            if conn.closing:
                break
            if now >= next_ping(pinged, settings.ping_interval):
                pinged = now
                await ws.ping()
            deadline = next_ping(pinged, settings.ping_interval)
            if timer is None or timer.when() != deadline:
                if timer is not None:
                    timer.cancel()
                timer = loop.call_at(deadline, ring)
            conn.wake.clear()
            await conn.wake.wait()
            if rang[0]:
                rang[0], timer = False, None
                if not conn.pending:
                    hub.control(conn, "ping", {"t": hub.clock()})
    except (ConnectionError, RuntimeError) as err:
        log.debug("live connection lost while writing: %s", err)
    finally:
        if timer is not None:
            timer.cancel()
    with contextlib.suppress(Exception):
        await ws.close(code=conn.close_code)
