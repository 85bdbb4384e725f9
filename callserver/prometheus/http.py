"""Serving the registry over HTTP: the `/metrics` handler (bearer token checked in constant time) for
the main web app, or a listener of its own on another address."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def metrics_handler(registry: CollectorRegistry, token: str | None) -> Handler:
    """GET /metrics: the text exposition format; 401 without `Authorization: Bearer <token>` when a
    token is set."""
    expected = f"Bearer {token}".encode() if token is not None else None

    async def metrics(request: web.Request) -> web.Response:
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return web.Response(
                    status=401,
                    text="a bearer token is required\n",
                    headers={"WWW-Authenticate": 'Bearer realm="callserver metrics"'},
                )
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


async def start_listener(handler: Handler, host: str, port: int) -> web.AppRunner:
    """A listener serving only GET /metrics (port 0 picks a free one)."""
    app = web.Application()
    app.router.add_get("/metrics", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
