"""A server process with a small open-file limit, flooded with FastAGI sessions that send their
headers and never answer, still answers the web API and puts real callers through to agents.

The server runs as its own process (the descriptor limit is per process) with `ulimit -n` lowered
before it starts; the PBX simulator and the flood run in the test process.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from pathlib import Path

import aiohttp
import pytest
import yaml

from callserver.sim import Outcome, PbxSimulator

from ..helpers import fast_settings, free_port
from .process import ServerProcess

pytestmark = pytest.mark.slow

LIMIT = 256  # descriptors the server process may open
FLOOD = 400  # hung sessions, well past the limit
CALLS = 10


def _lower_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def _flood_headers(i: int, port: int) -> bytes:
    env = {
        "agi_network": "yes",
        "agi_network_script": "inbound",
        "agi_request": f"agi://127.0.0.1:{port}/inbound",
        "agi_channel": f"PJSIP/flood-{i:08x}",
        "agi_uniqueid": f"1700000000.{i}",
        "agi_callerid": f"+3319900{i:04d}",
        "agi_dnid": "500",
        "agi_extension": "500",
    }
    return "".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n"


async def _web_answers(port: int) -> bool:
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http, asyncio.timeout(10):
        login = await http.post(
            "/api/login",
            json={"login": "agent1", "password": "agent1-pw", "bearer": True},
            headers={"X-Callserver": "1"},
        )
        if login.status != 200:
            return False
        token = (await login.json())["token"]
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        return me.status == 200


async def test_hung_fastagi_flood_starves_neither_calls_nor_web_api(tmp_path: Path) -> None:
    web_port = free_port()
    settings = fast_settings(
        tmp_path,
        web={"host": "127.0.0.1", "port": web_port},
        queues=[
            {"name": "support", "dnis": ["500"], "skills": ["support"], "max_wait": 60, "ring_timeout": 2}
        ],
    )
    data = settings.model_dump(mode="json", exclude_unset=True)
    for agent in data["agents"]:
        agent["password"] = f"{agent['login']}-pw"
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")

    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    flood: list[asyncio.StreamWriter] = []
    most_files = 0
    server = await ServerProcess.start(config, preexec_fn=_lower_limit)
    try:

        async def hang(i: int) -> None:
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", settings.agi.port)
                writer.write(_flood_headers(i, settings.agi.port))
                flood.append(writer)

        await asyncio.gather(*(hang(i) for i in range(FLOOD)))
        most_files = server.open_files()
        web_ok = await _web_answers(web_port)
        handles = [sim.place_call(f"+331400{i:05d}", "500", patience=60, talk_time=0.3) for i in range(CALLS)]
        most_files = max(most_files, server.open_files())
        results = []
        for handle in handles:
            with contextlib.suppress(TimeoutError):
                results.append((await handle.outcome(timeout=45)).outcome)
        most_files = max(most_files, server.open_files())
        web_after = await _web_answers(web_port)
    finally:
        for writer in flood:
            writer.close()
        code = await server.stop()
        await sim.stop()
    log = server.log
    answered = sum(r in {Outcome.COMPLETED, Outcome.AGENT_ENDED} for r in results)
    agi_lines = sum("callserver.agi" in line for line in server.lines)
    print(
        f"{FLOOD} hung FastAGI sessions at ulimit -n {LIMIT}: {answered}/{CALLS} real calls answered, "
        f"web API {'up' if web_ok and web_after else 'DOWN'}, at most {most_files} open files, "
        f"{agi_lines} FastAGI log lines, {len(log)} bytes of log"
    )
    assert web_ok and web_after, log[-5000:]
    assert answered == CALLS, results
    assert most_files < LIMIT
    assert "Traceback" not in log
    assert agi_lines < 40
    assert code == 0, log[-3000:]
