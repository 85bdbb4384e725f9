"""Screen-pop latency over the live websocket, with the PBX simulator driving real calls.

For each size N (100, 1,000, 2,000 agents) a fresh process runs the server and the PBX simulator
in one event loop (`start_server(settings)` + `PbxSimulator`, talking over loopback AMI/FastAGI as
in production). A second process (this module with `--clients`) logs every agent in over the REST
API (`POST /api/login`, bearer token) and holds one `/api/live` websocket per agent; keeping the
clients out of the server process keeps their CPU out of the server's figures and keeps the
receiving side's event loop idle, so the time of receipt is not delayed behind server work.

Calls are placed at a steady rate (20/s), every agent phone answers after 50 ms, talk time 1 s, no
wrap-up, so agents free up and every offer is made on the call's arrival (the inbound FastAGI
script's `SET VARIABLE CS_QUEUE` reply, after which the engine decides synchronously).

Latency of a pop = client `time.time()` when the `pop` frame arrives - `CallOffered.at` (the
engine's `time.time()` when it decided the offer), same machine, same clock. Separately,
input -> fact = `CallOffered.at` - simulator `time.time()` when it emitted `AGIExecEnd` for that
reply (just before writing it to the socket): the server's reaction to the PBX input.

Server CPU = `time.process_time()` delta of the server process over the measured window / wall time
(100 % = one core); it includes the simulator, which runs in the same process, and the server's
threads (aiosqlite, argon2). RSS = VmRSS of that process at the end of the window.

Setup: agents are configured without a password (so `sync_config` does not hash 2,000 passwords
at start-up, ~0.1 s each here) and the bench then stores one shared argon2id hash made with minimal
cost parameters in the agents table, so the REST logins exercise the real path without 2,000 full
argon2 verifications. The cost of one verification with the server's default parameters is
measured and printed.

Command: `.venv/bin/python -m bench.ws_bench` (add `--sizes 100` for one size, `--profile` to
cProfile the server process during the measured window).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import logging
import os
import pstats
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.logins import bearer_login
from bench.machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench password"
RATE = 20.0  # calls per second
WARMUP = 3.0  # seconds of traffic before the measured window
WINDOW = 20.0  # measured seconds
DRAIN = 2.0  # seconds after the window for the last pops to arrive
TALK = 1.0
ANSWER_DELAY = 0.05
TARGET_P99_MS = 50.0
TARGET_AGENTS = 2000


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the websocket clients (separate process) ------------------------------------------------------


async def _clients_main() -> None:
    import aiohttp

    _raise_fd_limit()
    conf = json.loads(await asyncio.to_thread(sys.stdin.readline))
    base = f"http://127.0.0.1:{conf['port']}"
    pops: list[tuple[str, str, float]] = []
    received = 0
    t_setup = time.time()
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
    sem = asyncio.Semaphore(64)
    tokens: dict[str, str] = {}

    async def login(name: str) -> None:
        async with sem:
            tokens[name] = await bearer_login(session, base, name, PASSWORD)

    await asyncio.gather(*(login(n) for n in conf["logins"]))
    t_logins = time.time() - t_setup

    ready: list[asyncio.Future[None]] = []

    async def follow(name: str, ready_fut: asyncio.Future[None]) -> None:
        nonlocal received
        async with sem:
            ws = await session.ws_connect(
                f"{base}/api/live", headers={"Authorization": f"Bearer {tokens[name]}"}, heartbeat=None
            )
        try:
            seen = 0
            async for msg in ws:
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                t = time.time()
                data = json.loads(msg.data)
                kind = data["type"]
                if kind == "pop":
                    pops.append((data["data"]["call_id"], data["data"]["agent_id"], t))
                elif kind == "ping":
                    await ws.send_json({"type": "pong", "data": {}})
                received += 1
                seen += 1
                if seen == 2 and not ready_fut.done():  # hello + snapshot
                    ready_fut.set_result(None)
        finally:
            if not ready_fut.done():
                ready_fut.set_exception(RuntimeError(f"{name}: websocket closed during setup"))
            await ws.close()

    loop = asyncio.get_running_loop()
    tasks = []
    for name in conf["logins"]:
        fut: asyncio.Future[None] = loop.create_future()
        ready.append(fut)
        tasks.append(asyncio.create_task(follow(name, fut)))
    await asyncio.gather(*ready)
    setup = time.time() - t_setup
    print(json.dumps({"ready": True, "setup_s": setup, "logins_s": t_logins}), flush=True)

    cpu0 = wall0 = 0.0
    while True:
        line = (await asyncio.to_thread(sys.stdin.readline)).strip()
        if line == "mark":
            cpu0, wall0 = time.process_time(), time.time()
        elif line in ("stop", ""):
            break
    cpu = time.process_time() - cpu0
    wall = time.time() - wall0
    print(
        json.dumps({"pops": pops, "cpu_pct": 100 * cpu / wall if wall else 0.0, "messages": received}),
        flush=True,
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await session.close()


# --- one size: server + simulator in this process ---------------------------------------------------


def _settings(tmp: Path, agents: int) -> Any:
    from callserver.config import parse_settings
    from tests.helpers import free_port

    data: dict[str, Any] = {
        "site": "bench",
        "data_dir": str(tmp / "data"),
        "ami": {"host": "127.0.0.1", "port": free_port(), "ping_interval": 5.0, "action_timeout": 5.0},
        "agi": {"host": "127.0.0.1", "port": free_port()},
        "web": {"host": "127.0.0.1", "port": 0},
        "acd": {"no_answer_resume": 0.5, "accept_timeout": 5.0},
        "skills": ["support"],
        "agents": [
            {
                "id": f"agent{i}",
                "name": f"Agent {i}",
                "login": f"agent{i}",
                "interface": f"PJSIP/{10000 + i}",
                "skills": {"support": 5},
                "start_available": True,
            }
            for i in range(1, agents + 1)
        ],
        "queues": [
            {
                "name": "support",
                "dnis": ["500"],
                "skills": ["support"],
                "max_wait": 60.0,
                "ring_timeout": 5.0,
                "wrapup": 0.0,
                "on_timeout": {"message": "vm-goodbye"},
            }
        ],
        "simulator": {
            "dialplan": [str(ROOT / "asterisk" / "extensions_callserver.conf")],
            "callers": {
                "rate_per_minute": 1,
                "numbers": ["+33140000001"],
                "dnis": ["500"],
                "patience": [60.0, 60.0],
                "talk_time": [TALK, TALK],
                "max_calls": 0,
            },
            "phones": {"answer_delay": [ANSWER_DELAY, ANSWER_DELAY], "no_answer_rate": 0.0},
            "seed": 7,
        },
    }
    return parse_settings(data, "<ws bench settings>", env={})


def _store_weak_hash(db: Path) -> None:
    """One shared argon2id hash with minimal cost for every agent (see the module docstring)."""
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("UPDATE agents SET password_hash = ?", (weak,))


async def _run_size(agents: int, profile: bool) -> dict[str, Any]:
    from callserver.app import start_server
    from callserver.facts.model import CallOffered
    from callserver.sim import PbxSimulator

    _raise_fd_limit()
    result: dict[str, Any] = {"agents": agents}
    with tempfile.TemporaryDirectory(prefix="ws_bench") as tmp_name:
        tmp = Path(tmp_name)
        settings = _settings(tmp, agents)
        t0 = time.time()
        sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
        await sim.start()
        server = await start_server(settings)
        async with asyncio.timeout(30):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        await server.writer.flush()
        # in a thread: the server's own writer must be free to finish a transaction meanwhile
        await asyncio.to_thread(_store_weak_hash, tmp / "data" / "callserver.db")
        result["server_start_s"] = time.time() - t0

        offers: dict[tuple[str, str], float] = {}
        inputs: dict[str, float] = {}  # call id -> simulator time of the AGI reply that queues it
        offer_input: list[float] = []

        def on_fact(fact: object) -> None:
            if isinstance(fact, CallOffered):
                offers[(fact.call_id, fact.agent_id)] = fact.at
                t_in = inputs.pop(fact.call_id, None)
                if t_in is not None and window[0] <= fact.at < window[1]:
                    offer_input.append(fact.at - t_in)

        def on_pbx(msg: list[tuple[str, str]]) -> None:
            if msg[0] == ("Event", "AGIExecEnd"):
                fields = dict(msg)
                if fields.get("Command", "").startswith("SET VARIABLE CS_QUEUE "):
                    inputs[fields["Uniqueid"]] = time.time()

        window = [float("inf"), float("inf")]
        server.bus.subscribe(on_fact)
        assert sim.rt is not None
        sim.rt.pbx.listeners.insert(0, on_pbx)

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.ws_bench",
            "--clients",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            limit=2**26,
        )
        assert proc.stdin is not None and proc.stdout is not None
        logins = [a.login for a in settings.agents]
        proc.stdin.write((json.dumps({"port": server.web_port, "logins": logins}) + "\n").encode())
        await proc.stdin.drain()
        async with asyncio.timeout(180):
            ready = json.loads(await proc.stdout.readline())
        result["setup_s"] = ready["setup_s"]
        result["logins_s"] = ready["logins_s"]

        loop = asyncio.get_running_loop()
        lags: list[float] = []
        stalls = [0.0, 0.0]  # over 5 ms sleeps that overshot by > 20 ms: wall s, loop-thread CPU s

        async def lag_monitor() -> None:
            # how late a 5 ms sleep wakes up: how long the server's event loop was busy elsewhere,
            # and how much of that the loop thread spent on the CPU (the rest: descheduled or GIL)
            while True:
                t, c = loop.time(), time.thread_time()
                await asyncio.sleep(0.005)
                if window[0] <= time.time() < window[1]:
                    lag = loop.time() - t - 0.005
                    lags.append(lag * 1000)
                    if lag > 0.020:
                        stalls[0] += lag + 0.005
                        stalls[1] += time.thread_time() - c

        gc_pauses: list[float] = []
        gc_start = [0.0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_start[0] = time.perf_counter()
            elif window[0] <= time.time() < window[1]:
                gc_pauses.append((time.perf_counter() - gc_start[0]) * 1000)

        gc.callbacks.append(on_gc)

        monitor = asyncio.create_task(lag_monitor())
        placed = 0
        profiler = cProfile.Profile() if profile else None
        start = loop.time()
        warm_end = start + WARMUP
        end = warm_end + WINDOW
        cpu0 = wall0 = 0.0
        marked = False
        while True:
            now = loop.time()
            if not marked and now >= warm_end:
                marked = True
                proc.stdin.write(b"mark\n")
                window[0] = time.time()
                cpu0, wall0 = time.process_time(), time.time()
                if profiler is not None:
                    profiler.enable()
            if now >= end:
                break
            sim.place_call(f"+3319{placed:07d}", "500", patience=60.0, talk_time=TALK)
            placed += 1
            await asyncio.sleep(max(0.0, start + placed / RATE - loop.time()))
        window[1] = time.time()
        cpu = time.process_time() - cpu0
        wall = time.time() - wall0
        if profiler is not None:
            profiler.disable()
        result["rss_mb"] = _rss_mb()
        result["cpu_pct"] = 100 * cpu / wall
        await asyncio.sleep(DRAIN)
        monitor.cancel()
        proc.stdin.write(b"stop\n")
        await proc.stdin.drain()
        async with asyncio.timeout(60):
            report = json.loads(await proc.stdout.readline())
            await proc.wait()

        in_window = {k: at for k, at in offers.items() if window[0] <= at < window[1]}
        latencies = []
        timeline = []
        for call_id, agent_id, t in report["pops"]:
            at = in_window.get((call_id, agent_id))
            if at is not None:
                latencies.append((t - at) * 1000)
                timeline.append((at - window[0], (t - at) * 1000))
        timeline.sort(key=lambda x: -x[1])
        result.update(
            placed=placed,
            offered=len(in_window),
            pops=len(latencies),
            p50=_pct(latencies, 0.50),
            p99=_pct(latencies, 0.99),
            max=max(latencies, default=float("nan")),
            mean=statistics.fmean(latencies) if latencies else float("nan"),
            input_p50=_pct([d * 1000 for d in offer_input], 0.50),
            input_p99=_pct([d * 1000 for d in offer_input], 0.99),
            input_n=len(offer_input),
            client_cpu_pct=report["cpu_pct"],
            client_messages=report["messages"],
            lag_p50=_pct(lags, 0.50),
            lag_p99=_pct(lags, 0.99),
            lag_max=max(lags, default=float("nan")),
            stall_s=stalls[0],
            stall_cpu_s=stalls[1],
            gc_n=len(gc_pauses),
            gc_total_ms=sum(gc_pauses),
            gc_max_ms=max(gc_pauses, default=0.0),
            load=os.getloadavg()[0],
            slowest=[(round(a, 2), round(ms, 1)) for a, ms in timeline[:12]],
        )
        if profiler is not None:
            result["profile"] = _profile_text(profiler)
        sim.stop_traffic()
        await server.stop()
        await sim.stop()
    return result


def _profile_text(profiler: cProfile.Profile) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)
    by_area: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, _func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tt
        if "/callserver/sim/" in filename:
            area = "callserver.sim (simulator)"
        elif "/callserver/" in filename:
            area = "callserver (server)"
        elif "aiohttp" in filename:
            area = "aiohttp"
        elif "sqlalchemy" in filename or "aiosqlite" in filename:
            area = "sqlalchemy/aiosqlite"
        elif "asyncio" in filename or "selectors" in filename:
            area = "asyncio"
        elif filename.startswith("~") or filename.startswith("<"):
            area = "builtins"
        else:
            area = "other"
        by_area[area] += tt
    out.write("main-thread time by area (tottime):\n")
    for area, tt in sorted(by_area.items(), key=lambda kv: -kv[1]):
        out.write(f"  {area:30s} {tt:7.2f} s  {100 * tt / total:5.1f} %\n")
    return out.getvalue()


# --- driver ---------------------------------------------------------------------------------------


def _argon2_verify_ms() -> float:
    from argon2 import PasswordHasher

    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    t = time.perf_counter()
    hasher.verify(stored, PASSWORD)
    return (time.perf_counter() - t) * 1000


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"screen-pop latency over /api/live: {RATE:.0f} calls/s, {WARMUP:.0f} s warm-up, "
        f"{WINDOW:.0f} s measured; target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_AGENTS} agents"
    )
    print(
        "agents offered   pops  p50 ms  p99 ms  max ms  in->fact p50/p99 ms  server CPU %  RSS MB"
        "  client CPU %  setup s  target"
    )
    for r in rows:
        target = ""
        if r["agents"] == TARGET_AGENTS:
            target = "ok" if r["p99"] < TARGET_P99_MS else "MISSED"
        print(
            f"{r['agents']:6d} {r['offered']:7d} {r['pops']:6d} {r['p50']:7.1f} {r['p99']:7.1f} "
            f"{r['max']:7.1f} {r['input_p50']:9.2f} / {r['input_p99']:6.2f}   {r['cpu_pct']:11.1f} "
            f"{r['rss_mb']:7.0f} {r['client_cpu_pct']:13.1f} {r['setup_s']:8.1f}  {target}"
        )
    for r in rows:
        print(
            f"  {r['agents']} agents: placed {r['placed']} calls in all; server+simulator start "
            f"{r['server_start_s']:.1f} s; {r['agents']} logins {r['logins_s']:.1f} s, then websockets "
            f"(setup {r['setup_s']:.1f} s in all); {r['input_n']} offers timed from the AGI input"
        )
        print(
            f"    server event-loop lag (5 ms sleep overshoot) p50 {r['lag_p50']:.1f} ms, "
            f"p99 {r['lag_p99']:.1f} ms, max {r['lag_max']:.1f} ms; "
            f"client messages {r['client_messages']}"
        )
        print(
            f"    stalls over 20 ms: {r['stall_s']:.2f} s wall, of which loop thread on CPU "
            f"{r['stall_cpu_s']:.2f} s; GC {r['gc_n']} runs, {r['gc_total_ms']:.0f} ms in all, "
            f"max {r['gc_max_ms']:.1f} ms; load average {r['load']:.1f}"
        )
        slowest = ", ".join(f"{a}:{ms}" for a, ms in r["slowest"])
        print(f"    slowest pops (offer time in window s: ms): {slowest}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,2000")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size's window")
    parser.add_argument("--clients", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.clients:
        asyncio.run(_clients_main())
        return
    if args.size is not None:
        print(json.dumps(asyncio.run(_run_size(args.size, args.profile))), flush=True)
        return
    import subprocess

    print(describe_machine())  # the load and library versions behind every figure below
    print(f"one argon2 verification with the server's default parameters: {_argon2_verify_ms():.0f} ms")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    t_all = time.time()
    for n in sizes:
        cmd = [sys.executable, "-m", "bench.ws_bench", "--size", str(n)]
        if args.profile and n == max(sizes):
            cmd.append("--profile")
        out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, check=True, text=True, timeout=240)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    _print_table(rows)
    load = os.getloadavg()[0]
    print(f"whole run {time.time() - t_all:.0f} s, load average {load:.1f} on {os.cpu_count()} CPUs")
    for r in rows:
        if "profile" in r:
            print(f"\ncProfile of the server process, {r['agents']} agents, measured window:")
            print(r["profile"])


if __name__ == "__main__":
    main()
