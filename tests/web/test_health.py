"""GET /api/health: the server process's own figures (memory, files, tasks, event-loop lag) for
supervisors, as `make soak` samples them."""

from __future__ import annotations

import asyncio
import os
import time

from callserver.web.health import LoopLag
from tests.web.conftest import Env


async def test_supervisor_reads_memory_files_tasks_and_loop_lag_of_the_process(env: Env) -> None:
    boss = await env.client("boss")
    resp = await boss.get("/api/health")
    assert resp.status == 200
    body = await resp.json()
    assert body["rss_kib"] > 10_000  # a Python process with the app loaded is tens of MiB
    # the test and the server share this process: its listening socket and the client's are open
    assert 3 < body["open_fds"] <= len(os.listdir("/proc/self/fd")) + 5
    assert 1 <= body["tasks"] <= len(asyncio.all_tasks()) + 5
    assert body["pbx_connected"] is True
    assert body["uptime"] >= 0


def _hold_the_loop(seconds: float) -> None:
    """Busy work on the loop's thread, as a slow handler would do."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_a_blocked_event_loop_shows_as_lag(env: Env) -> None:
    boss = await env.client("boss")
    # the lag watch's next callback falls due within 0.25 s: it runs at least 0.35 s late
    _hold_the_loop(0.6)
    resp = await boss.get("/api/health")
    lag = (await resp.json())["loop_lag"]
    assert lag["worst_ms"] >= 350
    assert lag["max_ms"] >= 350


async def test_agents_may_not_read_the_process_figures(env: Env) -> None:
    agent = await env.client("agent1")
    resp = await agent.get("/api/health")
    assert resp.status == 403


def test_lag_percentile_is_taken_over_the_recent_window_only() -> None:
    lag = LoopLag(interval=1.0, window=100.0)
    lag.note(5.0)  # long ago: pushed out of the window by 100 later measurements
    for i in range(100):
        lag.note(0.001 * (i + 1))
    summary = lag.summary()
    assert summary["max_ms"] == 100.0
    assert summary["p99_ms"] == 100.0
    assert summary["worst_ms"] == 5000.0
    assert summary["last_ms"] == 100.0
