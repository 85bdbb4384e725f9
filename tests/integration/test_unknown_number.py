"""A caller who dials a number no queue answers hears 'no service', is hung up, and is on record."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callserver.app import start_server
from callserver.sim import Outcome, PbxSimulator

from ..helpers import fast_settings

pytestmark = pytest.mark.slow


async def test_call_to_unknown_number_is_refused_and_recorded(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)
    try:
        async with asyncio.timeout(10):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        handle = sim.place_call("+33199000009", "999", patience=30, talk_time=1)
        record = await handle.outcome(10)
        assert record.outcome is Outcome.PBX_HANGUP
        assert record.agent_channel is None
        await server.writer.flush()
        row = await server.store.call(record.uniqueid)
        assert row is not None
        assert row.outcome == "failed"
        assert row.dnis == "999" and row.caller_num == "+33199000009"
        assert not server.service.calls()
    finally:
        await server.stop()
        await sim.stop()
