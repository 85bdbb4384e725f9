"""End to end over real TCP: simulated traffic through the server, then the live figures (the
supervisor's queue tiles and `GET /api/metrics`) and the historical report for the same
intervals, read over HTTP, must be the same numbers; and `callserver report` prints them too."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from asyncio.subprocess import PIPE
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from callserver.app import start_server
from callserver.sim import PbxSimulator

from ..helpers import ROOT, fast_settings, free_port

pytestmark = pytest.mark.slow

CALLS = 40
PASSWORD = "boss-pw"
CALL_FIGURES = (
    "offered",
    "overflowed_in",
    "overflowed_out",
    "answered",
    "answered_in_time",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "service_level",
    "service_level_with_abandons",
    "abandon_rate",
    "asa",
    "aht",
)


async def _get(http: aiohttp.ClientSession, path: str) -> Any:
    async with http.get(path) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def _callserver(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callserver", *args, cwd=ROOT, stdout=PIPE, stderr=PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-6 * max(1.0, abs(a))
    return a == b


async def test_live_figures_equal_the_historical_report_for_each_interval(tmp_path: Path) -> None:
    web_port = free_port()
    settings = fast_settings(
        tmp_path,
        web={"host": "127.0.0.1", "port": web_port},
        web_users=[{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}],
    )
    data = settings.model_dump(mode="json", exclude_unset=True)
    data["simulator"]["callers"]["max_calls"] = CALLS
    data["acd"]["wrapup"] = 0.3
    settings = type(settings).model_validate(data)
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)
    try:
        async with asyncio.timeout(10):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        sim.start_traffic()
        async with asyncio.timeout(90):
            await sim.wait_finished(CALLS)
            await server.service.wait_for(
                lambda: (
                    not server.service.calls()
                    and not server.service.legs()
                    and all(a.state.value == "idle" for a in server.service.agents())
                )
            )
        sim.stop_traffic()
        await server.writer.flush()
        assert server.reports is not None
        await server.reports.flush()
        base = f"http://127.0.0.1:{server.web_port}"
        async with aiohttp.ClientSession(base) as anonymous:
            login = await anonymous.post(
                "/api/login",
                json={"login": "boss", "password": PASSWORD, "bearer": True},
                headers={"X-Callserver": "1"},
            )
            token = (await login.json())["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Callserver": "1"}
        async with aiohttp.ClientSession(base, headers=headers) as http:
            metrics = await _get(http, "/api/metrics")
            tiles = await _get(http, "/api/queues")
            (live,) = [q for q in metrics["queues"] if q["queue"] == "support"]
            assert live["total"]["offered"] >= CALLS // 2  # the traffic reached the queue
            days = sorted({datetime.fromtimestamp(i["start"], UTC).date() for i in live["intervals"]})
            query = f"from={days[0]}&to={days[-1]}&queue=support"
            quarter = await _get(http, f"/api/reports/queue_intervals?{query}&interval=15m")
            agents = await _get(
                http, f"/api/reports/agent_intervals?from={days[0]}&to={days[-1]}&interval=day"
            )
    finally:
        sim.stop_traffic()
        await server.stop()
        await sim.stop()

    # every live 15-minute interval is a report row with the same figures, and no other row exists
    rows = {datetime.fromisoformat(r["interval_start"]).timestamp(): r for r in quarter["rows"]}
    live_intervals = {
        i["start"]: i["stats"] for i in live["intervals"] if i["stats"]["offered"] or i["stats"]["answered"]
    }
    assert set(rows) == set(live_intervals)
    for start, stats in live_intervals.items():
        for name in CALL_FIGURES:
            assert _close(rows[start][name], stats[name]), (start, name, rows[start][name], stats[name])
    # the day: the report's rows add up to the tile's counters for today
    (tile,) = [t for t in tiles if t["name"] == "support"]
    answered = sum(r["answered"] for r in quarter["rows"])
    abandoned = sum(r["abandoned"] for r in quarter["rows"])
    timed_out = sum(r["timed_out"] for r in quarter["rows"])
    assert (answered, abandoned, timed_out) == (
        tile["answered_today"],
        tile["abandoned_today"],
        tile["timed_out_today"],
    )
    assert answered == live["total"]["answered"] > 0
    # agents: the calls each handled and their busy time, as the live book has them
    by_agent = {}
    for row in agents["rows"]:
        got = by_agent.setdefault(row["dimension"], {"handled": 0, "busy": 0.0})
        got["handled"] += row["handled"]
        got["busy"] += row["busy"]
    for agent in metrics["agents"]:
        if agent["calls_handled"]:
            assert by_agent[agent["agent_id"]]["handled"] == agent["calls_handled"]
            assert abs(by_agent[agent["agent_id"]]["busy"] - agent["busy"]) < 0.01

    # the command line prints the same report from the database the server left behind
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude_unset=True)), encoding="utf-8")
    cli = ["report", "queue_intervals", "--config", str(config)]
    period = ["--from", str(days[0]), "--to", str(days[-1]), "--interval", "15m"]
    code, csv_out, err = await _callserver(*cli, *period)
    assert code == 0, err
    code, json_out, err = await _callserver(*cli, *period, "--format", "json")
    assert code == 0, err
    printed = json.loads(json_out)["rows"]
    # the server's stop added the agents' last seconds of staffed time: call figures are unchanged
    assert [{k: r[k] for k in CALL_FIGURES} for r in printed] == [
        {k: r[k] for k in CALL_FIGURES} for r in quarter["rows"]
    ]
    lines = list(csv.reader(io.StringIO(csv_out)))
    assert lines[0] == [c["key"] for c in quarter["columns"]]
    assert lines[1:] == [
        ["" if r[k] is None else r[k] if isinstance(r[k], str) else json.dumps(r[k]) for k in lines[0]]
        for r in printed
    ]
    code, _, err = await _callserver(*cli, "--from", "yesterday", "--to", str(days[-1]))
    assert code == 2 and "'from'" in err
