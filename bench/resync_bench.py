"""How long the periodic resynchronisation holds the event loop with 20,000 channels.

A child process (this module with `--serve N`) is the PBX: the simulator's AMI server with N
channels waiting in `callserver-hold`, answering `CoreStatus` and `CoreShowChannels` as Asterisk 22
does, so its CPU is not in the measured loop. This process is the server side: the real `AmiLink`,
an `AcdEngine` holding N waiting calls with those uniqueids (no agent free, so nothing is offered),
the channel name index, and `Resync` running its periodic check, what `AcdService` runs every 30 s.

Three ways of running the check: `count` (as shipped, in the steady state: the channel count agrees
with the index, nothing is listed), `listing` (as shipped when the counts differ, and every tenth
check: the full listing, the loop handed back every `--budget` seconds of work by `Pacer`) and
`listing, before` (the full listing with no hand-back at all, as before the pacing existed). Each
with the default garbage collector and with the collector as `callserver run` sets it up
(`SurvivorFreezer`: everything frozen after start-up, and the survivors of each full collection).

While each run goes, a ticker coroutine wakes every millisecond and records how late it woke
(wall clock: the machine's other load included) and this thread's CPU time between two wake-ups
(the work that held the loop). The longest stretches inside Resync.run and inside
AmiLink.core_show_channels are reported by their own `Pacer`s; the rest of a stall is the AMI read
path parsing what one socket read brought (callserver/ami/protocol.py) and full garbage collections
(their longest pause is reported too).

Command: `.venv/bin/python -m bench.resync_bench` (`--channels 20000 --runs 5 --budget 0.0025`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import platform
import statistics
import sys
import time
from collections.abc import Coroutine
from typing import Any

from callserver.acd.adapter import PbxCommands
from callserver.acd.engine import AcdEngine
from callserver.acd.model import AgentSpec, QueueSpec
from callserver.acd.pbxstate import PbxState
from callserver.acd.resync import Resync
from callserver.ami.adapter import AmiLink
from callserver.collector import SurvivorFreezer
from callserver.config import AmiConfig
from callserver.pbx.channels import ChannelNames
from callserver.pbx.dialplan import Context
from callserver.pbx.events import PbxConnected, PbxEvent
from callserver.pbx.pacer import DEFAULT_BUDGET

SECRET = "bench"
TICK = 0.001


# -- the PBX, in its own process ------------------------------------------------------------------


async def serve(channels: int) -> None:
    from callserver.sim import messages as m
    from callserver.sim.ami_server import AmiServer, AmiSession
    from callserver.sim.pbx import Pbx

    pbx = Pbx()
    for i in range(channels):
        ch = pbx.new_channel(
            "PJSIP/trunk",
            caller_num=f"+3314{i:08d}",
            caller_name="",
            context=Context.HOLD,
            exten="s",
            state=6,
            uniqueid=f"1800000000.{i}",
        )
        ch.application, ch.app_data, ch.priority = "MusicOnHold", "default", 2

    async def core_show_channels(s: AmiSession, action: dict[str, str | list[str]], aid: str | None) -> None:
        listed = list(pbx.channels.values())
        s.send(m.response(aid, "Success", [("EventList", "start"), ("Message", "Channels will follow")]))
        for ch in listed:
            s.send(m.core_show_channel(ch, aid))
        s.send(m.list_complete("CoreShowChannelsComplete", aid, len(listed)))
        await s.writer.drain()

    async def core_status(s: AmiSession, action: dict[str, str | list[str]], aid: str | None) -> None:
        s.send(m.response(aid, "Success", [("CoreCurrentCalls", str(len(pbx.channels)))]))

    config = AmiConfig(port=1, secret=SECRET)
    handlers = {"coreshowchannels": core_show_channels, "corestatus": core_status}
    server = AmiServer(config, handlers, "127.0.0.1", 0)
    await server.start()
    print(server.port, flush=True)
    await asyncio.Event().wait()  # until killed by the parent


# -- the server side -------------------------------------------------------------------------------


class Ticker:
    """Wakes every TICK. `late`: how much later than asked each wake-up came (wall clock: includes
    the time the OS gave the CPU to other processes). `held`: this thread's CPU time between two
    wake-ups, i.e. the work that held the loop (the machine's other load left out)."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self.held: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + TICK
            cpu = time.thread_time()
            await asyncio.sleep(TICK)
            self.held.append(time.thread_time() - cpu)
            self.late.append(loop.time() - asked)

    def start(self) -> None:
        self.late.clear()
        self.held.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class NoFeedback:
    def leg_unreachable(self, leg_id: str) -> None: ...

    def leg_not_sent(self, leg_id: str) -> None: ...

    def leg_live(self, leg_id: str) -> bool:
        return False


class GcPauses:
    """Every garbage collection's pause while recording (gc.callbacks)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self.recording = False
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.recording:
            self.pauses.append(time.perf_counter() - self._started)


GC = GcPauses()


async def measure(
    port: int, channels: int, runs: int, budget: float, freeze: bool, listing: bool
) -> dict[str, float]:
    connected = asyncio.Event()

    def on_event(event: PbxEvent) -> None:
        if isinstance(event, PbxConnected):
            connected.set()

    config = AmiConfig(port=port, secret=SECRET, action_timeout=60.0, ping_interval=60.0)
    link = AmiLink(config, on_event, pace_budget=budget)
    await link.start()
    await asyncio.wait_for(connected.wait(), 10)
    queue = QueueSpec(name="support", skills=frozenset({"support"}), max_wait=86_400.0)
    engine = AcdEngine(
        [queue], [AgentSpec(f"a{i}", f"A{i}", f"PJSIP/{1000 + i}", {"support": 1}) for i in range(50)]
    )
    now = time.time()
    for i in range(channels):
        engine.call_arrived(
            f"1800000000.{i}",
            channel=f"PJSIP/trunk-{i:08x}",
            caller_num=f"+3314{i:08d}",
            caller_name="",
            dnis="500",
            queue="support",
            now=now,
        )
    engine.pop_facts()
    names = ChannelNames()
    tasks: set[asyncio.Task[None]] = set()

    def spawn(coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    commands = PbxCommands(link, names, NoFeedback(), time.time)
    resync = Resync(
        engine,
        link,
        names,
        commands,
        pbx_state=PbxState(),
        device_state=lambda _event: None,
        apply=lambda _commands: None,
        publish=lambda _fact: None,
        spawn=spawn,
        clock=time.time,
        pace_budget=budget,
    )
    ticker = Ticker()
    stalls, durations, p99s, gc_max, held = [], [], [], [], []
    await resync.run(periodic=True, deep=True)  # fills the name index, as the run after a connect does
    gc.collect()
    freezer = SurvivorFreezer()
    if freeze:
        freezer.install()  # what a server does once started: its long-lived objects are never scanned again
    resync.longest_stretch = resync.longest_stretch_cpu = 0.0
    resync.yields = 0
    link.longest_listing_stretch = link.longest_listing_stretch_cpu = 0.0
    for _ in range(runs):
        ticker.start()
        GC.pauses.clear()
        GC.recording = True
        started = time.perf_counter()
        await resync.run(periodic=True, deep=listing)
        durations.append(time.perf_counter() - started)
        GC.recording = False
        await asyncio.sleep(2 * TICK)  # the tick the run delayed, if any, to be recorded
        await ticker.stop()
        late = sorted(ticker.late)
        stalls.append(late[-1])
        held.append(max(ticker.held))
        p99s.append(late[min(len(late) - 1, math.ceil(0.99 * len(late)) - 1)])
        gc_max.append(max(GC.pauses, default=0.0))
    await link.stop()
    if freeze:
        freezer.uninstall()
    assert len(engine.calls) == channels, "every call must still be live: the listing has every channel"
    return {
        "max_stall_ms": max(stalls) * 1000,
        "max_held_ms": max(held) * 1000,
        "median_stall_ms": statistics.median(stalls) * 1000,
        "p99_late_ms": statistics.median(p99s) * 1000,
        "resync_stretch_ms": resync.longest_stretch * 1000,
        "resync_cpu_ms": resync.longest_stretch_cpu * 1000,
        "listing_stretch_ms": link.longest_listing_stretch * 1000,
        "listing_cpu_ms": link.longest_listing_stretch_cpu * 1000,
        "gc_max_ms": max(gc_max) * 1000,
        "run_s": statistics.median(durations),
        "yields": resync.yields / runs,
    }


COLUMNS = (
    # (heading, unit, key, width): stall = how late the 1 ms ticker woke (wall clock, machine load
    # included); held = this thread's CPU between two ticks (what held the loop); resync and listing
    # = the longest stretch between hand-backs inside Resync.run and AmiLink.core_show_channels
    ("held max", "cpu ms", "max_held_ms", 9),
    ("stall max", "wall ms", "max_stall_ms", 10),
    ("stall med", "wall ms", "median_stall_ms", 10),
    ("resync", "cpu ms", "resync_cpu_ms", 7),
    ("resync", "wall ms", "resync_stretch_ms", 8),
    ("listing", "cpu ms", "listing_cpu_ms", 8),
    ("listing", "wall ms", "listing_stretch_ms", 8),
    ("gc max", "wall ms", "gc_max_ms", 8),
    ("run", "s", "run_s", 6),
    ("yields", "", "yields", 7),
)
HEADER = "\n".join(
    f"{first:>16} {second:>8} " + " ".join(f"{col[i]:>{col[3]}}" for col in COLUMNS)
    for i, (first, second) in enumerate((("check", "gc"), ("", "")))
)


def row(label: str, gc_mode: str, r: dict[str, float]) -> str:
    cells = [
        f"{r[key]:{width}.{0 if key == 'yields' else 2 if key == 'run_s' else 1}f}"
        for _, _, key, width in COLUMNS
    ]
    return f"{label:>16} {gc_mode:>8} " + " ".join(cells)


async def main_async(channels: int, runs: int, budget: float) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.resync_bench", "--serve", str(channels), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        port = int((await asyncio.wait_for(child.stdout.readline(), 120)).decode())
        print(f"periodic resynchronisation, {channels} channels / {channels} live calls, {runs} runs each")
        print(HEADER)
        ways = (("count", budget, False), ("listing", budget, True), ("listing, before", math.inf, True))
        for label, pace, listing in ways:
            for freeze in (False, True):
                r = await measure(port, channels, runs, pace, freeze, listing)
                print(row(label, "frozen" if freeze else "default", r))
    finally:
        child.kill()
        await child.wait()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.resync_bench", description=__doc__)
    ap.add_argument("--channels", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="seconds of work between hand-backs")
    ap.add_argument("--serve", type=int, metavar="N", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve is not None:
        asyncio.run(serve(args.serve))
        return
    print(f"python {platform.python_version()} on {platform.machine()}")
    asyncio.run(main_async(args.channels, args.runs, args.budget))


if __name__ == "__main__":
    main()
