"""The three kinds of process the end-to-end benchmark starts (`python -m bench.e2e_procs ROLE`).

- `server`: callserver as `callserver run` starts it (`start_server`), plus what only it can measure
  about itself: event-loop lag, the fact writer's backlog, CPU time of the whole process (every
  thread), RSS, garbage-collector pauses, and optionally a cProfile of one measured window.
- `sim`: the PBX simulator alone, listening for AMI like Asterisk; it places calls at the rate it
  is told and notes, per call, when the PBX handed it to callserver (the `inbound` FastAGI
  connection), when the answer that queues it was sent (`AGIExecEnd` of `SET VARIABLE CS_QUEUE`,
  an AMI event), when callserver's Originate for the agent leg arrived, and how it ended.
- `clients`: one browser-like websocket per agent (REST login with a bearer token, `/api/live`);
  notes when each `pop` arrives.

Each reads one JSON command per line on stdin and answers one JSON line on stdout; the driver is
`bench/e2e_bench.py`. All timestamps are `time.time()` on the same machine.

`E2E_LOOP=uvloop` in the environment runs the server on uvloop instead of asyncio's own loop (uvloop
is not a dependency: `pip install uvloop` first); the loop lag is timed with `time.perf_counter()`
because uvloop's clock counts whole milliseconds. Measured in `bench/RESULTS.md`, "uvloop, measured".
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

PASSWORD = "bench password"
# The lag probe's period. Each of its wake-ups is CPU the bench adds to the server's figure: at
# 10 ms (100 wake-ups a second) an idle server used 10-20 ms of CPU a second more than at 100 ms
# (bench/RESULTS.md, "The bench's own lag probe"); 50 ms still gives 20 samples a second.
LAG_TICK = 0.050


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


def _cpu_s() -> float:
    """CPU time of this process, every thread included (aiosqlite's, asyncpg has none)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _commands() -> Any:
    """Yield the JSON commands the driver writes on stdin, one per line."""
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        yield json.loads(line)


def _answer(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


# --- server -------------------------------------------------------------------------------------


async def _weak_passwords(server: Any) -> None:
    """One shared argon2id hash with minimal cost for every agent, so 400 REST logins do not
    take a minute of argon2 (the login path itself is unchanged)."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from callserver.store.models import Agent

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    async with server.store.sessions.begin() as s:
        await s.execute(update(Agent).values(password_hash=weak))


async def server_main(config: Path, log_file: Path) -> None:
    from callserver.app import settle_garbage_collector, start_server
    from callserver.config import load_settings
    from callserver.logs import configure_logging

    _raise_fd_limit()
    configure_logging(logging.INFO, filename=str(log_file))  # as `callserver run` does
    settings = load_settings(config)
    server = await start_server(settings)
    async with asyncio.timeout(60):
        await server.service.wait_for(lambda: server.service.resyncs > 0)
    await _weak_passwords(server)
    if os.environ.get("E2E_GC_FREEZE", "1") == "1":
        settle_garbage_collector()  # as `callserver run` does
    if thresholds := os.environ.get("E2E_GC_THRESHOLDS"):  # e.g. 700,10,10 (Python's own)
        gc.set_threshold(*(int(t) for t in thresholds.split(",")))
    state: dict[str, Any] = {"on": False, "lags": [], "backlog": [], "gc": []}
    gc_start = [0.0]

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        elif state["on"]:
            state["gc"].append((time.perf_counter() - gc_start[0]) * 1000)

    gc.callbacks.append(on_gc)

    async def monitor() -> None:
        # how late a LAG_TICK sleep wakes up = how long the loop was busy with something else;
        # each wake-up is the bench's own CPU in the server's figure (see LAG_TICK)
        while True:
            t = time.perf_counter()
            await asyncio.sleep(LAG_TICK)
            if state["on"]:
                state["lags"].append((time.perf_counter() - t - LAG_TICK) * 1000)
                state["backlog"].append(server.writer.pending)

    task = asyncio.create_task(monitor())
    profiler: cProfile.Profile | None = None
    _answer({"ready": True, "web_port": server.web_port, "pid": os.getpid()})
    cpu0 = wall0 = 0.0
    async for cmd in _commands():
        op = cmd["op"]
        if op == "mark":
            state.update(on=True, lags=[], backlog=[], gc=[])
            cpu0, wall0 = _cpu_s(), time.time()
            if cmd.get("profile"):
                # on this thread's CPU clock: time spent descheduled on a shared machine is not counted
                profiler = cProfile.Profile(time.thread_time)
                profiler.enable()
            _answer({"ok": True})
        elif op == "report":
            cpu, wall = _cpu_s() - cpu0, time.time() - wall0
            if profiler is not None:
                profiler.disable()
            state["on"] = False
            lags, backlog = state["lags"], state["backlog"]
            report = {
                "cpu_s": cpu,
                "wall_s": wall,
                "lag_p50": _pct(lags, 0.5),
                "lag_p99": _pct(lags, 0.99),
                "lag_max": max(lags, default=float("nan")),
                "backlog_max": max(backlog, default=0),
                "backlog_end": server.writer.pending,
                "rss_mb": _rss_mb(),
                "gc_n": len(state["gc"]),
                "gc_max_ms": max(state["gc"], default=0.0),
                "gc_total_ms": sum(state["gc"]),
                "written": server.writer.written,
            }
            if profiler is not None:
                report["profile"] = _profile_text(profiler)
                if os.environ.get("E2E_PROFILE_DUMP"):
                    profiler.dump_stats(os.environ["E2E_PROFILE_DUMP"])
                profiler = None
            _answer(report)
        elif op == "drain":
            # how long the writer takes to catch up once arrivals stop
            t = time.time()
            pending = server.writer.pending
            await server.writer.flush()
            _answer({"drained_s": time.time() - t, "pending": pending})
        elif op == "stop":
            break
    task.cancel()
    await server.stop()
    _answer({"stopped": True})


def _profile_text(profiler: cProfile.Profile) -> str:
    from bench.ws_bench import _profile_text as by_area

    return by_area(profiler)


# --- simulator ----------------------------------------------------------------------------------


async def sim_main(config: Path, log_file: Path) -> None:
    from callserver.config import load_settings
    from callserver.sim import PbxSimulator
    from callserver.sim.traffic import CallHandle

    _raise_fd_limit()
    logging.basicConfig(filename=log_file, level=logging.WARNING)
    settings = load_settings(config)
    # the manager user's read classes that asterisk/manager.conf recommends (no dialplan class)
    sim = PbxSimulator(settings, answer_time=0.1, playback_time=0.1, manager_read="call,dtmf,system")
    await sim.start()
    assert sim.rt is not None and sim.ami is not None
    calls: dict[str, dict[str, float | str]] = {}
    rt = sim.rt
    real_agi = rt.agi

    async def agi(ch: Any, url: str) -> str:
        if url.endswith("/inbound"):
            calls.setdefault(ch.uniqueid, {})["arrived"] = time.time()
        result: str = await real_agi(ch, url)
        return result

    rt.agi = agi

    def on_pbx(msg: list[tuple[str, str]]) -> None:
        if msg[0] == ("Event", "AGIExecEnd"):
            fields = dict(msg)
            command = fields.get("Command", "")
            if command.startswith("SET VARIABLE CS_QUEUE "):  # the caller is queued
                calls.setdefault(fields["Uniqueid"], {})["queued"] = time.time()

    rt.pbx.listeners.insert(0, on_pbx)
    real_originate = sim.ami.handlers["originate"]

    async def originate(session: Any, action: dict[str, Any], aid: str | None) -> None:
        t = time.time()
        raw = action.get("Variable", [])
        for item in raw if isinstance(raw, list) else [raw]:
            if item.startswith("CS_CALL="):
                entry = calls.setdefault(item.removeprefix("CS_CALL="), {})
                entry.setdefault("originate", t)
        await real_originate(session, action, aid)

    sim.ami.handlers["originate"] = originate

    def on_done(handle: CallHandle) -> None:
        def done(_f: Any) -> None:
            entry = calls.setdefault(handle.record.uniqueid, {})
            entry["ended"] = time.time()
            entry["outcome"] = handle.record.outcome.value

        handle.done.add_done_callback(done)

    _answer({"ready": True, "ami_port": sim.ami_port, "pid": os.getpid()})
    placing: asyncio.Task[None] | None = None
    placed = 0

    async def place(rate: float, duration: float, talk: float) -> None:
        nonlocal placed
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while loop.time() - start < duration:
            # numbers cycle through the customer file so most callers are known customers
            number = f"+3314{placed % 10000:07d}" if placed % 5 else f"+3319{placed:07d}"
            on_done(sim.place_call(number, "500", patience=30.0, talk_time=talk))
            n += 1
            placed += 1
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))

    async for cmd in _commands():
        op = cmd["op"]
        if op == "place":
            placing = asyncio.create_task(place(cmd["rate"], cmd["duration"], cmd["talk"]))
            _answer({"ok": True})
        elif op == "report":
            if placing is not None:
                await placing
            t0, t1 = cmd["window"]
            # calls the PBX handed to callserver in the window, with what happened to them
            mine = {k: v for k, v in calls.items() if t0 <= float(v.get("arrived", 0.0)) < t1}
            ended = [v for v in calls.values() if t0 <= float(v.get("ended", 0.0)) < t1]
            _answer(
                {
                    "calls": mine,
                    "completed": sum(1 for v in ended if v.get("outcome") in ("completed", "agent_ended")),
                    "ended": len(ended),
                    "abandoned": sum(1 for v in ended if v.get("outcome") == "abandoned"),
                    "channels": len(rt.pbx.channels),
                    "cpu_s": _cpu_s(),
                }
            )
            for key in [k for k, v in calls.items() if "ended" in v and float(v["ended"]) < t1]:
                del calls[key]
        elif op == "stop":
            break
    sim.stop_traffic()
    await sim.stop()
    _answer({"stopped": True})


# --- websocket clients --------------------------------------------------------------------------


async def clients_main(port: int, logins: list[str]) -> None:
    import aiohttp

    from bench.logins import bearer_login

    _raise_fd_limit()
    base = f"http://127.0.0.1:{port}"
    pops: list[tuple[str, str, float]] = []
    received = 0
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
    )
    sem = asyncio.Semaphore(32)
    tokens: dict[str, str] = {}

    async def login(name: str) -> None:
        async with sem:
            tokens[name] = await bearer_login(session, base, name, PASSWORD)

    await asyncio.gather(*(login(n) for n in logins))
    loop = asyncio.get_running_loop()

    async def follow(name: str, ready: asyncio.Future[None]) -> None:
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
                if seen == 2 and not ready.done():  # hello + snapshot
                    ready.set_result(None)
        finally:
            if not ready.done():
                ready.set_exception(RuntimeError(f"{name}: websocket closed during setup"))
            await ws.close()

    futures: list[asyncio.Future[None]] = []
    tasks = []
    for name in logins:
        fut: asyncio.Future[None] = loop.create_future()
        futures.append(fut)
        tasks.append(asyncio.create_task(follow(name, fut)))
    await asyncio.gather(*futures)
    _answer({"ready": True, "pid": os.getpid()})
    async for cmd in _commands():
        if cmd["op"] == "report":
            _answer({"pops": pops, "messages": received})
            pops = []
        elif cmd["op"] == "stop":
            break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await session.close()
    _answer({"stopped": True})


def main() -> None:
    role, *args = sys.argv[1:]
    if role == "server":
        if os.environ.get("E2E_LOOP") == "uvloop":
            import uvloop

            uvloop.run(server_main(Path(args[0]), Path(args[1])))
        else:
            asyncio.run(server_main(Path(args[0]), Path(args[1])))
    elif role == "sim":
        asyncio.run(sim_main(Path(args[0]), Path(args[1])))
    elif role == "clients":
        conf = json.loads(sys.stdin.readline())
        asyncio.run(clients_main(conf["port"], conf["logins"]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
