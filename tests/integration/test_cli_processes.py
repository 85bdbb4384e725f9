"""`callserver simulate` and `callserver run`, started separately with one config, find each other.

Both run as real processes, as an operator would start them; the calls they handle end up in the
database that `callserver db upgrade` created.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml

from ..helpers import ROOT, fast_settings

pytestmark = pytest.mark.slow


async def _start(args: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "callserver",
            *args,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )


async def _stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    async with asyncio.timeout(20):
        return await proc.wait()


async def test_run_and_simulate_as_separate_processes_handle_calls(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    data = settings.model_dump(mode="json")
    data["simulator"]["callers"]["max_calls"] = 8
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    db_file = tmp_path / "calls.db"
    env = dict(os.environ, CALLSERVER_DATABASE_URL=f"sqlite+aiosqlite:///{db_file}")

    upgrade = await _start(["db", "upgrade", "--config", str(config)], env, tmp_path / "db.log")
    async with asyncio.timeout(60):
        assert await upgrade.wait() == 0

    # the server first (it keeps retrying AMI until the simulator listens), so that the simulator's
    # first callers find its FastAGI port open
    server = await _start(["run", "--config", str(config)], env, tmp_path / "server.log")
    async with asyncio.timeout(30):
        while "callserver up" not in (tmp_path / "server.log").read_text():
            assert server.returncode is None, (tmp_path / "server.log").read_text()
            await asyncio.sleep(0.2)  # another process: its log is all there is to watch
    sim = await _start(["simulate", "--config", str(config)], env, tmp_path / "sim.log")
    try:
        async with asyncio.timeout(60):
            while True:
                await asyncio.sleep(0.5)  # another process: nothing to await but its results
                assert server.returncode is None, (tmp_path / "server.log").read_text()
                with sqlite3.connect(db_file) as db:
                    ended = db.execute("select count(*) from calls where outcome is not null").fetchone()[0]
                if ended >= 8:
                    break
    finally:
        server_rc = await _stop(server)
        sim_rc = await _stop(sim)
    server_log = (tmp_path / "server.log").read_text()
    assert server_rc == 0, server_log
    assert sim_rc == 0, (tmp_path / "sim.log").read_text()
    with sqlite3.connect(db_file) as db:
        outcomes = dict(db.execute("select outcome, count(*) from calls group by outcome").fetchall())
    assert sum(outcomes.values()) == 8
    assert outcomes.get("answered", 0) > 0
    assert "ended answered with agent" in server_log  # one INFO line per call, at its end
