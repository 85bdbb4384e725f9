"""Builds the aiohttp application: static agent UI, REST API, live websocket, and the middleware
that authenticates every /api/ request, checks the CSRF header and sets security headers.

The composition root passes everything in through `WebDeps`; nothing here reads configuration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from callserver.acd.control import CallControl, SpySession
from callserver.acd.metrics import MetricsBook, live_book
from callserver.acd.service import AcdService
from callserver.campaigns.service import CampaignService
from callserver.config import Settings
from callserver.facts.bus import FactBus
from callserver.inbound.matches import CallerMatches
from callserver.queuelog.export import QueueLogExport, mapper_factory
from callserver.reports.service import Reports
from callserver.store.campaigns import CampaignStore
from callserver.store.store import Store
from callserver.voicemail.model import voicemail_id_of
from callserver.voicemail.service import VoicemailService
from callserver.web.agent_times import AgentTimes
from callserver.web.agentphone import AgentPhoneApi
from callserver.web.api import COOKIE, PRINCIPAL, TOKEN, Api, json_error
from callserver.web.auth import Authenticator, WebUser
from callserver.web.call_history import CallHistoryApi
from callserver.web.campaigns import CampaignApi
from callserver.web.control import ControlApi
from callserver.web.customer_routes import CustomersApi
from callserver.web.customers import CustomerWriter
from callserver.web.directory import DirectoryApi
from callserver.web.health import HealthApi, LoopLag
from callserver.web.hub import LiveHub
from callserver.web.live import LiveSettings, serve_live
from callserver.web.monitor import MonitorApi, SupervisorPhones
from callserver.web.openapi import openapi_document
from callserver.web.params import validate_parameters
from callserver.web.pops import OriginOf, Pops
from callserver.web.presence import AgentPresence
from callserver.web.queuelog import QueueLogApi
from callserver.web.reports import ReportsApi
from callserver.web.scripts import ScriptsApi, ScriptsWeb
from callserver.web.selfservice import SelfServiceWeb
from callserver.web.sessions import LoginThrottle, SessionStore
from callserver.web.views import today_start
from callserver.web.voicemail import VoicemailApi
from callserver.wrapup import outcome_book

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
    login_failures: int = 5  # misses per login-and-address (and per address) before waiting...
    login_window: float = 60.0  # ...this long, doubled with every further miss
    service_target: float = 20.0  # seconds: the service-level threshold
    live: LiveSettings = field(default_factory=LiveSettings)
    stream_buffer: int = 256
    cookie_secure: bool | None = None  # None: Secure unless served over plain http on loopback
    control: CallControl | None = None  # call control (hold, transfers...); None: those routes answer 409
    # the live book behind the queue tiles and GET /api/metrics, fed by the bus before the web app
    # subscribes; None: the web app keeps one of its own (see `live_book`)
    metrics: MetricsBook | None = None
    voicemail: VoicemailService | None = None  # None: no /api/voicemails routes
    # waits until the store holds every fact published so far (the FactWriter's flush), so a
    # wrap-up reply means "saved"; None: replies do not wait
    facts_stored: Callable[[], Awaitable[None]] | None = None
    scripts: ScriptsWeb | None = None  # dialogue scripts: panel, export, editor, public pages
    pbx_connected: bool = True  # the PBX link at start; then LiveHub.pbx_link_changed keeps it
    reports: Reports | None = None  # historical reports over the aggregated tables; None: no routes
    campaigns: CampaignService | None = None  # None: no campaign routes
    # customers each caller's number matched on arrival, for the screen-pops (None: pops search)
    caller_matches: CallerMatches | None = None
    queue_log: QueueLogExport | None = None  # None: one made from the settings and the store
    # GET /metrics for Prometheus (it checks its own bearer token); None: no such route
    prometheus: Handler | None = None


@dataclass
class WebParts:
    """The running pieces, kept on the app for shutdown and tests."""

    hub: LiveHub
    sessions: SessionStore
    unsubscribe: Callable[[], None]
    presence: AgentPresence
    logins: LoginThrottle


PARTS = web.AppKey("callserver_web", WebParts)


def build_web_app(deps: WebDeps) -> web.Application:
    agents = {a.login: (a.id, a.name) for a in deps.settings.agents}
    auth = Authenticator(deps.users, agents, deps.store)
    web_config = deps.settings.web
    sessions = SessionStore(deps.clock, deps.session_ttl, web_config.session_lifetime)
    logins = LoginThrottle(
        deps.clock,
        failures=deps.login_failures,
        window=deps.login_window,
        max_checks=web_config.login_checks,
    )
    metrics = deps.metrics
    unsubscribers: list[Callable[[], None]] = []
    if metrics is None:
        metrics = live_book([q.name for q in deps.settings.queues], service_time=deps.service_target)
        unsubscribers.append(deps.bus.subscribe(metrics.apply))  # before the hub: tiles read it
    times = AgentTimes(deps.clock)
    unsubscribers.append(deps.bus.subscribe(times.on_fact))  # before the hub: snapshots read it
    thresholds = {q.name: q.thresholds for q in deps.settings.queues}
    phones = SupervisorPhones({u.login: u.phone for u in deps.settings.web_users if u.phone})
    pops = Pops(
        deps.service,
        deps.store,
        deps.clock,
        origin_of=_voicemail_origin(deps.voicemail) if deps.voicemail is not None else None,
        matches=deps.caller_matches,
    )
    hub = LiveHub(
        deps.service,
        pops,
        metrics,
        deps.clock,
        buffer_size=deps.stream_buffer,
        times=times,
        thresholds=thresholds,
        pbx_connected=deps.pbx_connected,
    )
    if deps.control is not None:
        deps.control.spy_listeners.append(hub.spy_changed)
        unsubscribers.append(lambda: _drop(deps.control, hub.spy_changed))
    presence = AgentPresence(
        deps.service,
        sessions,
        away_after=deps.settings.web.away_pause_after,
        clock=deps.clock,
        end_session=hub.drop_session,
    )
    hub.on_presence = lambda agent_id, on: presence.attached(agent_id) if on else presence.detached(agent_id)
    api = Api(
        service=deps.service,
        auth=auth,
        sessions=sessions,
        logins=logins,
        hub=hub,
        pops=pops,
        metrics=metrics,
        writer=CustomerWriter(deps.store, region=deps.settings.customers.default_region),
        pause_reasons=deps.pause_reasons,
        cookie_secure=deps.cookie_secure,
        times=times,
        thresholds=thresholds,
        phone_of=phones.get,
    )
    document = openapi_document(
        voicemail=deps.voicemail is not None,
        scripts=deps.scripts is not None,
        reports=deps.reports is not None,
        campaigns=deps.campaigns is not None,
    )

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
        token = request[TOKEN]
        return await serve_live(
            request, hub, request[PRINCIPAL], token, deps.live, lambda: sessions.alive(token)
        )

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document)

    ui = deps.ui_dir.resolve()

    async def index(_request: web.Request) -> web.StreamResponse:
        page = ui / "index.html"
        if not page.is_file():
            return web.Response(status=404, text="agent UI not installed")
        return web.FileResponse(page)

    app = web.Application(middlewares=[guard, validate_parameters], client_max_size=64 * 1024)
    app.add_routes(api.routes())
    app.add_routes(
        CustomersApi(
            deps.store, region=deps.settings.customers.default_region, agent_name=pops.agent_name
        ).routes()
    )
    app.add_routes(MonitorApi(deps.control, phones).routes())
    app.add_routes(
        CallHistoryApi(
            deps.store,
            region=deps.settings.customers.default_region,
            zone=ZoneInfo(deps.settings.reports.timezone),
            agent_name=pops.agent_name,
            voicemail_audio=deps.voicemail is not None,
        ).routes()
    )
    app.add_routes(
        ControlApi(
            deps.control,
            deps.service,
            deps.store,
            outcome_book(deps.settings),
            deps.clock,
            region=deps.settings.dialplan.region,
            stored=deps.facts_stored,
            wrapup_guard=deps.scripts.desk.wrapup_refusal if deps.scripts is not None else None,
        ).routes()
    )
    app.add_routes(DirectoryApi(deps.service, deps.store).routes())
    app.add_routes(
        AgentPhoneApi(deps.service, remote_dial=deps.settings.dialplan.remote_dial, metrics=metrics).routes()
    )
    app.add_routes([web.get("/api/live", live), web.get("/api/openapi.json", openapi), web.get("/", index)])
    queue_log = deps.queue_log
    if queue_log is None:
        agent_queues = {a.id: a.queues for a in deps.service.agents()}
        queue_log = QueueLogExport(
            deps.store, mapper_factory(deps.settings, agent_queues), lookback=deps.settings.queue_log.lookback
        )
    app.add_routes(QueueLogApi(queue_log, deps.facts_stored).routes())
    if deps.prometheus is not None:
        app.add_routes([web.get("/metrics", deps.prometheus)])
    lag = LoopLag()
    app.add_routes(HealthApi(lag, lambda: bool(hub.pbx_link["up"]), deps.clock).routes())
    if deps.voicemail is not None:
        app.add_routes(
            VoicemailApi(
                deps.voicemail,
                outcomes=deps.settings.web.outcome_codes,
                audio_cache=deps.settings.data_dir / "voicemail-wav",
                clock=deps.clock,
            ).routes()
        )
    if deps.reports is not None:
        app.add_routes(ReportsApi(deps.reports).routes())
    if deps.scripts is not None:
        app.add_routes(ScriptsApi(deps.scripts).routes())
        public = SelfServiceWeb(deps.scripts.selfservice, ui, cookie_secure=deps.cookie_secure)
        app.add_routes(public.routes())
    if deps.campaigns is not None:
        app.add_routes(CampaignApi(deps.campaigns, CampaignStore(deps.store)).routes())
    if ui.is_dir():
        app.router.add_static("/ui/", ui, follow_symlinks=False)
    unsubscribers.append(deps.bus.subscribe(hub.on_fact))

    def unsubscribe() -> None:
        for remove in unsubscribers:
            remove()

    app[PARTS] = WebParts(hub, sessions, unsubscribe, presence, logins)

    own_book = deps.metrics is None

    async def today_from_the_database(_app: web.Application) -> None:
        """Today's figures (queue tiles, agents' calls) go on from the database after a restart."""
        since = datetime.fromtimestamp(today_start(deps.clock()), UTC)
        if own_book:
            for fact in await deps.store.facts_since(since):
                metrics.apply(fact)
        deps.service.seed_calls_today(await deps.store.answers_by_agent(since))

    async def watch_lag(_app: web.Application) -> None:
        lag.start()

    async def unwatch_lag(_app: web.Application) -> None:
        lag.stop()

    app.on_startup.append(today_from_the_database)
    app.on_startup.append(watch_lag)
    app.on_shutdown.append(unwatch_lag)
    app.on_shutdown.append(_shutdown)
    return app


def _voicemail_origin(voicemail: VoicemailService) -> OriginOf:
    """For a voicemail task's pop: the call in which the message was left."""

    async def origin(call_id: str) -> str | None:
        voicemail_id = voicemail_id_of(call_id)
        if voicemail_id is None:
            return None
        found = await voicemail.get(voicemail_id)
        return found.call_id if found is not None else None

    return origin


def _drop(control: CallControl | None, listener: Callable[[SpySession], None]) -> None:
    if control is not None and listener in control.spy_listeners:
        control.spy_listeners.remove(listener)


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
    parts.presence.close()
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
