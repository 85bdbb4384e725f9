"""queue_log across a restart: the new process reads today's facts before writing, so callers who
waited through it keep one stay each (no second ENTERQUEUE) with their times counted from when they
entered, and the file still equals the export of the day."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from callserver.acd.model import AgentStatus
from callserver.app import start_server
from callserver.queuelog.export import QueueLogExport, mapper_factory
from callserver.sim import Outcome, PbxSimulator

from .queue_log_reader import parse
from .rig import settings_for
from .stays import stays

pytestmark = pytest.mark.slow


async def test_callers_waiting_through_a_restart_keep_their_place_and_times(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    start = time.time() - 5
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    for agent in settings.agents:
        sim.set_phone(agent.interface or "", answers=True, answer_delay=0.05)
    server = await start_server(settings)
    try:
        await asyncio.wait_for(server.service.wait_for(lambda: server.service.resyncs > 0), 10)
        for agent in ("agent1", "agent2"):
            server.service.set_status(agent, AgentStatus.PAUSED, "lunch")
        service = server.service
        first = sim.place_call("+33140000001", "500", patience=60, talk_time=0.3)
        await asyncio.wait_for(service.wait_for(lambda: len(service.waiting_calls()) == 1), 10)
        second = sim.place_call("+33140000002", "500", patience=60, talk_time=0.3)
        await asyncio.wait_for(service.wait_for(lambda: len(service.waiting_calls()) == 2), 10)
        await server.stop()

        server = await start_server(settings)
        service = server.service
        await asyncio.wait_for(
            service.wait_for(lambda: service.resyncs > 0 and len(service.calls()) == 2), 10
        )
        # both agents start available again (`start_available`): the callers are answered now
        for handle in (first, second):
            assert (await handle.outcome(15)).outcome is Outcome.COMPLETED
        await asyncio.wait_for(service.wait_for(lambda: not service.calls()), 10)  # their ends seen
        await server.writer.flush()
        text = settings.queue_log_path().read_text(encoding="utf-8")
        export = QueueLogExport(
            server.store,
            mapper_factory(settings, {a.id: a.queues for a in service.agents()}),
            lookback=settings.queue_log.lookback,
        )
        exported = "".join([line async for line in export.lines(start, time.time() + 5)])
    finally:
        await server.stop()
        await sim.stop()

    lines = parse(text)
    by_call = stays(lines)  # one ENTERQUEUE per caller: a second one would fail here
    waited = [by_call[c.record.uniqueid] for c in (first, second)]
    assert [[s.position for s in stays_of] for stays_of in waited] == [[1], [2]]
    for stays_of in waited:
        connect = stays_of[0].connected
        assert connect is not None and connect.agent in ("Agent/agent1", "Agent/agent2")
        assert stays_of[0].ended is not None and stays_of[0].ended.event == "COMPLETECALLER"
    # the agents were paused before the restart: back available is an unpause, not a second login
    agent1 = [line.event for line in lines if line.agent == "Agent/agent1" and line.queue == "support"]
    assert agent1.count("ADDMEMBER") == 1 and "UNPAUSE" in agent1
    assert exported == text
