"""The composition root: builds every component from the settings and wires them together.

Nothing else constructs components or reads configuration; each part receives what it needs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from .acd.adapter import AcdService
from .acd.engine import AcdEngine
from .acd.model import AgentSpec, AgentStatus, QueueSpec
from .agi.server import FastAgiServer
from .ami.adapter import AmiLink
from .ami.protocol import AmiActionError, AmiUnavailable
from .bus import FactBus
from .config import Settings
from .facts_log import describe
from .inbound import InboundScript
from .pbx.events import PbxEvent
from .store.store import Store
from .store.writer import FactWriter

log = logging.getLogger("callserver.app")


def build_engine(settings: Settings) -> AcdEngine:
    queues = [
        QueueSpec(
            name=q.name,
            skills=frozenset(q.skills),
            max_wait=q.max_wait,
            overflow_queue=q.on_timeout.queue,
            timeout_message=q.on_timeout.message,
            ring_timeout=q.ring_timeout,
            wrapup=q.wrapup,
        )
        for q in settings.queues
    ]
    agents = [
        AgentSpec(
            id=a.id,
            name=a.name,
            endpoint=a.interface or settings.dialplan.remote_dial.format(number=a.number),
            skills=dict(a.skills),
        )
        for a in settings.agents
    ]
    return AcdEngine(queues, agents, no_answer_resume=settings.acd.no_answer_resume)


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

    async def stop(self) -> None:
        await self.agi.stop()
        await self.ami.stop()
        await self.service.stop()
        await self.writer.stop()
        await self.store.close()


async def start_server(settings: Settings) -> CallServer:
    """Open the database, start FastAGI and the AMI link; returns once all listen."""
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
    bus.subscribe(lambda fact: log.info("%s", describe(fact)))
    bus.subscribe(writer.submit)

    def on_pbx_event(event: PbxEvent) -> None:
        service.on_pbx_event(event)

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
    await service.start()
    now = time.time()
    for agent in settings.agents:
        if agent.start_available:
            service.apply(engine.set_status(agent.id, AgentStatus.AVAILABLE, now))
    # offers wait for the first AMI login and resynchronisation
    service.apply(engine.set_pbx_ready(False, now))
    script = InboundScript(settings, service)
    agi = FastAgiServer(settings.agi.host, settings.agi.port, script)
    await agi.start()
    await ami.start()
    log.info(
        "callserver up: FastAGI on %s:%s, AMI to %s:%s, database %s",
        settings.agi.host,
        agi.port,
        settings.ami.host,
        settings.ami.port,
        settings.database_url(),
    )
    return CallServer(settings, store, writer, bus, engine, service, ami, agi)


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
