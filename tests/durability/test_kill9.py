"""A server killed with SIGKILL in the middle of 100 calls a second keeps, in its database, every
fact it had more than a second before the kill: the fact writer commits small batches often and
SQLite (WAL) keeps each committed transaction through the crash of the process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
import yaml

from callserver.sim import PbxSimulator
from tests.helpers import ROOT, fast_settings

pytestmark = [pytest.mark.slow, pytest.mark.alone]

RATE = 100.0  # calls a second
TRAFFIC = 4.0  # seconds of calls before the kill
BOUND = 1.0  # seconds: facts older than this at the kill must be stored


def _stored(db: Path) -> set[tuple[str, str | None, str | None, float]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select kind, call_id, agent_id, payload from call_events").fetchall()
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    return {(kind, call_id, agent_id, json.loads(payload)["at"]) for kind, call_id, agent_id, payload in rows}


async def test_kill_9_at_100_calls_a_second_loses_at_most_the_last_second_of_facts(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, agents=200)
    data = settings.model_dump(mode="json")
    data["simulator"]["phones"] = {"answer_delay": [0.05, 0.05], "no_answer_rate": 0.0}
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    db, facts = tmp_path / "calls.db", tmp_path / "facts.jsonl"
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.05)
    await sim.start()
    env = dict(os.environ, CALLSERVER_DATABASE_URL=f"sqlite+aiosqlite:///{db}")
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.durability.crash_server",
        str(config),
        str(facts),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        async with asyncio.timeout(60):
            assert (await server.stdout.readline()).strip() == b"ready"
        loop = asyncio.get_running_loop()
        start, placed = loop.time(), 0
        while loop.time() - start < TRAFFIC:
            sim.place_call(f"+3314{placed:07d}", "500", patience=30.0, talk_time=1.0)
            placed += 1
            await asyncio.sleep(max(0.0, start + placed / RATE - loop.time()))  # pacing the callers
        killed_at = time.time()
        server.send_signal(signal.SIGKILL)
        async with asyncio.timeout(30):
            await server.wait()
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
        await sim.stop()
    noted = [json.loads(line) for line in facts.read_text(encoding="utf-8").splitlines() if line]
    stored = _stored(db)
    old = [n for n in noted if n[0] < killed_at - BOUND]
    lost = [n for n in old if (n[1], n[2], n[3], n[4]) not in stored]
    assert len(old) > 1000, f"only {len(old)} facts before the last second: the traffic did not flow"
    assert lost == [], f"{len(lost)} of {len(old)} facts older than {BOUND} s lost, first {lost[:3]}"
    with sqlite3.connect(db) as conn:  # what was committed is whole: an ended call has its outcome
        ended = {c for kind, c, _, _ in stored if kind == "CallEnded"}
        rows = dict(conn.execute("select id, outcome from calls where outcome is not null").fetchall())
    assert ended and ended <= set(rows)
