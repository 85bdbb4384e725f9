"""Builds the aiohttp application: static agent UI, REST API, live websocket, and the middleware
that authenticates every /api/ request, checks the CSRF header and sets security headers.

The composition root passes everything in through `WebDeps`; nothing here reads configuration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from callserver.acd.control import CallControl
from callserver.acd.metrics import MetricsBook
from callserver.acd.service import AcdService
from callserver.config import Settings
from callserver.facts.bus import FactBus
from callserver.inbound.matches import CallerMatches
from callserver.store.store import Store
from callserver.voicemail.service import VoicemailService
from callserver.web.agentphone import AgentPhoneApi
from callserver.web.api import COOKIE, PRINCIPAL, TOKEN, Api, json_error
from callserver.web.auth import Authenticator, WebUser
from callserver.web.control import ControlApi
from callserver.web.customers import CustomerWriter
from callserver.web.hub import LiveHub
from callserver.web.live import LiveSettings, serve_live
from callserver.web.openapi import openapi_document
from callserver.web.pops import Pops
from callserver.web.sessions import RateLimiter, SessionStore
from callserver.web.stats import QueueCounters
from callserver.web.voicemail import VoicemailApi

log = logging.getLogger("callserver.web")

DEFAULT_PAUSE_REASONS = ("break", "lunch", "training", "meeting")
CSRF_HEADER = "X-Callserver"
PUBLIC = frozenset({"/api/login"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class WebDeps:
    settings: Settings
    store: Store
    service: AcdService
    bus: FactBus
    clock: Callable[[], float] = time.time
    ui_dir: Path = Path("agent_ui")
    users: Sequence[WebUser] = ()
    pause_reasons: Sequence[str] = DEFAULT_PAUSE_REASONS
    session_ttl: float = 8 * 3600.0
    login_failures: int = 5  # per login and per client address...
    login_window: float = 60.0  # ...within this many seconds
    service_target: float = 20.0  # seconds: the service-level threshold
    live: LiveSettings = field(default_factory=LiveSettings)
    stream_buffer: int = 256
    cookie_secure: bool | None = None  # None: Secure unless served over plain http on loopback
    control: CallControl | None = None  # call control (hold, transfers...); None: those routes answer 409
    metrics: MetricsBook | None = None  # live queue figures for GET /api/metrics
    voicemail: VoicemailService | None = None  # None: no /api/voicemails routes
    # waits until the store holds every fact published so far (the FactWriter's flush), so a
    # wrap-up reply means "saved"; None: replies do not wait
    facts_stored: Callable[[], Awaitable[None]] | None = None
    # customers each caller's number matched on arrival, for the screen-pops (None: pops search)
    caller_matches: CallerMatches | None = None


@dataclass
class WebParts:
    """The running pieces, kept on the app for shutdown and tests."""

    hub: LiveHub
    sessions: SessionStore
    unsubscribe: Callable[[], None]


PARTS = web.AppKey("callserver_web", WebParts)


def build_web_app(deps: WebDeps) -> web.Application:
    agents = {a.login: (a.id, a.name) for a in deps.settings.agents}
    auth = Authenticator(deps.users, agents, deps.store)
    sessions = SessionStore(deps.clock, deps.session_ttl)
    counters = QueueCounters(deps.clock, deps.service_target)
    pops = Pops(deps.service, deps.store, deps.clock, matches=deps.caller_matches)
    hub = LiveHub(deps.service, pops, counters, deps.clock, buffer_size=deps.stream_buffer)
    api = Api(
        service=deps.service,
        auth=auth,
        sessions=sessions,
        limiter=RateLimiter(deps.clock, deps.login_failures, deps.login_window),
        hub=hub,
        pops=pops,
        counters=counters,
        writer=CustomerWriter(deps.store),
        pause_reasons=deps.pause_reasons,
        cookie_secure=deps.cookie_secure,
    )
    document = openapi_document(voicemail=deps.voicemail is not None)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/") or request.path == "/api":
            if request.path not in PUBLIC:
                session = sessions.get(_token(request))
                if session is None:
                    return json_error(401, "log in first")
                request[PRINCIPAL], request[TOKEN] = session.principal, session.token
            if request.method in UNSAFE and request.headers.get(CSRF_HEADER) != "1":
                return json_error(403, f"state-changing requests need the header {CSRF_HEADER}: 1")
        response = await handler(request)
        _harden(request, response)
        return response

    async def live(request: web.Request) -> web.StreamResponse:
        return await serve_live(request, hub, request[PRINCIPAL], request[TOKEN], deps.live)

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document)

    ui = deps.ui_dir.resolve()

    async def index(_request: web.Request) -> web.StreamResponse:
        page = ui / "index.html"
        if not page.is_file():
            return web.Response(status=404, text="agent UI not installed")
        return web.FileResponse(page)

    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app.add_routes(api.routes())
    app.add_routes(
        ControlApi(
            deps.control,
            deps.store,
            deps.settings.web.outcome_codes,
            deps.clock,
            publish=deps.bus.publish,
            stored=deps.facts_stored,
        ).routes()
    )
    app.add_routes(
        AgentPhoneApi(
            deps.service, remote_dial=deps.settings.dialplan.remote_dial, metrics=deps.metrics
        ).routes()
    )
    app.add_routes([web.get("/api/live", live), web.get("/api/openapi.json", openapi), web.get("/", index)])
    if deps.voicemail is not None:
        app.add_routes(
            VoicemailApi(
                deps.voicemail,
                outcomes=deps.settings.web.outcome_codes,
                audio_cache=deps.settings.data_dir / "voicemail-wav",
                clock=deps.clock,
            ).routes()
        )
    if ui.is_dir():
        app.router.add_static("/ui/", ui, follow_symlinks=False)
    unsubscribe = deps.bus.subscribe(hub.on_fact)
    app[PARTS] = WebParts(hub, sessions, unsubscribe)
    app.on_shutdown.append(_shutdown)
    return app


def _token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip()
    return request.cookies.get(COOKIE, "")


def _harden(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:
        return  # websockets and streamed files have sent their headers already
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")


async def _shutdown(app: web.Application) -> None:
    parts = app[PARTS]
    parts.unsubscribe()
    await parts.hub.close()


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Listen on host:port; returns the runner to pass to `stop_web` (port 0 picks a free one)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("web front on http://%s:%s/", host, bound_port(runner) or port)
    return runner


def bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None


async def stop_web(runner: web.AppRunner) -> None:
    await runner.cleanup()
