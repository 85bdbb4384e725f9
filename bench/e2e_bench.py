"""End to end: callserver and the PBX simulator as separate processes over TCP, a ramp of call rates.

For each database (a fresh SQLite file, then a fresh PostgreSQL database on a private cluster
started as tests/pg.py does) three processes are started (bench/e2e_procs.py):

- the PBX simulator, listening for AMI, with the read classes asterisk/manager.conf recommends;
- callserver (`start_server`, INFO logging to a file as `callserver run` does), which logs in to
  the simulator's AMI and serves its FastAGI;
- one browser-like websocket client per agent, logged in over REST.

Then for each rate of the ramp the simulator places calls at that steady rate for WARMUP + WINDOW
seconds; everything is measured over the WINDOW. One queue, AGENTS agents, each agent phone
answers after 50 ms, the caller talks TALK seconds, no wrap-up; four callers in five are customers
from a 10,000-row customer file (so customer lookups and pops find somebody).

Per rate it prints:
- `done/s`: calls whose conversation ended in the window, per second (callers who talked to an
  agent and hung up);
- `cpu ms/call`: server process CPU (all threads, getrusage) in the window / calls that arrived in it;
- `arr->orig`: from the PBX handing the call to callserver (the simulator opens the `inbound`
  FastAGI connection) to callserver's Originate of the agent leg reaching the simulator; calls
  with no Originate by the end of the report count as infinitely late;
- `evt->pop`: from the AMI event `AGIExecEnd` of `SET VARIABLE CS_QUEUE` (the input after which
  callserver queues the call and offers it) to the `pop` frame reaching that agent's websocket;
- `lag`: the server's event-loop lag (how late a 50 ms sleep wakes, `e2e_procs.LAG_TICK`), p99 and max;
- `backlog`: facts submitted to the fact writer and not yet written, max during the window and at
  its end; `drain s`: how long the writer then takes to catch up;
- `RSS`: the server process's resident memory at the end of the window;
- `GC max`: the longest garbage collection in the server during the window (`gc.callbacks`);
  `GC ms/s`: the time spent in collections per second of the window;
  `E2E_GC_FREEZE=0` in the environment leaves out the `gc.freeze()` after start-up, and
  `E2E_GC_THRESHOLDS=a,b,c` sets the collector's thresholds after it (to compare settings).

A rate "degrades" a figure when: done/s < 95 % of the rate, cpu > 5 ms/call, arr->orig p99 > 50 ms,
evt->pop p99 > 100 ms, lag p99 > 50 ms, or the backlog at the end is more than 1 s of facts. The last
lines give, per figure, the first rate where it degrades.

Command: `.venv/bin/python -m bench.e2e_bench` (both databases, default ramp); `--rates 50,100,200`,
`--db sqlite`, `--window 15`, `--profile 100` (cProfile of the server at that rate, printed after
the table).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.machine import describe_machine, load_average

ROOT = Path(__file__).resolve().parents[1]
AGENTS = 400
TALK = 1.0
WARMUP = 4.0
WINDOW = 12.0
DRAIN = 3.0
RATES = (25, 50, 100, 150, 200, 250, 300)
CUSTOMERS = 10_000
FACTS_PER_CALL = 7


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def write_config(tmp: Path, db_url: str) -> Path:
    customers = tmp / "customers.csv"
    with customers.open("w", encoding="utf-8") as f:
        f.write("name,phones,account,language,vip,notes\n")
        for i in range(CUSTOMERS):
            f.write(f"Customer {i},+3314{i:07d},{700000 + i},fr,{'yes' if i % 10 == 0 else 'no'},\n")
    data: dict[str, Any] = {
        "site": "bench",
        "data_dir": str(tmp / "data"),
        "database": {"url": db_url},
        "customers": {"seed_file": str(customers)},
        "ami": {"host": "127.0.0.1", "port": _free_port(), "ping_interval": 5.0, "action_timeout": 10.0},
        "agi": {"host": "127.0.0.1", "port": _free_port()},
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
            for i in range(1, AGENTS + 1)
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
            "callers": {"rate_per_minute": 1, "dnis": ["500"], "max_calls": 0},
            "phones": {"answer_delay": [0.05, 0.05], "no_answer_rate": 0.0},
            "seed": 7,
        },
    }
    config = tmp / "callcentre.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


class Proc:
    """A child process spoken to in JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc, self.name = proc, name

    @classmethod
    async def start(cls, name: str, *args: str) -> Proc:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.e2e_procs",
            name,
            *args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**28,
        )
        return cls(proc, name)

    async def send(self, data: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(data) + "\n").encode())
        await self.proc.stdin.drain()

    async def read(self, timeout: float = 120.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} process ended (exit {await self.proc.wait()})")
        result: dict[str, Any] = json.loads(line)
        return result

    async def ask(self, data: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
        await self.send(data)
        return await self.read(timeout)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            try:
                await self.ask({"op": "stop"}, timeout=30)
                async with asyncio.timeout(30):
                    await self.proc.wait()
            except (TimeoutError, RuntimeError, BrokenPipeError, ConnectionResetError):
                self.proc.kill()
                await self.proc.wait()


def _proc_cpu_s(pid: int) -> float:
    """utime + stime of another process (all its threads) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_ramp(db: str, rates: list[int], window: float, profile: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    pg = None
    with tempfile.TemporaryDirectory(prefix="e2e_bench") as tmp_name:
        tmp = Path(tmp_name)
        if db == "postgres":
            from tests.pg import start_postgres

            pg = start_postgres(tmp)
            db_url = await pg.create_database()
        else:
            db_url = f"sqlite+aiosqlite:///{tmp / 'data' / 'callserver.db'}"
        config = write_config(tmp, db_url)
        sim = server = clients = None
        try:
            sim = await Proc.start("sim", str(config), str(tmp / "sim.log"))
            sim_ready = await sim.read()
            server = await Proc.start("server", str(config), str(tmp / "server.log"))
            ready = await server.read(timeout=300)
            clients = await Proc.start("clients")
            logins = [f"agent{i}" for i in range(1, AGENTS + 1)]
            await clients.send({"port": ready["web_port"], "logins": logins})
            await clients.read(timeout=300)
            for rate in rates:
                row = await _one_rate(sim, server, clients, rate, window, profile == rate)
                row.update(db=db, rate=rate, sim_pid=sim_ready["pid"])
                rows.append(row)
                print(_line(row), flush=True)
        finally:
            for proc in (clients, server, sim):
                if proc is not None:
                    await proc.stop()
            if pg is not None:
                await pg.drop_database(db_url)
                pg.stop()
    return rows


async def _one_rate(
    sim: Proc, server: Proc, clients: Proc, rate: int, window: float, profile: bool
) -> dict[str, Any]:
    await clients.ask({"op": "report"})  # forget pops from before
    await sim.ask({"op": "place", "rate": rate, "duration": WARMUP + window, "talk": TALK})
    await asyncio.sleep(WARMUP)
    t0 = time.time()
    sim_cpu0 = _proc_cpu_s(sim.proc.pid)
    await server.ask({"op": "mark", "profile": profile})
    await asyncio.sleep(window)
    t1 = time.time()
    srv = await server.ask({"op": "report"})
    sim_cpu = _proc_cpu_s(sim.proc.pid) - sim_cpu0
    load = load_average()
    await asyncio.sleep(DRAIN)
    drain = await server.ask({"op": "drain"}, timeout=600)
    pbx = await sim.ask({"op": "report", "window": [t0, t1]})
    pops = await clients.ask({"op": "report"})
    calls = pbx["calls"]
    arrived = len(calls)
    to_orig = [
        (float(c["originate"]) - float(c["arrived"])) * 1000 if "originate" in c else math.inf
        for c in calls.values()
    ]
    pop_at = {call_id: t for call_id, _agent, t in pops["pops"]}
    to_pop = [
        (pop_at[cid] - float(c["queued"])) * 1000 if cid in pop_at else math.inf
        for cid, c in calls.items()
        if "queued" in c
    ]
    wall = srv["wall_s"]
    return {
        "arrived": arrived,
        "arrival_rate": arrived / window,
        "done_per_s": pbx["completed"] / window,
        "abandoned": pbx["abandoned"],
        "cpu_ms_call": 1000 * srv["cpu_s"] / max(arrived, 1),
        "server_cpu_pct": 100 * srv["cpu_s"] / wall,
        "sim_cpu_pct": 100 * sim_cpu / window,
        "orig_p50": _pct(to_orig, 0.5),
        "orig_p99": _pct(to_orig, 0.99),
        "pop_p50": _pct(to_pop, 0.5),
        "pop_p99": _pct(to_pop, 0.99),
        "pops": sum(1 for v in to_pop if v != math.inf),
        "lag_p99": srv["lag_p99"],
        "lag_max": srv["lag_max"],
        "backlog_max": srv["backlog_max"],
        "backlog_end": srv["backlog_end"],
        "drain_s": drain["drained_s"],
        "rss_mb": srv["rss_mb"],
        "gc_max_ms": srv["gc_max_ms"],
        "gc_ms_per_s": srv["gc_total_ms"] / srv["wall_s"] if srv["wall_s"] else 0.0,
        "load": load,
        "profile": srv.get("profile"),
    }


HEADER = (
    "db        rate  arrived/s done/s  cpu ms/call  arr->orig p50/p99 ms  evt->pop p50/p99 ms"
    "  lag p99/max ms  backlog max/end  drain s  RSS MB  srv/sim CPU %  load  GC max ms  GC ms/s"
)


def _ms(v: float) -> str:
    return "   inf" if v == math.inf else f"{v:6.1f}"


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['db']:8s} {r['rate']:5d} {r['arrival_rate']:9.1f} {r['done_per_s']:6.1f}"
        f" {r['cpu_ms_call']:11.2f}"
        f"  {_ms(r['orig_p50'])} / {_ms(r['orig_p99'])}      {_ms(r['pop_p50'])} / {_ms(r['pop_p99'])}"
        f"    {r['lag_p99']:5.1f} / {r['lag_max']:6.1f}  {r['backlog_max']:7d} / {r['backlog_end']:5d}"
        f"  {r['drain_s']:7.2f} {r['rss_mb']:7.0f}  {r['server_cpu_pct']:5.0f} / {r['sim_cpu_pct']:4.0f}"
        f"  {r['load']:4.1f}  {r['gc_max_ms']:8.1f}  {r['gc_ms_per_s']:7.1f}"
    )


CRITERIA = (
    ("calls done", lambda r: r["done_per_s"] < 0.95 * r["rate"]),
    ("cpu per call", lambda r: r["cpu_ms_call"] > 5.0),
    ("arrival->Originate p99", lambda r: r["orig_p99"] > 50.0),
    ("event->pop p99", lambda r: r["pop_p99"] > 100.0),
    ("loop lag p99", lambda r: r["lag_p99"] > 50.0),
    ("writer backlog", lambda r: r["backlog_end"] > FACTS_PER_CALL * r["rate"]),
)


def degradations(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for name, bad in CRITERIA:
        first = next((r["rate"] for r in rows if bad(r)), None)
        out.append(f"{name}: " + (f"degrades at {first} calls/s" if first else "holds at every rate"))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default=",".join(map(str, RATES)))
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--window", type=float, default=WINDOW)
    parser.add_argument("--profile", type=int, help="cProfile the server at this rate")
    args = parser.parse_args(argv)
    rates = [int(r) for r in args.rates.split(",")]
    print(describe_machine())
    print(
        f"end to end: {AGENTS} agents, talk {TALK:.0f} s, {WARMUP:.0f} s warm-up + {args.window:.0f} s "
        f"measured per rate"
    )
    print(HEADER, flush=True)
    all_rows = []
    for db in args.db.split(","):
        rows = asyncio.run(run_ramp(db, rates, args.window, args.profile))
        all_rows += rows
        for line in degradations(rows):
            print(f"  {db}: {line}")
    for r in all_rows:
        if r.get("profile"):
            print(f"\ncProfile of the server, {r['db']} at {r['rate']} calls/s:\n{r['profile']}")


if __name__ == "__main__":
    main()
