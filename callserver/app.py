"""The composition root: builds every component from the settings and wires them together.

Nothing else constructs components or reads configuration; each part receives what it needs.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .acd.agentleg import AgentLegScript
from .acd.control import CallControl
from .acd.engine import AcdEngine
from .acd.expr import parse
from .acd.metrics import MetricsBook
from .acd.model import AgentSpec, AgentStatus, Destination, QueueSpec, RoutingStep, Strategy
from .acd.service import AcdService
from .agi.server import FastAgiServer
from .agi.session import AgiSession
from .ami.adapter import AmiLink
from .config import QueueConfig, Settings, TimeoutAction
from .facts.bus import FactBus
from .facts.describe import describe
from .inbound.matches import CallerMatches
from .inbound.script import InboundScript, IvrDeps, fact_linker
from .ivr.lookup import StaticFigures, StoreLookup
from .ivr.progress import IvrPresence, IvrProgress
from .ivr.prompt_build import prompt_synth
from .ivr.prompts import SynthPrompts
from .ivr.runner import FilePrompts
from .mqtt.publisher import MqttPublisher
from .pbx.channels import ChannelNames
from .pbx.hub import PbxEventHub
from .sounds.folder import SoundFolder, sound_folder
from .speech import PromptSynth
from .store.store import Store
from .store.writer import FactWriter
from .voicemail import VoicemailService, VoicemailStore, VoicemailWaiting
from .voicemail.agi import VoicemailScript
from .voicemail.failures import RecordingFailures
from .voicemail.recordings import prepare_recordings_dir, recordings_dir
from .web import Role, WebDeps, WebUser, build_web_app, hash_password, start_web, stop_web
from .web.app import PARTS, bound_port

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


class ScriptRouter:
    """FastAGI dispatch by script name (`agi://host:port/<script>`)."""

    def __init__(self, scripts: dict[str, Callable[[AgiSession], Awaitable[None]]]) -> None:
        self.scripts = scripts

    async def __call__(self, session: AgiSession) -> None:
        script = self.scripts.get(session.script)
        if script is None:
            log.error("FastAGI request for unknown script %r from %s", session.script, session.channel)
            return
        await script(session)


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
        await self.store.close()


def web_users(settings: Settings) -> list[WebUser]:
    """Supervisors and admins from the config; a plain demo password is hashed here, never kept."""
    users = []
    for user in settings.web_users:
        password = user.password
        if not password.startswith("$argon2"):
            log.warning(
                "web user %s has a plain-text password in the config: use `callserver passwd`", user.login
            )
            password = hash_password(password)
        users.append(WebUser(user.login, user.name, Role(user.role), password))
    return users


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

    bus = FactBus()
    pbx_events = PbxEventHub()
    ami = AmiLink(settings.ami, pbx_events.publish)
    channels = ChannelNames()
    service = AcdService(build_engine(settings), ami, channels=channels, on_fact=bus.publish, clock=time.time)
    metrics = MetricsBook(
        [q.name for q in settings.queues],
        agent_queues={a.id: list(a.queues) for a in service.agents()},
        service_time=settings.web.service_target,
    )
    bus.subscribe(lambda fact: log.info("%s", describe(fact)))
    bus.subscribe(writer.submit)
    bus.subscribe(metrics.apply)

    control = CallControl(service, ami, trunk_dial=settings.dialplan.remote_dial)
    # order matters only in that names are known before anyone acts on an event
    pbx_events.subscribe(channels.subscriptions())
    pbx_events.subscribe(control.subscriptions())
    pbx_events.subscribe(service.subscriptions())
    await service.start()
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
        web_app[PARTS].hub.ivr_progress(p.call_id, p.flow, p.node, p.at, p.ended, p.outcome)
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
    sounds = sound_folder(settings)
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
    if settings.ivr is not None:
        seed = settings.customers.seed_file
        ivr = IvrDeps(
            config=settings.ivr,
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
            caller_matches=caller_matches,
        )
    )
    web_runner = await start_web(web_app, settings.web.host, settings.web.port)
    scripts: dict[str, Callable[[AgiSession], Awaitable[None]]] = {
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
    agi = FastAgiServer(settings.agi.host, settings.agi.port, ScriptRouter(scripts))
    await agi.start()
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


def settle_garbage_collector() -> None:
    """After start-up: what exists now (modules, configuration, agents, the engine) lives as long as
    the server, so it moves out of the collector's sight and full collections, whose pauses would
    otherwise grow with it, scan only what calls create. Once per process (`callserver run`)."""
    gc.collect()
    gc.freeze()


async def run_server(settings: Settings, stop: asyncio.Event, *, with_simulator: bool = False) -> None:
    """`callserver run`: serve until `stop` is set, then shut down cleanly."""
    simulator = None
    if with_simulator:
        from .sim.simulator import PbxSimulator

        simulator = PbxSimulator(settings)
        await simulator.start()
    server = await start_server(settings)
    settle_garbage_collector()
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
