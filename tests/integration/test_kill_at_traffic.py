"""`kill -9` of a busy server, then a restart: every call the PBX handled for it ends up with a
complete row and an outcome, repaired from the PBX where the killed process left it unfinished.

The server is a child process, the simulator runs here with random traffic (10 calls/s, agents
that sometimes do not answer, callers that give up). Halfway through, the server is killed with
SIGKILL and started again; traffic goes on throughout. Callers who arrived while no server was
listening heard "no service" from the dialplan: callserver never knew them and they have no row.
Every other caller (each one that reached a queue: heard its music) must have one, complete, and no
row may stay without an outcome, with one exception the PBX cannot repair: a caller whose every fact
the killed process had not yet written (the fact writer's loss at a kill) and who left before the
new process looked. The test checks that only such callers lack a row, that their facts were the
last ones before the kill, and prints the figures.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import yaml

from callserver.sim import PbxSimulator
from callserver.store import Store

from ..helpers import fast_settings, free_port
from .server_process import ServerProcess

pytestmark = pytest.mark.slow
CALLS = 120
KILL_AFTER = 40  # callers finished before the kill


def describe_lines(lines: list[str]) -> int:
    """Facts the server logged (one `callserver.app` line each, `call ...` or `agent ...`)."""
    marker = " callserver.app: "
    return sum(
        1 for line in lines if marker in line and line.split(marker, 1)[1].startswith(("call ", "agent "))
    )


async def test_every_call_has_a_complete_row_after_a_kill_at_traffic(tmp_path: Path) -> None:
    base = fast_settings(tmp_path, agents=8)
    data = base.model_dump(mode="json")
    db_file = tmp_path / "calls.db"
    data["web"]["port"] = free_port()
    data["database"] = {"url": f"sqlite+aiosqlite:///{db_file}"}
    data["queues"][0].update(max_wait=20.0, ring_timeout=2.0)
    data["simulator"]["callers"].update(
        rate_per_minute=600, max_calls=CALLS, patience=[1.0, 8.0], talk_time=[0.5, 3.0]
    )
    settings = type(base).model_validate(data)
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json")), encoding="utf-8")
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = ServerProcess(config, tmp_path / "server.log", settings.web.port)
    try:
        await server.start()
        sim.start_traffic()
        async with asyncio.timeout(60):
            await sim.wait_finished(KILL_AFTER)
        killed_at, killed_mono = time.time(), time.monotonic()
        assert await server.kill() == -9
        killed_lines = list(server.lines)
        with sqlite3.connect(db_file) as db:
            written_facts = db.execute("select count(*) from call_events").fetchone()[0]
            newest = db.execute("select max(at) from call_events").fetchone()[0]
            known_at_kill = {row[0] for row in db.execute("select id from calls")}
        await server.start()
        restarted = time.monotonic()
        async with asyncio.timeout(120):
            await sim.wait_finished(CALLS)
        queued = [r for r in sim.records if r.heard_music]
        ended_lines: set[str] = set()
        for record in queued:
            if record.uniqueid in known_at_kill or (record.ended or 0) > restarted:
                # event-driven: the server logs each call's end as it records it
                ended_lines.add(await server.wait_line(f"call {record.uniqueid} ended", timeout=30))
        assert await server.stop() == 0
    finally:
        sim.stop_traffic()
        await server.close()
        await sim.stop()
    store = await Store.open(settings.database_url())
    try:
        rows = {row.id: row for row in await store.calls(limit=10_000)}
        open_rows = await store.open_calls()
    finally:
        await store.close()
    assert len(sim.records) == CALLS
    assert open_rows == [], "no row may stay in progress"
    lost = {r.uniqueid for r in queued if r.uniqueid not in rows}
    # only what the killed process had not written and the PBX no longer had is beyond repair
    assert lost <= {
        r.uniqueid for r in queued if r.uniqueid not in known_at_kill and (r.ended or 0) <= restarted
    }
    # how long before the kill each of them dialled (they were queued a little after)
    lost_before = [killed_mono - r.started for r in queued if r.uniqueid in lost]
    assert all(before < 5.0 for before in lost_before), "facts lost from long before the kill"
    for record in queued:
        if record.uniqueid in lost:
            continue
        row = rows[record.uniqueid]
        assert row.outcome is not None and row.ended_at is not None and row.queued_at is not None, row
        assert row.ended_at >= row.arrived_at
        if row.outcome == "answered":
            assert row.agent_id is not None and row.answered_at is not None
    for row in rows.values():
        if row.end_reason is not None and row.end_reason.startswith("ended while callserver was stopped"):
            # written off at start-up: says so, and its end is only the last moment it was seen
            assert row.end_estimated and row.outcome in {"answered", "unknown"}, row
    never_reached = [r for r in sim.records if not r.heard_music]
    repaired = sum(1 for row in rows.values() if row.end_reason)
    logged_facts = describe_lines(killed_lines)
    oldest_lost = max(lost_before, default=0.0)
    print(
        f"kill -9 at traffic: {CALLS} callers, {len(queued)} reached a queue, "
        f"{len(queued) - len(lost)} with a complete row, {len(lost)} lost with every fact of theirs "
        f"(dialled at most {oldest_lost:.1f} s before the kill, gone before the restart); "
        f"{len(never_reached)} heard 'no service' while no server listened; {repaired} rows closed or "
        f"repaired at restart; facts logged by the killed process {logged_facts}, written "
        f"{written_facts} (lost {logged_facts - written_facts}); newest written fact "
        f"{(killed_at - datetime_seconds(newest)) * 1000:.0f} ms before the kill"
    )


def datetime_seconds(text: str | None) -> float:
    """SQLite keeps the fact times as ISO text in UTC."""
    from datetime import UTC, datetime

    if text is None:
        return 0.0
    value = datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
