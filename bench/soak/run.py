"""The soak run: callserver and the PBX simulator as two processes over loopback TCP, callers at a
steady rate for a bounded time, with the faults a production day brings (AMI cut or stalled every
few minutes, one `kill -9` of the server and its restart, one crash and restart of the PBX). Every
few seconds it samples the server; at the end it drains the traffic and checks the invariants of
`invariants.py`. Exit status 1 if any fails. See docs/soak.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import logging
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

from bench.soak import invariants as inv
from bench.soak.centre import SUPERVISOR, centre, free_port, write_centre
from bench.soak.pbxview import pbx_channels
from bench.soak.procs import Server, Simulator
from bench.soak.proxy import AmiProxy
from bench.soak.report import RunRecord, write_report

log = logging.getLogger("soak")
CSRF = {"X-Callserver": "1"}
COLUMNS = [
    "t",
    "phase",
    "server_pid",
    "rss_kib",
    "open_fds",
    "tasks",
    "lag_last_ms",
    "lag_p99_ms",
    "lag_max_ms",
    "pbx_connected",
    "placed",
    "finished",
    "pbx_channels",
    "busy_server",
    "busy_pbx",
    "diverged",
    "diverged_agents",
]


@dataclass
class Plan:
    minutes: float
    rate: float
    agents: int
    sample_every: float
    cut_every: float
    stall: float
    kill_at: float  # fraction of the run
    pbx_restart_at: float
    warmup_until: float  # fraction of the run after which memory must be flat
    bounds: inv.Bounds
    stuck_samples: int


@dataclass
class Timeline:
    start: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.start

    def note(self, text: str) -> None:
        self.events.append((round(self.now(), 1), text))
        log.info("%6.1f s  %s", self.now(), text)


class Soak:
    def __init__(self, plan: Plan, out: Path) -> None:
        self.plan, self.out = plan, out
        self.sim_port, self.proxy_port = free_port(), free_port()
        self.config, self.settings = write_centre(
            out, centre(out, rate=plan.rate, agents=plan.agents, ami_port=self.proxy_port)
        )
        self.interfaces = {str(a.interface): a.id for a in self.settings.agents}
        self.server = Server(self.config, out / "server.log")
        self.sim = Simulator(self.config, self.sim_port, out / "simulator.log")
        self.proxy = AmiProxy(self.proxy_port, self.sim_port)
        self.timeline = Timeline()
        self.samples: list[dict[str, Any]] = []
        self.divergence: list[tuple[float, set[str], set[str]]] = []
        self.phase = "start"
        self.server_up = False
        self.cuts = 0
        self.stalls = 0
        self.traffic_end = 0.0
        self._token: str | None = None
        self._base = f"http://127.0.0.1:{self.settings.web.port}"

    # -- the server's web API -------------------------------------------------------------------
    async def _get(self, http: aiohttp.ClientSession, path: str) -> Any:
        for _ in range(2):
            if self._token is None:
                body = {"login": SUPERVISOR[0], "password": SUPERVISOR[1], "bearer": True}
                async with http.post(self._base + "/api/login", json=body, headers=CSRF) as resp:
                    resp.raise_for_status()
                    self._token = (await resp.json())["token"]
            headers = {"Authorization": f"Bearer {self._token}"}
            async with http.get(self._base + path, headers=headers) as resp:
                if resp.status == 401:  # a restarted server forgot the session
                    self._token = None
                    continue
                resp.raise_for_status()
                return await resp.json()
        raise RuntimeError(f"GET {path}: no session")

    # -- sampling ---------------------------------------------------------------------------------
    async def sample(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        row: dict[str, Any] = {key: "" for key in COLUMNS}
        row["t"] = round(self.timeline.now(), 1)
        row["phase"] = self.phase
        if self.server_up and self.server.alive:
            pid = self.server.pid
            row["server_pid"] = pid
            with contextlib.suppress(OSError):
                row["rss_kib"] = _rss_kib(pid)
                row["open_fds"] = _open_fds(pid)
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, RuntimeError):
                async with asyncio.timeout(5):
                    health = await self._get(http, "/api/health")
                row["tasks"] = health["tasks"]
                row["pbx_connected"] = int(health["pbx_connected"])
                lag = health["loop_lag"]
                row["lag_last_ms"], row["lag_p99_ms"], row["lag_max_ms"] = (
                    lag["last_ms"],
                    lag["p99_ms"],
                    lag["max_ms"],
                )
        if self.sim.alive:
            with contextlib.suppress(TimeoutError, RuntimeError, ValueError):
                stats = await self.sim.ask("stats", timeout=5)
                row["placed"], row["finished"], row["pbx_channels"] = (
                    stats["placed"],
                    stats["finished"],
                    stats["channels"],
                )
        views = await self._views(http)
        if views is not None:
            server_busy, pbx_busy = views
            row["busy_server"], row["busy_pbx"] = len(server_busy), len(pbx_busy)
            apart = sorted(server_busy ^ pbx_busy)
            row["diverged"] = len(apart)
            row["diverged_agents"] = " ".join(apart[:10])
            self.divergence.append((row["t"], server_busy, pbx_busy))
        return row

    async def _views(self, http: aiohttp.ClientSession) -> tuple[set[str], set[str]] | None:
        """Busy agents per server and per PBX, read one right after the other; None if either is down."""
        if not (self.server_up and self.server.alive and self.sim.alive):
            return None
        try:
            async with asyncio.timeout(5):
                agents = await self._get(http, "/api/agents")
                channels = await pbx_channels(self.settings.ami, self.sim_port)
        except (aiohttp.ClientError, TimeoutError, RuntimeError, OSError, asyncio.IncompleteReadError):
            return None
        return inv.busy_by_server(agents), inv.busy_by_pbx(channels, self.interfaces)

    async def sampler(
        self, http: aiohttp.ClientSession, writer: Any, file: IO[str], stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            row = await self.sample(http)
            self.samples.append(row)
            writer.writerow(row)
            file.flush()  # a long run can be followed with `tail -f`
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.plan.sample_every):
                    await stop.wait()

    # -- faults -------------------------------------------------------------------------------
    async def faults(self) -> None:
        """The fault schedule, in run time."""
        duration = self.plan.minutes * 60
        todo: list[tuple[float, str]] = [
            (self.plan.kill_at * duration, "kill"),
            (self.plan.pbx_restart_at * duration, "pbx"),
        ]
        at = self.plan.cut_every / 2
        while at < duration - 20:
            if all(abs(at - when) > 20 for when, _ in todo):
                todo.append((at, "cut"))
            at += self.plan.cut_every
        for when, what in sorted(todo):
            await asyncio.sleep(max(0.0, when - self.timeline.now()))  # the schedule, not a poll
            if what == "kill":
                await self.kill_server()
            elif what == "pbx":
                await self.restart_pbx()
            elif (self.cuts + self.stalls) % 2 == 0:
                n = self.proxy.cut()
                self.cuts += 1
                self.timeline.note(f"AMI cut ({n} connection(s) closed)")
            else:
                self.timeline.note(f"AMI stalled for {self.plan.stall:.0f} s")
                n = await self.proxy.stall(self.plan.stall)
                self.stalls += 1
                self.timeline.note(f"AMI stall over ({n} connection(s) closed)")

    async def kill_server(self) -> None:
        self.server_up = False
        code = await self.server.end(signal.SIGKILL)
        self.timeline.note(f"server killed with SIGKILL (exit {code})")
        await asyncio.sleep(2.0)  # callers meet 'no service' meanwhile
        started = time.monotonic()
        await self.server.start()
        self.server_up = True
        self.timeline.note(f"server restarted, resynchronised after {time.monotonic() - started:.1f} s")

    async def restart_pbx(self) -> None:
        code = await self.sim.end(signal.SIGKILL)
        self.timeline.note(f"PBX simulator killed with SIGKILL (exit {code}): every call cut")
        await asyncio.sleep(1.5)  # the time Asterisk takes to come back
        resynced = self.server.watch.expect("resynchronised:")
        await self.sim.start()
        self.timeline.note("PBX simulator restarted")
        async with asyncio.timeout(60):
            await resynced
        self.timeline.note("server resynchronised with the new PBX")

    # -- the run ----------------------------------------------------------------------------------
    async def run(self) -> int:
        await self.sim.start()
        await self.proxy.start()
        await self.server.start()
        self.server_up = True
        self.timeline = Timeline()
        self.timeline.note(
            f"traffic: {self.plan.rate:g} calls/s for {self.plan.minutes:g} min, {self.plan.agents} agents"
        )
        self.phase = "traffic"
        stop = asyncio.Event()
        with (self.out / "samples.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                sampling = asyncio.create_task(self.sampler(http, writer, file, stop))
                faults = asyncio.create_task(self.faults())
                await asyncio.sleep(self.plan.minutes * 60)  # the length of the run, not a poll
                await faults  # a fault under way finishes first
                self.traffic_end = self.timeline.now()
                self.phase = "drain"
                stop.set()
                await sampling
                self.timeline.note("stopping new callers")
                drained = await self.sim.ask("drain", timeout=120)
                self.timeline.note(f"every caller has hung up: {json.dumps(drained)}")
                final = await self.settle(http)
                last = await self.sample(http)
                last["phase"] = "end"
                self.samples.append(last)
                writer.writerow(last)
        self.server_up = False
        code = await self.server.end(signal.SIGINT)
        self.timeline.note(f"server stopped (exit {code})")
        rows = _call_rows(self.out / "calls.db")
        await self.sim.end(signal.SIGTERM)
        await self.proxy.stop()
        return self.report(drained, final, rows, code)

    async def settle(self, http: aiohttp.ClientSession) -> tuple[set[str], set[str]]:
        """With no callers left, the two views must agree: give the server up to 30 s to see the
        last hang-ups, then take them as they are."""
        deadline = time.monotonic() + 30
        views = await self._views(http)
        while (views is None or views[0] != views[1]) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # a bounded wait for the last events, not part of a test
            views = await self._views(http)
        if views is None:
            return {"(the server or the PBX did not answer)"}, set()
        return views

    def report(
        self,
        drained: dict[str, Any],
        final: tuple[set[str], set[str]],
        rows: list[inv.CallRow],
        stop_code: int,
    ) -> int:
        counts = self.server.watch.counts
        run = RunRecord(
            plan=self.plan,
            samples=self.samples,
            divergence=self.divergence,
            final=final,
            rows=rows,
            stop_code=stop_code,
            drained=drained,
            faults={"ami_cuts": self.cuts, "ami_stalls": self.stalls},
            log_counts={
                "ami_link_down_logged": counts.get("AMI link down", 0),
                "resynchronisations": counts.get("resynchronised:", 0),
                "tracebacks": counts.get("Traceback", 0),
                "error_lines": counts.get(" ERROR ", 0),
                "server_starts": self.server.starts,
                "pbx_starts": self.sim.starts,
            },
            events=self.timeline.events,
            traffic_end=self.traffic_end,
        )
        return write_report(run, self.out)

    async def close(self) -> None:
        await self.server.close()
        await self.sim.close()
        await self.proxy.stop()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise OSError("no VmRSS")


def _open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def _call_rows(db: Path) -> list[inv.CallRow]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [inv.CallRow(*row) for row in conn.execute("select id, ended_at, outcome from calls")]


def parse(argv: list[str] | None) -> tuple[Plan, Path]:
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    ap.add_argument("--minutes", type=float, default=30.0, help="traffic time (default 30)")
    ap.add_argument("--rate", type=float, default=20.0, help="new callers per second (default 20)")
    ap.add_argument("--agents", type=int, default=80, help="agents on office phones (default 80)")
    ap.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples")
    ap.add_argument("--cut-every", type=float, default=120.0, help="seconds between AMI cuts")
    ap.add_argument("--stall", type=float, default=5.0, help="seconds an AMI stall lasts")
    ap.add_argument("--kill-at", type=float, default=0.2, help="kill -9 the server at this fraction")
    ap.add_argument("--pbx-restart-at", type=float, default=0.4, help="crash the PBX at this fraction")
    ap.add_argument("--warmup", type=float, default=0.5, help="fraction after which memory must be flat")
    ap.add_argument("--rss-bound", type=float, default=30.0, help="RSS slope bound, MiB per hour")
    ap.add_argument("--out", type=Path, default=Path("data/soak"), help="where the CSV and logs go")
    args = ap.parse_args(argv)
    plan = Plan(
        minutes=args.minutes,
        rate=args.rate,
        agents=args.agents,
        sample_every=args.sample_every,
        cut_every=args.cut_every,
        stall=args.stall,
        kill_at=args.kill_at,
        pbx_restart_at=args.pbx_restart_at,
        warmup_until=args.warmup,
        bounds=inv.Bounds(rss_mib_per_hour=args.rss_bound),
        stuck_samples=4,
    )
    return plan, args.out


def main(argv: list[str] | None = None) -> int:
    plan, out = parse(argv)
    out = out.resolve()
    if out.exists() and any(out.iterdir()):
        print(f"{out} is not empty: give --out a new directory", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    async def go() -> int:
        soak = Soak(plan, out)
        try:
            return await soak.run()
        finally:
            await soak.close()

    return asyncio.run(go())
