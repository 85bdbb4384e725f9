"""The composition root: builds every component from the settings and wires them together.

Nothing else constructs components or reads configuration; each part receives what it needs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .acd.adapter import AcdService
from .acd.control import CallControl
from .acd.expr import parse
from .acd.handling import AcdEngine
from .acd.metrics import MetricsBook
from .acd.model import AgentSpec, AgentStatus, Destination, QueueSpec, RoutingStep, Strategy
from .agentleg import AgentLegScript
from .agi.server import FastAgiServer, ScriptRouter
from .agi.session import AgiSession
from .ami.adapter import AmiLink
from .ami.protocol import AmiActionError, AmiUnavailable
from .bus import FactBus
from .config import QueueConfig, Settings, TimeoutAction
from .facts_log import describe
from .inbound import InboundScript, IvrDeps, store_linker
from .ivr.lookup import StaticFigures, StoreLookup
from .ivr.progress import IvrPresence, IvrProgress
from .ivr.prompts import SynthPrompts
from .ivr.runner import FilePrompts
from .logs import quiet_data_loggers
from .mqtt.publisher import MqttPublisher
from .pbx.events import PbxConnected, PbxDisconnected, PbxEvent
from .speech import PromptSynth
from .speech.cli import prompt_cache_dir
from .store.store import Store
from .store.writer import FactWriter
from .voicemail import VoicemailService, VoicemailStore, VoicemailWaiting
from .voicemail.agi import VoicemailScript
from .web import Role, WebDeps, WebUser, build_web_app, hash_password, start_web, stop_web
from .web.app import PARTS, bound_port
from .web.auth import plain_text_logins

UI_DIR = Path(__file__).resolve().parent.parent / "agent_ui"

log = logging.getLogger("callserver.app")


def _destination(action: TimeoutAction | None) -> Destination | None:
    return None if action is None else Destination(*action.kind_target())


def queue_spec(q: QueueConfig) -> QueueSpec:
    return QueueSpec(
        name=q.name,
        skills=frozenset(q.skills),
        max_wait=q.max_wait,
        ring_timeout=q.ring_timeout,
        wrapup=q.wrapup,
        steps=tuple(RoutingStep(s.after, parse(s.require)) for s in q.steps),
        strategy=Strategy(q.strategy),
        priority=q.priority,
        vip_priority=q.vip_priority,
        max_length=q.max_length,
        on_full=_destination(q.on_full),
        on_timeout=_destination(q.on_timeout),
        refuse_without_agents=q.when_no_agents == "refuse",
        on_no_agents=_destination(q.on_no_agents),
        announce_every=q.announce_every,
        callback_key=q.callback_key,
        pause_after_no_answers=q.pause_after_no_answers,
        task_priority=q.task_priority,
    )


def build_engine(settings: Settings) -> AcdEngine:
    agents = [
        AgentSpec(
            id=a.id,
            name=a.name,
            endpoint=a.interface or settings.dialplan.remote_dial.format(number=a.number),
            skills=dict(a.skills),
            remote=a.number is not None,
        )
        for a in settings.agents
    ]
    return AcdEngine(
        [queue_spec(q) for q in settings.queues],
        agents,
        no_answer_resume=settings.acd.no_answer_resume,
        seed=settings.acd.seed,
        accept_timeout=settings.acd.accept_timeout,
    )


@dataclass
class CallServer:
    """Every running component of one server process."""

    settings: Settings
    store: Store
    writer: FactWriter
    bus: FactBus
    engine: AcdEngine
    service: AcdService
    ami: AmiLink
    agi: FastAgiServer
    web_runner: web.AppRunner
    mqtt: MqttPublisher | None = None
    voicemail: VoicemailService | None = None
    vm_store: VoicemailStore | None = None
    synth: PromptSynth | None = None
    ivr: IvrDeps | None = None

    @property
    def web_port(self) -> int | None:
        return bound_port(self.web_runner)

    async def stop(self) -> None:
        await stop_web(self.web_runner)
        await self.agi.stop()
        await self.ami.stop()
        await self.service.stop()
        if self.voicemail is not None:
            await self.voicemail.stop()
        if self.synth is not None:
            await self.synth.close()
        if self.mqtt is not None:
            await self.mqtt.stop()
        await self.writer.stop()
        if self.vm_store is not None:
            await self.vm_store.close()
        await self.store.close()


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
    on_ivr_progress: Callable[[IvrProgress], None] | None = None,
    on_voicemail_waiting: Callable[[VoicemailWaiting], None] | None = None,
) -> CallServer:
    """Open the database, start FastAGI and the AMI link; returns once all listen.

    `ivr_clock` is the time business hours are judged by; the `on_*` callbacks see IVR progress
    and message-waiting changes besides the browsers and MQTT (tools, tests).
    """
    quiet_data_loggers()  # SQL parameters and rows (hashes, customers) stay out of -v logs
    store = await Store.open(settings.database_url())
    await store.sync_config(settings)
    if settings.customers.seed_file is not None:
        report = await store.load_customers(settings.customers.seed_file)
        for problem in report.errors:
            log.warning("customers: %s", problem)
        log.info(
            "customers: %d new, %d updated from %s",
            report.created,
            report.updated,
            settings.customers.seed_file,
        )
    writer = FactWriter(store)
    writer.start()
    engine = build_engine(settings)

    bus = FactBus()
    metrics = MetricsBook(
        [q.name for q in settings.queues],
        agent_queues={a.id: sorted(engine.agents[a.id].queues) for a in settings.agents},
        service_time=settings.web.service_target,
    )
    bus.subscribe(lambda fact: log.info("%s", describe(fact)))
    bus.subscribe(writer.submit)
    bus.subscribe(metrics.apply)

    def on_pbx_event(event: PbxEvent) -> None:
        control.on_pbx_event(event)  # channel-name index, outside-number consult legs
        service.on_pbx_event(event)
        if isinstance(event, PbxConnected):  # the desktops' "PBX link down" banner
            web_app[PARTS].hub.pbx_link_changed(True, time.time())
        elif isinstance(event, PbxDisconnected):
            web_app[PARTS].hub.pbx_link_changed(False, time.time(), event.reason)

    ami = AmiLink(settings.ami, on_pbx_event)
    service = AcdService(
        engine,
        ami,
        agent_context=settings.dialplan.agent_context,
        message_context=settings.dialplan.hangup_context,
        on_fact=bus.publish,
        link_errors=(AmiUnavailable, TimeoutError, ConnectionError),
        refused_errors=(AmiActionError,),
        clock=time.time,
    )
    control = CallControl(
        service,
        ami,
        trunk_dial=settings.dialplan.remote_dial,
        link_errors=(AmiUnavailable, TimeoutError, ConnectionError),
        refused_errors=(AmiActionError,),
        clock=time.time,
    )
    await service.start()
    now = time.time()
    for agent in settings.agents:
        if agent.start_available:
            service.apply(engine.set_status(agent.id, AgentStatus.AVAILABLE, now))
    # offers wait for the first AMI login and resynchronisation
    service.apply(engine.set_pbx_ready(False, now))
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
        web_app[PARTS].hub.ivr_progress(p.call_id, p.flow, p.node, p.at, p.ended, p.outcome)
        if on_ivr_progress is not None:
            on_ivr_progress(p)

    vm_store = await VoicemailStore.open(settings.database_url())
    voicemail = VoicemailService(
        vm_store,
        service,
        ami,
        clock=time.time,
        agent_endpoint=lambda a: engine.agents[a].endpoint if a in engine.agents else None,
        on_waiting=on_waiting,
    )
    bus.subscribe(voicemail.on_fact)
    synth = PromptSynth(prompt_cache_dir(settings))
    recordings = str((settings.voicemail.recordings_dir or settings.data_dir / "recordings").resolve())
    ivr = None
    if settings.ivr is not None:
        seed = settings.customers.seed_file
        ivr = IvrDeps(
            config=settings.ivr,
            lookup=StoreLookup(store, StaticFigures.from_seed_csv(seed) if seed else None),
            prompts=FilePrompts(SynthPrompts(synth)),
            presence=IvrPresence(time.time, on_progress),
            link_customer=store_linker(writer, store),
            clock=ivr_clock,
            voicemail=voicemail,
            recordings_dir=recordings,
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
            pbx_connected=False,
        )
    )
    web_runner = await start_web(web_app, settings.web.host, settings.web.port)
    scripts: dict[str, Callable[[AgiSession], Awaitable[None]]] = {
        "inbound": InboundScript(settings, service, ivr, find_customers=store.find_customers_by_number),
        "agent": AgentLegScript(service, accept_timeout=settings.acd.accept_timeout),
        "voicemail": VoicemailScript(voicemail, recordings_dir=recordings),
    }
    agi = FastAgiServer.from_config(settings.agi, ScriptRouter(scripts))
    await agi.start()
    await ami.start()
    server = CallServer(
        settings,
        store,
        writer,
        bus,
        engine,
        service,
        ami,
        agi,
        web_runner,
        mqtt,
        voicemail,
        vm_store,
        synth,
        ivr,
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


async def run_server(settings: Settings, stop: asyncio.Event, *, with_simulator: bool = False) -> None:
    """`callserver run`: serve until `stop` is set, then shut down cleanly."""
    simulator = None
    if with_simulator:
        from .sim.simulator import PbxSimulator

        simulator = PbxSimulator(settings)
        await simulator.start()
    server = await start_server(settings)
    if simulator is not None:
        simulator.start_traffic()
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        if simulator is not None:
            simulator.stop_traffic()
        await server.stop()
        if simulator is not None:
            await simulator.stop()
