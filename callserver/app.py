"""The composition root: builds every component from the settings and wires them together.

Nothing else constructs components or reads configuration; each part receives what it needs.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from .acd.agentleg import AgentLegScript
from .acd.control import CallControl
from .acd.dispatch import DecisionWatch
from .acd.engine import AcdEngine
from .acd.metrics import live_book
from .acd.model import AgentStatus
from .acd.recovery import OpenCall
from .acd.service import AcdService
from .acd.specs import agent_spec, queue_spec
from .agi.server import FastAgiServer, ScriptRouter
from .agi.session import AgiSession
from .ami.adapter import AmiLink
from .callbacks.service import CallbackService
from .campaigns.service import CampaignService
from .checks import check_settings
from .collector import SurvivorFreezer
from .config import PortInUse, Settings
from .facts.bus import FactBus
from .facts.describe import fact_logger
from .facts.model import IvrLeft, IvrNodeEntered
from .inbound.matches import CallerMatches
from .inbound.script import InboundScript, IvrDeps, fact_linker
from .ivr.lookup import StaticFigures, StoreLookup
from .ivr.progress import IvrPresence, IvrProgress
from .ivr.prompt_build import prompt_synth
from .ivr.prompts import SynthPrompts
from .ivr.runner import FilePrompts
from .lines.service import AgentLines
from .logs import quiet_data_loggers
from .mqtt.publisher import MqttPublisher
from .pbx.channels import ChannelNames
from .pbx.events import PbxConnected, PbxDisconnected
from .pbx.hub import PbxEventHub, Subscriptions
from .prometheus.http import metrics_handler, start_listener
from .prometheus.metrics import CallServerMetrics, LiveState
from .prometheus.probe import LoopLagProbe
from .queuelog.export import QueueLogExport, mapper_factory
from .queuelog.writer import QueueLogFile, QueueLogWriter
from .reports.service import Reports, fold_of
from .reports.writer import ReportWriter
from .scripts.adapter import ScriptAdapter
from .scripts.catalog import (
    ScriptCatalog,
    checked_catalog,
    customer_field_types,
    script_context,
    writable_fields,
)
from .scripts.customers import ScriptCustomers
from .scripts.desk import ScriptDesk
from .scripts.editor import ScriptFiles
from .scripts.selfservice import SelfService
from .sounds.folder import SoundFolder, sound_folder
from .sounds.names import CAMPAIGN_INFO, CAMPAIGN_MACHINE
from .speech import PromptSynth
from .store.callbacks import CallbackStore
from .store.campaigns import CampaignStore
from .store.records import OpenCallRecord
from .store.reports import ReportStore
from .store.store import Store
from .store.writer import FactWriter
from .voicemail import VoicemailService, VoicemailStore, VoicemailWaiting
from .voicemail.agi import VoicemailScript
from .voicemail.failures import RecordingFailures
from .voicemail.recordings import prepare_recordings_dir, recordings_dir
from .web import Role, WebDeps, WebUser, build_web_app, hash_password, start_web, stop_web
from .web.app import PARTS, bound_port
from .web.auth import plain_text_logins
from .web.hub import LiveHub
from .web.scripts import ScriptsWeb
from .web.sessions import RateLimiter
from .web.views import today_start

UI_DIR = Path(__file__).resolve().parent.parent / "agent_ui"

log = logging.getLogger("callserver.app")


def open_call(row: OpenCallRecord) -> OpenCall:
    """A call the database shows in progress, as recovery reads it."""
    return OpenCall(
        id=row.id,
        queue=row.queue,
        channel=row.channel,
        caller_num=row.caller_num,
        caller_name=row.caller_name,
        dnis=row.dnis,
        arrived_at=row.arrived_at.timestamp(),
        answered_at=row.answered_at.timestamp() if row.answered_at is not None else None,
        agent_id=row.agent_id,
        last_seen=row.last_seen.timestamp(),
        open_offers=row.open_offers,
    )


def build_engine(settings: Settings, decision_watch: DecisionWatch | None = None) -> AcdEngine:
    return AcdEngine(
        [queue_spec(q, settings.acd.wrapup) for q in settings.queues],
        [agent_spec(a, settings.dialplan.remote_dial) for a in settings.agents],
        no_answer_resume=settings.acd.no_answer_resume,
        seed=settings.acd.seed,
        accept_timeout=settings.acd.accept_timeout,
        transfer_timeout=settings.acd.transfer_timeout,
        transfer_return=settings.acd.transfer_return,
        transfer_self_delay=settings.acd.transfer_self_delay,
        decision_watch=decision_watch,
    )


def agent_queues(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The queues each agent serves, as the ACD works them out from skills and queue lists."""
    return {a.id: tuple(sorted(a.queues)) for a in build_engine(settings).agents.values()}


@dataclass
class CallServer:
    """Every running component of one server process."""

    settings: Settings
    store: Store
    writer: FactWriter
    bus: FactBus
    service: AcdService
    ami: AmiLink
    agi: FastAgiServer
    web_runner: web.AppRunner
    mqtt: MqttPublisher | None = None
    voicemail: VoicemailService | None = None
    vm_store: VoicemailStore | None = None
    synth: PromptSynth | None = None
    ivr: IvrDeps | None = None
    # callers who could not leave a message (RECORD FILE failed), for logs and metrics
    recording_failures: RecordingFailures | None = None
    sounds: SoundFolder | None = None
    scripts: ScriptsWeb | None = None
    callbacks: CallbackService | None = None
    lines: AgentLines | None = None
    campaigns: CampaignService | None = None
    queue_log: QueueLogWriter | None = None
    prometheus: CallServerMetrics | None = None
    metrics_runner: web.AppRunner | None = None  # /metrics on an address of its own
    lag_probe: LoopLagProbe | None = None
    reports: ReportWriter | None = None  # the aggregated report tables, fed from the bus

    @property
    def web_port(self) -> int | None:
        return bound_port(self.web_runner)

    @property
    def metrics_port(self) -> int | None:
        """Where /metrics listens when it has an address of its own."""
        return bound_port(self.metrics_runner) if self.metrics_runner is not None else None

    async def stop(self) -> None:
        if self.metrics_runner is not None:
            await stop_web(self.metrics_runner)
        if self.lag_probe is not None:
            self.lag_probe.stop()
        await stop_web(self.web_runner)
        if self.scripts is not None:
            # runs still going are recorded as abandoned: their facts reach the writer below
            await self.scripts.selfservice.stop()
            await self.scripts.desk.stop()
        if self.callbacks is not None:
            await self.callbacks.stop()
        if self.campaigns is not None:
            await self.campaigns.stop()
        if self.lines is not None:
            await self.lines.close_all()
        await self.agi.stop()
        await self.ami.stop()
        await self.service.stop()
        if self.voicemail is not None:
            await self.voicemail.stop()
        if self.synth is not None:
            await self.synth.close()
        if self.mqtt is not None:
            await self.mqtt.stop()
        if self.reports is not None:
            await self.reports.stop()
        await self.writer.stop()
        if self.queue_log is not None:
            self.queue_log.file.close()
        await self.store.close()


def build_scripts(
    settings: Settings,
    catalog: ScriptCatalog,
    store: Store,
    bus: FactBus,
    callbacks: CallbackService,
    control: CallControl,
) -> ScriptsWeb:
    """Dialogue scripts: the agents' desk, the public pages and the editor, sharing one adapter."""
    config = settings.scripts
    field_types = customer_field_types(settings)
    adapter = ScriptAdapter(
        publish=bus.publish,
        clock=time.time,
        field_types=field_types,
        writable=writable_fields(settings),
        timezone=config.timezone,
        callback_time=clock_time.fromisoformat(config.callback_time),
        task_queue=config.task_queue,
        logins={a.id: a.login for a in settings.agents},
        callbacks=callbacks,
        transfers=control,
    )
    customers = ScriptCustomers(store, field_types)
    desk = ScriptDesk(
        catalog, customers, adapter, publish=bus.publish, clock=time.time, timezone=config.timezone
    )
    factor = settings.customers.fields.get(config.web.factor or "")
    selfservice = SelfService(
        catalog,
        customers,
        adapter,
        config.web,
        publish=bus.publish,
        clock=time.time,
        timezone=config.timezone,
        limiters=lambda limit, window: RateLimiter(time.time, limit, window),
        factor_label=factor.label if factor is not None else None,
    )
    files = ScriptFiles(catalog, script_context(settings), field_types)
    return ScriptsWeb(desk, selfservice, callbacks, files, store, settings.web.outcome_codes)


def web_users(settings: Settings) -> list[WebUser]:
    """Supervisors and admins from the config; a plain demo password is hashed here, never kept.

    Warns about every plain-text password, agents' included (the store hashes those)."""
    plain = set(plain_text_logins(settings))
    for login in sorted(plain):
        log.warning("%s has a plain-text password in the config: use `callserver passwd`", login)
    return [
        WebUser(u.login, u.name, Role(u.role), hash_password(u.password) if u.login in plain else u.password)
        for u in settings.web_users
    ]


async def start_server(
    settings: Settings,
    *,
    ivr_clock: Callable[[], float] = time.time,
    campaign_clock: Callable[[], float] = time.time,
    on_ivr_progress: Callable[[IvrProgress], None] | None = None,
    on_voicemail_waiting: Callable[[VoicemailWaiting], None] | None = None,
) -> CallServer:
    """Open the database, start FastAGI and the AMI link; returns once all listen.

    The settings are checked first (requirements, IVR flows): ConfigError before anything starts.
    `ivr_clock` is the time business hours are judged by, `campaign_clock` the time campaigns
    judge calling windows and callbacks by; the `on_*` callbacks see IVR progress and
    message-waiting changes besides the browsers and MQTT (tools, tests).
    """
    checked = check_settings(settings)
    catalog = checked_catalog(settings)  # before anything is opened: a broken script stops here
    quiet_data_loggers()  # SQL parameters and rows (hashes, customers) stay out of -v logs
    region = settings.customers.default_region
    store = await Store.open(settings.database_url(), region=region)
    await store.sync_config(settings)
    if settings.customers.seed_file is not None:
        # the seed only adds customers nobody knows yet: edits made since are never overwritten
        extra = {name: field.type for name, field in settings.customers.fields.items()}
        report = await store.load_customers(
            settings.customers.seed_file, update=False, region=region, fields=extra
        )
        for problem in report.errors:
            log.warning("customers: %s", problem)
        log.info(
            "customers: %d added from %s, %d already known and left as they are",
            report.created,
            settings.customers.seed_file,
            report.skipped,
        )
    writer = FactWriter(store)
    writer.start()

    bus = FactBus()
    pbx_events = PbxEventHub()
    ami = AmiLink(settings.ami, pbx_events.publish)
    channels = ChannelNames()
    prometheus = (
        CallServerMetrics([q.name for q in settings.queues]) if settings.prometheus is not None else None
    )
    watch = DecisionWatch(time.perf_counter, prometheus.decision) if prometheus is not None else None
    service = AcdService(
        build_engine(settings, watch), ami, channels=channels, on_fact=bus.publish, clock=time.time
    )
    make_mapper = mapper_factory(settings, {a.id: a.queues for a in service.agents()})
    queue_log = None
    if settings.queue_log.enabled:
        queue_log_file = QueueLogFile(settings.queue_log_path(), fsync=settings.queue_log.fsync == "always")
        queue_log = QueueLogWriter(make_mapper(), queue_log_file)
    queues_of_agent = {a.id: list(a.queues) for a in service.agents()}
    metrics = live_book(
        [q.name for q in settings.queues],
        agent_queues=queues_of_agent,
        service_time=settings.web.service_target,
    )
    # today's figures go on from what the database holds: a restart does not zero the tiles
    today = await store.facts_since(datetime.fromtimestamp(today_start(time.time()), UTC))
    for fact in today:
        metrics.apply(fact)
    bus.subscribe(fact_logger(log))
    bus.subscribe(writer.submit)
    bus.subscribe(metrics.apply)
    if queue_log is not None:
        queue_log.prime(today)  # who waits where and who is paused, as the file left them
        queue_log.file.open_at_start()
        bus.subscribe(queue_log.on_fact)
    if prometheus is not None:
        bus.subscribe(prometheus.on_fact)
        pbx_events.subscribe(prometheus.pbx_subscriptions())
        prometheus.watch(
            LiveState(
                queues=service.queues,
                queue_load=service.queue_load,
                agents=service.agents,
                ami_connected=lambda: ami.connected,
                writer_backlog=lambda: writer.pending,
            )
        )
    # the report tables grow with each fact, by the same counting as the live book above
    report_store = ReportStore(store.engine, ZoneInfo(settings.reports.timezone))
    report_writer = ReportWriter(report_store, fold_of(settings, queues_of_agent), time.time)
    report_writer.start()
    bus.subscribe(report_writer.submit)

    control = CallControl(service, ami, trunk_dial=settings.dialplan.remote_dial)
    run = _id_prefix(time.time())
    lines = AgentLines(
        ami, channels, service, preferences={a.id: a.persistent_line for a in settings.agents}, id_prefix=run
    )
    sounds = sound_folder(settings)
    web_hub: list[LiveHub] = []  # the live channel, once the web app exists

    def campaign_message(kind: str, data: dict[str, object], agent_id: str | None) -> None:
        if web_hub:
            web_hub[0].send(kind, data, agent_id, supervisors=agent_id is None)

    campaigns = CampaignService(
        acd=service,
        lines=lines,
        pbx=ami,
        channels=channels,
        publish=bus.publish,
        dial_string=settings.dialplan.remote_dial,
        agent_skills={a.id: dict(a.skills) for a in settings.agents},
        id_prefix=run,
        default_info=sounds.name(CAMPAIGN_INFO, settings.sounds.language),
        default_machine=sounds.name(CAMPAIGN_MACHINE, settings.sounds.language),
        clock=campaign_clock,
        on_message=campaign_message,
    )
    bus.subscribe(lines.on_fact)
    bus.subscribe(campaigns.on_fact)
    # order matters only in that names are known before anyone acts on an event
    pbx_events.subscribe(channels.subscriptions())
    pbx_events.subscribe(control.subscriptions())
    pbx_events.subscribe(service.subscriptions())
    # the desktops' "PBX link down" banner
    pbx_events.subscribe(
        Subscriptions("web-pbx-link")
        .on(PbxConnected, lambda _e: web_app[PARTS].hub.pbx_link_changed(True, time.time()))
        .on(PbxDisconnected, lambda e: web_app[PARTS].hub.pbx_link_changed(False, time.time(), e.reason))
    )
    pbx_events.subscribe(lines.subscriptions())
    pbx_events.subscribe(campaigns.dialler.subscriptions())
    campaigns.restore(await CampaignStore(store).load(campaign_clock()), settings.campaigns.seed)
    await campaigns.start()
    await service.start()
    # calls a stop left "in progress": the first resynchronisation adopts or closes each one
    service.recover([open_call(row) for row in await store.open_calls()])
    for agent in settings.agents:
        if agent.start_available:
            service.set_status(agent.id, AgentStatus.AVAILABLE)
    # offers wait for the first AMI login and resynchronisation
    service.hold_offers()
    mqtt = None
    if settings.mqtt is not None:
        mqtt = MqttPublisher(settings.mqtt, bus)
        await mqtt.start()

    def on_waiting(waiting: VoicemailWaiting) -> None:
        log.info("voicemail box %s: %d waiting", waiting.box, waiting.new)
        web_app[PARTS].hub.voicemail_waiting(waiting.box, waiting.new, waiting.at)
        if mqtt is not None:
            mqtt.voicemail_waiting(waiting.box, waiting.new, waiting.at)
        if on_voicemail_waiting is not None:
            on_voicemail_waiting(waiting)

    def on_progress(p: IvrProgress) -> None:
        # the fact feeds the event log, the reports and MQTT; the hub's message is the live view
        if p.ended:
            bus.publish(IvrLeft(p.call_id, p.at, p.flow, p.node, p.outcome or "failed"))
            scripts.desk.ivr_left(p.call_id, p.flow, p.node, p.outcome)
        else:
            bus.publish(IvrNodeEntered(p.call_id, p.at, p.flow, p.node))
        web_app[PARTS].hub.ivr_progress(p.call_id, p.flow, p.node, p.at, p.ended, p.outcome, p.caller_num)
        if on_ivr_progress is not None:
            on_ivr_progress(p)

    caller_matches = CallerMatches()
    vm_store = VoicemailStore(store)
    voicemail = VoicemailService(
        vm_store,
        service,
        ami,
        clock=time.time,
        agent_endpoint=lambda a: view.endpoint if (view := service.agent(a)) is not None else None,
        on_waiting=on_waiting,
    )
    bus.subscribe(voicemail.on_fact)
    callbacks = CallbackService(
        CallbackStore(store),
        service,
        ami,
        clock=time.time,
        agent_endpoint=lambda a: view.endpoint if (view := service.agent(a)) is not None else None,
        holder=lambda task: call.agent_id if (call := service.call(task)) is not None else None,
    )
    bus.subscribe(callbacks.on_fact)
    scripts = build_scripts(settings, catalog, store, bus, callbacks, control)
    bus.subscribe(scripts.desk.on_fact)
    synth = prompt_synth(settings)
    recordings_path = recordings_dir(settings)
    unusable = prepare_recordings_dir(recordings_path)
    if unusable is not None:
        log.error("voicemail: %s; callers cannot leave messages until it is fixed", unusable)
    else:
        log.info("voicemail recordings in %s (Asterisk must be able to write there)", recordings_path)
    recordings = str(recordings_path)
    failures = RecordingFailures()
    ivr = None
    if checked.ivr is not None:
        seed = settings.customers.seed_file
        ivr = IvrDeps(
            config=checked.ivr,
            lookup=StoreLookup(store, StaticFigures.from_seed_csv(seed) if seed else None),
            prompts=FilePrompts(SynthPrompts(synth), sounds=sounds),
            presence=IvrPresence(time.time, on_progress),
            link_customer=fact_linker(bus.publish, time.time),
            clock=ivr_clock,
            voicemail=voicemail,
            recordings_dir=recordings,
            recording_failures=failures,
        )
    web_app = build_web_app(
        WebDeps(
            settings,
            store,
            service,
            bus,
            clock=time.time,
            ui_dir=UI_DIR,
            users=web_users(settings),
            pause_reasons=tuple(settings.web.pause_reasons),
            service_target=settings.web.service_target,
            cookie_secure=settings.web.cookie_secure,
            control=control,
            metrics=metrics,
            voicemail=voicemail,
            facts_stored=writer.flush,
            scripts=scripts,
            pbx_connected=False,
            reports=Reports(report_store, settings),
            campaigns=campaigns,
            caller_matches=caller_matches,
            queue_log=QueueLogExport(store, make_mapper, lookback=settings.queue_log.lookback),
            prometheus=_metrics_on_web(settings, prometheus),
        )
    )
    web_hub.append(web_app[PARTS].hub)
    try:
        web_runner = await start_web(web_app, settings.web.host, settings.web.port)
    except OSError as err:
        await _undo(store, writer, service, mqtt, voicemail, synth, campaigns, lines, report_writer)
        if err.errno == errno.EADDRINUSE:
            raise PortInUse("web.port", settings.web.host, settings.web.port) from None
        raise
    agi_scripts: dict[str, Callable[[AgiSession], Awaitable[None]]] = {
        "inbound": InboundScript(
            settings,
            service,
            ivr,
            find_customers=store.find_customers_by_number,
            matches=caller_matches,
            room=writer.room,
        ),
        "agent": AgentLegScript(service, accept_timeout=settings.acd.accept_timeout, sounds=sounds),
        "voicemail": VoicemailScript(
            voicemail,
            recordings_dir=recordings,
            sounds=sounds,
            language=settings.sounds.language,
            failures=failures,
        ),
    }
    agi = FastAgiServer.from_config(settings.agi, ScriptRouter(agi_scripts))
    try:
        await agi.start()
    except OSError as err:
        await stop_web(web_runner)
        await _undo(store, writer, service, mqtt, voicemail, synth, campaigns, lines, report_writer)
        if err.errno == errno.EADDRINUSE:
            raise PortInUse("agi.port", settings.agi.host, settings.agi.port) from None
        raise
    metrics_runner = None
    if prometheus is not None and settings.prometheus is not None and settings.prometheus.listen is not None:
        listen = settings.prometheus.listen
        try:
            metrics_runner = await start_listener(
                metrics_handler(prometheus.registry, settings.prometheus.token), listen.host, listen.port
            )
        except OSError as err:
            await agi.stop()
            await stop_web(web_runner)
            await _undo(store, writer, service, mqtt, voicemail, synth, campaigns, lines, report_writer)
            if err.errno == errno.EADDRINUSE:
                raise PortInUse("prometheus.listen.port", listen.host, listen.port) from None
            raise
    lag_probe = None
    if prometheus is not None and settings.prometheus is not None:
        lag_probe = LoopLagProbe(settings.prometheus.loop_lag_every, prometheus.loop_lag)
        lag_probe.start()
    await callbacks.start()
    scripts.selfservice.start_sweeping()
    await ami.start()
    server = CallServer(
        settings,
        store,
        writer,
        bus,
        service,
        ami,
        agi,
        web_runner,
        mqtt,
        voicemail,
        vm_store,
        synth,
        ivr,
        failures,
        sounds,
        scripts,
        callbacks,
        lines,
        campaigns,
        queue_log=queue_log,
        prometheus=prometheus,
        metrics_runner=metrics_runner,
        lag_probe=lag_probe,
        reports=report_writer,
    )
    log.info(
        "callserver up: web on http://%s:%s/  FastAGI on %s:%s, AMI to %s:%s, database %s",
        settings.web.host,
        server.web_port,
        settings.agi.host,
        agi.port,
        settings.ami.host,
        settings.ami.port,
        settings.database_url(),
    )
    return server


def settle_garbage_collector() -> SurvivorFreezer:
    """After start-up: what exists now (modules, configuration, agents, the engine) lives as long as
    the server, so it moves out of the collector's sight, and so do the survivors of each later full
    collection (see `collector.py`): full collections, whose pauses would otherwise grow with the
    heap, scan only what is new. Once per process (`callserver run`)."""
    freezer = SurvivorFreezer()
    freezer.install()
    return freezer


def _metrics_on_web(
    settings: Settings, prometheus: CallServerMetrics | None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]] | None:
    """/metrics on the web port: when Prometheus is configured without an address of its own (the
    configuration then requires a token)."""
    config = settings.prometheus
    if prometheus is None or config is None or config.listen is not None:
        return None
    return metrics_handler(prometheus.registry, config.token)


async def _undo(
    store: Store,
    writer: FactWriter,
    service: AcdService,
    mqtt: MqttPublisher | None,
    voicemail: VoicemailService,
    synth: PromptSynth | None,
    campaigns: CampaignService,
    lines: AgentLines,
    reports: ReportWriter,
) -> None:
    """Stop what a start that failed half way had started, in the order `CallServer.stop` does."""
    await campaigns.stop()
    await lines.close_all()
    await service.stop()
    await voicemail.stop()
    if synth is not None:
        await synth.close()
    if mqtt is not None:
        await mqtt.stop()
    await reports.stop()
    await writer.stop()
    await store.close()


def _id_prefix(started: float) -> str:
    """What makes this run's attempt and line ids unique: its start time in base 36."""
    digits, n = "", int(started)
    while n:
        n, d = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[d] + digits
    return f"{digits or '0'}-"


async def run_server(
    settings: Settings,
    stop: asyncio.Event,
    *,
    with_simulator: bool = False,
    source: str = "the configuration",
    out: Callable[[str], None] | None = None,
) -> None:
    """`callserver run`: serve until `stop` is set, then shut down cleanly.

    Once everything listens, `out` is given the address to open and the demo logins.
    """
    simulator = None
    if with_simulator:
        from .sim.desks import SimulatedDesks
        from .sim.simulator import PbxSimulator

        simulator = PbxSimulator(settings)
        await simulator.start()
    try:
        server = await start_server(settings)
    except BaseException:
        if simulator is not None:
            await simulator.stop()
        raise
    collector = settle_garbage_collector()
    desks = None
    if simulator is not None:
        simulator.start_traffic()
        desks = SimulatedDesks(settings, f"http://{_browsable(settings.web.host)}:{server.web_port}")
        await desks.start()
    text = welcome(settings, server.web_port, simulated=simulator is not None)
    if out is None:
        print(text, flush=True)
    else:
        out(text)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        collector.uninstall()
        if desks is not None:
            await desks.stop()
        if simulator is not None:
            simulator.stop_traffic()
        await server.stop()
        if simulator is not None:
            await simulator.stop()


def _browsable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def welcome(settings: Settings, port: int | None, *, simulated: bool) -> str:
    """What a newcomer needs once the server is up: where to point the browser, who to log in as."""
    lines = [f"callserver is up: open http://{_browsable(settings.web.host)}:{port}/"]
    demo = [(a.login, a.password, "agent") for a in settings.agents if a.password and not _hashed(a.password)]
    demo += [(u.login, u.password, u.role) for u in settings.web_users if not _hashed(u.password)]
    if demo:
        lines.append("  demo logins (plain-text passwords from the configuration):")
        lines += [f"    {login:<12} {password:<16} {role}" for login, password, role in demo]
    if simulated:
        lines.append("  the PBX simulator places calls; simulated agents work the voicemail tasks")
    lines.append("  Ctrl-C stops the server")
    return "\n".join(lines)


def _hashed(password: str) -> bool:
    return password.startswith("$argon2")
