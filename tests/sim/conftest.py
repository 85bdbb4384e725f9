from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callserver.config import ListenConfig, QueueConfig, Settings, SimulatorConfig
from callserver.sim import PbxSimulator
from tests.sim.helpers import AmiClient, FakeAgiServer, hold_script

DIALPLAN = Path(__file__).resolve().parents[2] / "asterisk" / "extensions_callserver.conf"
SCALE = 0.01


def make_settings(agi_port: int, data_dir: Path | None = None) -> Settings:
    """`data_dir` holds the simulated Asterisk's sounds directory (`<data_dir>/sounds`)."""
    return Settings(
        data_dir=data_dir or Path("data"),
        agi=ListenConfig(port=agi_port),
        queues=[QueueConfig(name="support", dnis=["5001"])],
        simulator=SimulatorConfig(dialplan=[DIALPLAN], seed=7),
    )


@pytest.fixture
async def agi() -> AsyncIterator[FakeAgiServer]:
    server = FakeAgiServer(hold_script)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def sim(agi: FakeAgiServer) -> AsyncIterator[PbxSimulator]:
    simulator = PbxSimulator(make_settings(agi.port), ami_host="127.0.0.1", ami_port=0, time_scale=SCALE)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def ami(sim: PbxSimulator) -> AsyncIterator[AmiClient]:
    client = AmiClient()
    reply = await client.login(sim.ami_port)
    assert reply["Response"] == "Success"
    yield client
    await client.close()
