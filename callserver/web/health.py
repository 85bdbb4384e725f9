"""How the server process itself is doing, for supervisors and long-running checks (`make soak`):
`GET /api/health` gives uptime, the PBX link, resident memory, open files, asyncio tasks and how
late the event loop runs its callbacks. Read only; nothing here changes any state.

The loop-lag watch is a timer callback, not a task, so it does not count itself among the tasks.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from callserver.web.api import PRINCIPAL, json_error

LAG_INTERVAL = 0.25  # seconds between two lag measurements
LAG_WINDOW = 60.0  # seconds of measurements the percentiles are taken over


class LoopLag:
    """Measures how late the event loop runs a callback scheduled `interval` seconds ahead.

    A busy or blocked loop shows as lag: every other callback, socket read and timer waits as long.
    """

    def __init__(self, interval: float = LAG_INTERVAL, window: float = LAG_WINDOW) -> None:
        self.interval = interval
        self.recent: deque[float] = deque(maxlen=max(1, round(window / interval)))
        self.worst = 0.0  # since start
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._due = loop.time() + self.interval
        self._handle = loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.note(now - self._due)
        self._due = now + self.interval
        self._handle = loop.call_at(self._due, self._tick)

    def note(self, lag: float) -> None:
        lag = max(0.0, lag)
        self.recent.append(lag)
        self.worst = max(self.worst, lag)

    def summary(self) -> dict[str, float | None]:
        """Milliseconds: the latest measurement, the 99th percentile and maximum of the window,
        and the worst since start."""
        if not self.recent:
            return {"last_ms": None, "p99_ms": None, "max_ms": None, "worst_ms": None}
        ordered = sorted(self.recent)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return {
            "last_ms": round(self.recent[-1] * 1000, 2),
            "p99_ms": round(p99 * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
            "worst_ms": round(self.worst * 1000, 2),
        }


def process_figures(proc: Path = Path("/proc/self")) -> dict[str, int | None]:
    """Resident memory (KiB) and open file descriptors of this process; None where /proc is absent."""
    rss: int | None = None
    fds: int | None = None
    try:
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
        fds = len(os.listdir(proc / "fd"))
    except OSError:
        pass
    return {"rss_kib": rss, "open_fds": fds}


class HealthApi:
    def __init__(self, lag: LoopLag, pbx_connected: Callable[[], bool], clock: Callable[[], float]) -> None:
        self.lag = lag
        self.pbx_connected = pbx_connected
        self.clock = clock
        self.started = time.monotonic()

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/health", self.health)]

    async def health(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        body: dict[str, Any] = {
            "at": self.clock(),
            "uptime": round(time.monotonic() - self.started, 3),
            "pbx_connected": self.pbx_connected(),
            "tasks": len(asyncio.all_tasks()),
            "loop_lag": self.lag.summary(),
            **process_figures(),
        }
        return web.json_response(body)


def openapi_paths() -> dict[str, Any]:
    return {
        "/api/health": {
            "get": {
                "summary": "The server process: uptime, PBX link, resident memory (KiB), open file "
                "descriptors, asyncio tasks and event-loop lag (ms: latest, 99th percentile and "
                "maximum over the last minute, worst since start); supervisors only",
                "responses": {
                    "200": {"description": "OK"},
                    "401": {"description": "no session"},
                    "403": {"description": "supervisors only"},
                },
            }
        }
    }
