"""Cost of ACD routing decisions at 100 to 5,000 agents, 50 or 200 skills, up to 20,000 waiting calls.

Run with `python -m bench.routing_bench [--quick] [--profile]`. Two decisions are timed, each as the one
public engine call in which it happens (time.perf_counter_ns around that call only):

- arrival: `call_arrived(...)` while agents are free. The engine binds the call's data into its queue's
  requirement, indexes it, and scans the free agents (longest idle first) for the first that matches.
- release: `leg_hung_up(...)` of an answered call while calls wait. The engine ends the call, frees the
  agent and picks the best waiting call across every queue the agent can serve.

Everything between two timed calls (answering the offer, hanging it up, topping the waiting calls up,
running the engine's timers, draining its facts) is untimed bookkeeping that keeps the state steady.
The workload is synthetic but shaped like a skills-based centre (see `build_world`), seeded, so two
runs on one machine see the same calls in the same order.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import pstats
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.machine import describe_machine
from callserver.acd.commands import Command, OriginateAgentLeg
from callserver.acd.engine import AcdEngine
from callserver.acd.expr import parse
from callserver.acd.model import AgentSpec, AgentStatus, CallState, QueueSpec, RoutingStep, Strategy

TARGET_P99_MS = 1.0
TARGET_RATE = 10_000  # decisions per second on one core
TARGET_AGENTS = 5_000
QUEUES = 40  # fixed, so that skills and agents are the only things that change between sizes
LANGUAGES = (("en", 0.7), ("fr", 0.2), ("de", 0.1))
VIP_SHARE = 0.1
STEP_AFTER = (0.0, 45.0, 120.0)  # seconds of waiting before each routing step applies
DT = 0.05  # virtual seconds between two events


# --- the synthetic centre ---------------------------------------------------------------------------


@dataclass(slots=True)
class World:
    queues: list[QueueSpec]
    agents: list[AgentSpec]
    requirements: list[str]  # step texts, for the record


def _agent_specs(rng: random.Random, n_agents: int, skills: list[str]) -> list[AgentSpec]:
    """3-8 random skills at random levels (1-10), plus languages: all speak English, some French/German."""
    out = []
    for i in range(n_agents):
        levels = {s: rng.randint(1, 10) for s in rng.sample(skills, rng.randint(3, 8))}
        if rng.random() < 0.3:
            levels["french"] = rng.randint(1, 10)
        if rng.random() < 0.2:
            levels["german"] = rng.randint(1, 10)
        out.append(AgentSpec(id=f"a{i:05d}", name=f"Agent {i}", endpoint=f"PJSIP/a{i:05d}", skills=levels))
    return out


_LANGUAGE_CLAUSE = '(call.language != "fr" or french >= 3) and (call.language != "de" or german >= 3)'


def _queue_specs(
    rng: random.Random, agents: list[AgentSpec], skills: list[str]
) -> tuple[list[QueueSpec], list[str]]:
    """Each queue asks `A >= n and (B >= m or C >= k)` and relaxes it over 2-3 steps.

    A and B are drawn from one agent's skills (so every queue has someone who can take its calls, as a
    configured centre would); C is any skill. VIP callers need a higher level of A at the first step.
    """
    queues, texts = [], []
    strategies = [Strategy.LONGEST_IDLE] * 6 + [Strategy.BEST_SKILL, Strategy.FEWEST_CALLS]
    for q in range(QUEUES):
        template = rng.choice([a for a in agents if len([s for s in a.skills if s in skills]) >= 2])
        own = [s for s in template.skills if s in skills]
        a, b = rng.sample(own, 2)
        c = rng.choice([s for s in skills if s not in (a, b)])
        n = rng.randint(1, template.skills[a])
        m = rng.randint(1, template.skills[b])
        k = rng.randint(3, 8)
        vip = min(10, n + 2)
        step_texts = [
            f"{a} >= {n} and ({b} >= {m} or {c} >= {k}) and (not customer.vip or {a} >= {vip})"
            f" and {_LANGUAGE_CLAUSE}",
            f"{a} >= {max(1, n - 2)} and ({b} >= 1 or {c} >= 1) and {_LANGUAGE_CLAUSE}",
            f"{a} >= 1 and {_LANGUAGE_CLAUSE}",
        ][: rng.choice((2, 3))]
        texts += step_texts
        queues.append(
            QueueSpec(
                name=f"q{q:02d}",
                steps=tuple(
                    RoutingStep(after, parse(t)) for after, t in zip(STEP_AFTER, step_texts, strict=False)
                ),
                strategy=rng.choice(strategies),
                priority=rng.choice((0, 0, 0, 5)),
                vip_priority=10,
                max_wait=math.inf,  # nobody times out during a benchmark
                ring_timeout=15.0,
            )
        )
    return queues, texts


def build_world(n_agents: int, n_skills: int, seed: int = 1) -> World:
    rng = random.Random(seed * 1_000_003 + n_agents * 7 + n_skills)
    skills = [f"skill{i:03d}" for i in range(n_skills)]
    agents = _agent_specs(rng, n_agents, skills)
    queues, texts = _queue_specs(rng, agents, skills)
    return World(queues, agents, texts)


def _call_data(rng: random.Random) -> dict[str, object]:
    x, language = rng.random(), "en"
    for code, share in LANGUAGES:
        if x < share:
            language = code
            break
        x -= share
    data: dict[str, object] = {"call.language": language}
    if rng.random() < VIP_SHARE:
        data["customer.vip"] = True
    return data


# --- driving the engine ---------------------------------------------------------------------------


class Centre:
    """An engine plus the untimed bookkeeping of a steady centre: answering offers, new calls, timers."""

    def __init__(self, world: World, seed: int = 7) -> None:
        self.engine = AcdEngine(world.queues, world.agents, seed=seed)
        self.rng = random.Random(seed)
        self.queue_names = [q.name for q in world.queues]
        self.now = 100_000.0
        self.seq = 0
        self.connected: dict[str, str] = {}  # agent id -> answered leg id

    def tick(self) -> None:
        self.now += DT

    def new_call(self, *, arrived_at: float | None = None) -> tuple[str, dict]:
        self.seq += 1
        cid = f"c{self.seq}"
        kwargs = dict(
            channel=f"PJSIP/trunk-{self.seq:08x}",
            caller_num=f"+3360{self.seq:07d}",
            caller_name="",
            dnis="3900",
            queue=self.rng.choice(self.queue_names),
            now=self.now,
            data=_call_data(self.rng),
        )
        if arrived_at is not None:
            kwargs["arrived_at"] = arrived_at
        return cid, kwargs

    def answer(self, commands: list[Command]) -> int:
        """The agents pick up every offer; returns how many offers there were."""
        offers = [c for c in commands if isinstance(c, OriginateAgentLeg)]
        for offer in offers:
            self.engine.leg_answered(offer.leg_id, self.now)
            self.connected[offer.agent_id] = offer.leg_id
        return len(offers)

    def arrive(self, **kw: float) -> int:
        cid, kwargs = self.new_call(**kw)
        return self.answer(self.engine.call_arrived(cid, **kwargs))

    def waiting(self) -> int:
        return sum(b.size for b in self.engine.router.buckets.values())

    def housekeeping(self) -> None:
        self.answer(self.engine.on_timer(self.now))
        self.engine.pop_facts()


def _offered(commands: list[Command]) -> bool:
    return any(isinstance(c, OriginateAgentLeg) for c in commands)


@dataclass(slots=True)
class Result:
    kind: str
    agents: int
    skills: int
    waiting: int
    samples: list[int]  # ns per engine call, wall clock (perf_counter_ns)
    cpu: list[int]  # ns per engine call, this thread's CPU time (thread_time_ns): no preemption
    hits: int  # how many of those calls offered a call to an agent
    setup_s: float
    buckets: int
    free: int
    note: str = ""

    def pct(self, q: float, cpu: bool = False) -> float:
        ordered = sorted(self.cpu if cpu else self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6

    @property
    def rate(self) -> float:
        return len(self.samples) / (sum(self.samples) / 1e9)

    @property
    def mean_us(self) -> float:
        return sum(self.samples) / len(self.samples) / 1e3


def bench_arrival(centre: Centre, world: World, n_samples: int, warmup: int) -> Result:
    """Decision (a): a call arrives while agents are free; no call is left waiting between samples."""
    t0 = time.perf_counter()
    engine = centre.engine
    for spec in world.agents:
        engine.set_status(spec.id, AgentStatus.AVAILABLE, centre.now)
    setup = time.perf_counter() - t0
    samples: list[int] = []
    hits = 0
    offered_ns: list[int] = []
    waited_ns: list[int] = []
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    cpu: list[int] = []
    # warm-up first sees every (queue, language, VIP) kind once: the engine computes who is eligible
    # for a requirement the first time it meets it (O(agents)), then keeps it
    kinds = [
        (q, {"call.language": lang, **({"customer.vip": True} if vip else {})})
        for q in centre.queue_names
        for lang, _ in LANGUAGES
        for vip in (False, True)
    ]
    for i in range(len(kinds) + warmup + n_samples):
        centre.tick()
        cid, kwargs = centre.new_call()
        if i < len(kinds):
            kwargs["queue"], kwargs["data"] = kinds[i]
        i -= len(kinds)
        c = cpu_clock()
        t = clock()
        commands = engine.call_arrived(cid, **kwargs)
        elapsed = clock() - t
        used = cpu_clock() - c
        if i >= warmup:
            samples.append(elapsed)
            cpu.append(used)
            hits += _offered(commands)
            (offered_ns if _offered(commands) else waited_ns).append(elapsed)
        # untimed: the agent answers and the call ends at once, so the agent goes back to the free list
        offers = [c for c in commands if isinstance(c, OriginateAgentLeg)]
        for offer in offers:
            engine.leg_answered(offer.leg_id, centre.now)
            engine.leg_hung_up(offer.leg_id, centre.now)
        if not offers:
            engine.caller_hung_up(cid, centre.now)
        engine.pop_facts()
    return Result(
        "arrival", len(world.agents), _n_skills(world), 0, samples, cpu, hits, setup,
        len(engine.router.buckets), len(engine.router.free),
        f"offered: p50 {_p(offered_ns, 0.5)} p99 {_p(offered_ns, 0.99)} us; "
        f"nobody free matched (call waits): p50 {_p(waited_ns, 0.5)} p99 {_p(waited_ns, 0.99)} us",
    )  # fmt: skip


def _p(values: list[int], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e3:.0f}"


def load(centre: Centre, n_waiting: int) -> None:
    """Bring the centre to `n_waiting` waiting calls with every agent who can take one on a call.

    The first calls have waited 0-5 minutes (their routing steps relaxed where due); the agents log in
    (if they have not) and take what they can; new callers then top the queue up."""
    engine = centre.engine
    for agent in list(engine.agents.values()):
        if agent.status is not AgentStatus.AVAILABLE:
            centre.answer(engine.set_status(agent.id, AgentStatus.AVAILABLE, centre.now))
    if not centre.connected:
        budget = n_waiting + len(engine.agents)
        while budget > 0 and centre.waiting() < n_waiting:
            centre.arrive(arrived_at=centre.now - centre.rng.uniform(0, 300))
            budget -= 1
        centre.answer(engine.on_timer(centre.now))
    while centre.waiting() < n_waiting:
        centre.arrive()
    engine.pop_facts()


def bench_release(centre: Centre, world: World, n_waiting: int, n_samples: int, warmup: int) -> Result:
    """Decision (b): an agent hangs up while `n_waiting` calls wait; they take the best waiting call."""
    t0 = time.perf_counter()
    engine = centre.engine
    n_agents = len(world.agents)
    load(centre, n_waiting)
    setup = time.perf_counter() - t0
    samples: list[int] = []
    hits = 0
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns
    cpu: list[int] = []
    busy: list[str] = []
    i = 0
    while i < warmup + n_samples:
        centre.tick()
        if not busy:
            busy = list(centre.connected)
            centre.rng.shuffle(busy)
        agent_id = busy.pop()
        leg_id = centre.connected.pop(agent_id, None)
        if leg_id is None:
            continue
        c = cpu_clock()
        t = clock()
        commands = engine.leg_hung_up(leg_id, centre.now)
        elapsed = clock() - t
        used = cpu_clock() - c
        if i >= warmup:
            samples.append(elapsed)
            cpu.append(used)
            hits += _offered(commands)
        i += 1
        # untimed: the agent answers the new call, a new caller replaces it, timers run
        centre.answer(commands)
        while centre.waiting() < n_waiting:
            centre.arrive()
        if i % 16 == 0:
            centre.housekeeping()
        else:
            engine.pop_facts()
    return Result(
        "release", n_agents, _n_skills(world), n_waiting, samples, cpu, hits, setup,
        len(engine.router.buckets), len(engine.router.free),
    )  # fmt: skip


def _n_skills(world: World) -> int:
    return len({s for a in world.agents for s in a.skills} - {"french", "german"})


# --- configurations ---------------------------------------------------------------------------------

AGENTS = (100, 1_000, 5_000)
SKILLS = (50, 200)
WAITING = (1_000, 20_000)


def configurations(quick: bool) -> list[tuple[int, int, tuple[int, ...]]]:
    """(agents, skills, waiting sizes). Every agents x skills is timed for arrivals (with no call
    waiting: a waiting call the free agents could take would have been offered already), then for
    releases at each waiting size, on the same engine (the queue is topped up from 1,000 to 20,000).
    --quick keeps the two ends."""
    if quick:
        return [(100, 50, (1_000,)), (1_000, 200, (1_000,))]
    return [(a, s, WAITING) for s in SKILLS for a in AGENTS]


def _row(r: Result) -> str:
    wall = "ok" if r.pct(0.99) < TARGET_P99_MS and r.rate > TARGET_RATE else "MISSED"
    on_cpu = (
        "ok"
        if r.pct(0.99, True) < TARGET_P99_MS and len(r.cpu) / (sum(r.cpu) / 1e9) > TARGET_RATE
        else "MISSED"
    )
    ok = f"wall {wall}, cpu {on_cpu}"
    verdict = ok if r.agents == TARGET_AGENTS else ""
    return (
        f"{r.kind:8} {r.agents:>6} {r.skills:>6} {r.waiting:>7} {len(r.samples):>7} {r.rate:>10,.0f} "
        f"{r.mean_us:>8.1f} {r.pct(0.5) * 1000:>8.1f} {r.pct(0.99) * 1000:>8.1f} {r.pct(0.999) * 1000:>9.1f} "
        f"{max(r.samples) / 1e3:>8.0f} {r.pct(0.5, True) * 1000:>7.1f} {r.pct(0.99, True) * 1000:>7.1f} "
        f"{len(r.cpu) / (sum(r.cpu) / 1e9):>9,.0f} {100 * r.hits / len(r.samples):>5.0f}% "
        f"{r.buckets:>7} {r.free:>5} "
        f"{r.setup_s:>7.1f} {verdict}"
    )


HEADER = (
    f"{'decision':8} {'agents':>6} {'skills':>6} {'waiting':>7} {'samples':>7} {'per sec':>10} "
    f"{'mean us':>8} {'p50 us':>8} {'p99 us':>8} {'p99.9 us':>9} {'max us':>8} "
    f"{'cpu p50':>7} {'cpu p99':>7} {'cpu /sec':>9} {'offer':>6} "
    f"{'buckets':>7} {'free':>5} {'setup s':>7} target"
)


def _ratios(results: list[Result]) -> None:
    """How cost grows along each axis: ratio of mean latency between sizes, the others held fixed."""
    by_key = {(r.kind, r.agents, r.skills, r.waiting): r for r in results}
    print("\nscaling (ratio of mean latency; p99 ratio in brackets)")
    for (kind, agents, skills, waiting), r in sorted(by_key.items()):
        for axis, other in (
            ("agents x10", (kind, agents * 10, skills, waiting)),
            ("agents x5", (kind, agents * 5, skills, waiting)),
            ("skills x4", (kind, agents, skills * 4, waiting)),
            ("waiting x20", (kind, agents, skills, waiting * 20)),
        ):
            o = by_key.get(other)
            if o is None or o is r:
                continue
            print(
                f"  {kind:8} {axis:11} from {agents}a/{skills}s/{waiting}w: "
                f"{o.mean_us / r.mean_us:5.2f}x  [{o.pct(0.99) / r.pct(0.99):5.2f}x]"
            )


def run(quick: bool = False) -> list[Result]:
    n_samples, warmup = (1_500, 300) if quick else (3_000, 500)
    print(
        f"routing decisions: {QUEUES} queues, {n_samples} timed engine calls per row after {warmup} warm-up; "
        f"targets at {TARGET_AGENTS} agents: p99 < {TARGET_P99_MS} ms and > {TARGET_RATE:,} decisions/s"
    )
    results: list[Result] = []
    builds: list[str] = []
    print(HEADER)
    for agents, skills, waits in configurations(quick):
        world = build_world(agents, skills)
        t = time.perf_counter()
        centre = Centre(world)
        builds.append(f"{agents} agents / {skills} skills: {time.perf_counter() - t:.2f} s")
        results.append(bench_arrival(centre, world, n_samples, warmup))
        print(_row(results[-1]), flush=True)
        print(f"{'':8} {results[-1].note}")
        for waiting in waits:
            results.append(bench_release(centre, world, waiting, n_samples, warmup))
            print(_row(results[-1]), flush=True)
    print("\nengine construction (AcdEngine(queues, agents)): " + "; ".join(builds))
    _ratios(results)
    return results


# --- memory and profile -----------------------------------------------------------------------------


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _build_loaded(agents: int, skills: int, waiting: int) -> Centre:
    centre = Centre(build_world(agents, skills))
    load(centre, waiting)
    return centre


def memory_child(agents: int, skills: int, waiting: int) -> dict[str, float]:
    """In a fresh interpreter: RSS of the loaded centre, then the tracemalloc peak of building it again."""
    gc.collect()
    base = _rss_kb()
    centre = _build_loaded(agents, skills, waiting)
    gc.collect()
    loaded = _rss_kb()
    calls = len(centre.engine.calls)
    connected = sum(1 for c in centre.engine.calls.values() if c.state is CallState.CONNECTED)
    del centre
    gc.collect()
    tracemalloc.start()
    centre = _build_loaded(agents, skills, waiting)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rss_base_mb": base / 1024,
        "rss_loaded_mb": loaded / 1024,
        "rss_hwm_mb": _hwm_kb() / 1024,
        "traced_current_mb": current / 2**20,
        "traced_peak_mb": peak / 2**20,
        "calls": calls,
        "connected": connected,
        "waiting": centre.waiting(),
    }


def memory(agents: int = 5_000, skills: int = 200, waiting: int = 20_000) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.routing_bench", "--memory-child", f"{agents},{skills},{waiting}"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    m = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"\nmemory at {agents} agents, {skills} skills, {m['waiting']} waiting"
        f" + {m['connected']} connected calls "
        f"(fresh interpreter):\n"
        f"  RSS {m['rss_base_mb']:.1f} MB before, {m['rss_loaded_mb']:.1f} MB loaded "
        f"(+{m['rss_loaded_mb'] - m['rss_base_mb']:.1f} MB), high-water {m['rss_hwm_mb']:.1f} MB\n"
        f"  tracemalloc: {m['traced_current_mb']:.1f} MB held,"
        f" {m['traced_peak_mb']:.1f} MB peak while building"
    )


def profile(kind: str, agents: int, skills: int, waiting: int, n_samples: int = 3_000, top: int = 18) -> None:
    world = build_world(agents, skills)
    centre = Centre(world)
    if kind == "release":
        load(centre, waiting)
    bench: Callable[[], Result]
    if kind == "arrival":
        bench = lambda: bench_arrival(centre, world, n_samples, 0)  # noqa: E731
    else:
        bench = lambda: bench_release(centre, world, waiting, n_samples, 0)  # noqa: E731
    prof = cProfile.Profile()
    prof.enable()
    bench()
    prof.disable()
    print(
        f"\ncProfile, {kind} at {agents} agents / {skills} skills / {waiting} waiting "
        f"({n_samples} decisions with the untimed bookkeeping around them), by tottime:"
    )
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.routing_bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few sizes, fewer samples (under 30 s)")
    ap.add_argument("--profile", action="store_true", help="also cProfile both decisions at the largest size")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    print(describe_machine())  # the load and library versions behind every figure below
    if args.memory_child:
        agents, skills, waiting = (int(x) for x in args.memory_child.split(","))
        print(json.dumps(memory_child(agents, skills, waiting)))
        return
    t = time.perf_counter()
    run(quick=args.quick)
    if args.quick:
        memory(1_000, 200, 1_000)
    else:
        memory()
    if args.profile:
        profile("arrival", 5_000, 200, 0)
        profile("release", 5_000, 200, 20_000)
    print(f"\nrouting bench took {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
