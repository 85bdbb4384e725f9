"""The offline capacity simulator: a day of Poisson traffic through the real `AcdEngine`.

A discrete-event loop on a virtual clock (a heap of events, no asyncio, no sleep) plays the PBX and
the people: callers arrive, lose patience and hang up; agents log in and out by shift, answer after
a ring delay and talk for a sampled time. The engine's own timers (wrap-up, max wait) are honoured
through `next_deadline()`. Figures come from `MetricsBook`, exactly as on the live server.
"""

from __future__ import annotations

import heapq
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..acd.commands import CancelAgentLeg, Command, OriginateAgentLeg
from ..acd.engine import AcdEngine
from ..acd.metrics import BookSnapshot, CallStats, MetricsBook
from ..acd.model import AgentSpec, AgentStatus
from ..acd.specs import queue_spec
from ..facts.model import AgentStateChanged, CallAnswered, CallEnded, Fact
from .plot import Panel, Series, render_svg
from .scenario import Scenario, ScenarioError, load_scenario

END_OF_SHIFT = "end of shift"

# event kinds, in the order they are handled when they fall on the same instant
_LEG_GONE, _TALK_END, _ANSWER, _NO_ANSWER, _ABANDON, _LOGOUT, _SHIFT_END, _SHIFT_START, _ARRIVAL = range(9)


@dataclass(frozen=True, slots=True)
class SimResult:
    scenario: Scenario
    snapshot: BookSnapshot
    calls: int
    still_waiting: int
    end: float  # virtual seconds from the start of the day
    wall_seconds: float


class _DaySim:
    """One run: the engine, the event heap and what the simulated PBX knows about legs and callers."""

    def __init__(self, scenario: Scenario, observer: Callable[[Fact], None] | None) -> None:
        self.sc = scenario
        self.observer = observer
        master = random.Random(scenario.seed)
        # one stream per purpose, so changing e.g. patience leaves the arrivals of a seed unchanged
        self.rng_arrival, self.rng_talk, self.rng_patience, self.rng_ring = (
            random.Random(master.getrandbits(64)) for _ in range(4)
        )
        self.queues = {q.name: q for q in scenario.queues}
        specs = [queue_spec(q) for q in scenario.queues]
        agents: list[AgentSpec] = []
        self.shifts: dict[str, tuple[float, float]] = {}
        start = scenario.day.start
        for g in scenario.agents:
            for i in range(g.count):
                spec = AgentSpec(id=f"{g.group}-{i + 1:03d}", name="", endpoint="", skills=dict(g.skills))
                agents.append(spec)
                self.shifts[spec.id] = (
                    max(0.0, (g.shift[0] - start) * 3600.0),
                    max(0.0, (g.shift[1] - start) * 3600.0),
                )
        self.engine = AcdEngine(specs, agents, no_answer_resume=scenario.no_answer_resume)
        serves = {a.id: [q.name for q in specs if q.served_by(a.skills)] for a in agents}
        self.book = MetricsBook(
            [q.name for q in specs],
            agent_queues=serves,
            service_time=scenario.service_time,
            short_abandon=scenario.short_abandon,
            interval=scenario.interval,
        )
        self.heap: list[tuple[float, int, int, str]] = []
        self.seq = 0
        self.now = 0.0
        self.calls = 0
        self.leg_of_call: dict[str, str] = {}
        self.dead_legs: set[str] = set()
        self.unanswered: set[str] = set()
        self.agent_idle: dict[str, bool] = {a.id: True for a in agents}
        self.leaving: set[str] = set()

    def push(self, at: float, kind: int, ident: str) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, kind, self.seq, ident))

    # -- traffic --------------------------------------------------------------------------

    def next_arrival(self, queue: str, after: float) -> float | None:
        """Next arrival of the piecewise-constant Poisson process (memoryless across intervals)."""
        q = self.queues[queue]
        length = self.sc.interval
        index = int(after // length)
        t = after
        while index < self.sc.intervals:
            rate = self.sc.rate(q, index)
            end = (index + 1) * length
            if rate > 0:
                t = t + self.rng_arrival.expovariate(rate)
                if t < end:
                    return t
            t = end
            index += 1
        return None

    def run(self) -> None:
        for agent, (login, logout) in self.shifts.items():
            self.push(login, _SHIFT_START, agent)
            self.push(logout, _SHIFT_END, agent)
        for name in self.queues:
            first = self.next_arrival(name, 0.0)
            if first is not None:
                self.push(first, _ARRIVAL, name)
        engine = self.engine
        while True:
            deadline = engine.next_deadline()
            if self.heap and (deadline is None or self.heap[0][0] < deadline):
                at, kind, _, ident = heapq.heappop(self.heap)
                self.now = at
                self.handle(kind, ident)
            elif deadline is not None and math.isfinite(deadline):
                self.now = deadline
                self.carry_out(engine.on_timer(deadline))
            else:
                return

    def handle(self, kind: int, ident: str) -> None:
        engine, now = self.engine, self.now
        if kind == _ARRIVAL:
            self.arrive(ident)
        elif kind == _ANSWER:
            if ident not in self.dead_legs:
                self.carry_out(engine.leg_answered(ident, now))
        elif kind in (_NO_ANSWER, _TALK_END):
            # the agent hangs up, or the PBX reports the ring timed out: either way the leg is gone
            if ident not in self.dead_legs:
                self.dead_legs.add(ident)
                self.carry_out(engine.leg_hung_up(ident, now))
        elif kind == _LEG_GONE:
            self.carry_out(engine.leg_hung_up(ident, now))
        elif kind == _ABANDON:
            if ident in self.unanswered:
                self.carry_out(engine.caller_hung_up(ident, now))
        elif kind == _SHIFT_START:
            self.leaving.discard(ident)
            self.carry_out(engine.set_status(ident, AgentStatus.AVAILABLE, now))
        elif kind == _SHIFT_END:
            if self.agent_idle[ident]:
                self.carry_out(engine.set_status(ident, AgentStatus.LOGGED_OUT, now))
            else:
                # finish the call in hand (and its wrap-up) first, take no new one
                self.leaving.add(ident)
                self.carry_out(engine.set_status(ident, AgentStatus.PAUSED, now, END_OF_SHIFT))
        elif kind == _LOGOUT and ident in self.leaving:
            self.leaving.discard(ident)
            self.carry_out(engine.set_status(ident, AgentStatus.LOGGED_OUT, now))

    def arrive(self, queue: str) -> None:
        self.calls += 1
        call_id = f"c{self.calls}"
        self.unanswered.add(call_id)
        patience = self.queues[queue].patience.sample(self.rng_patience)
        if math.isfinite(patience):
            self.push(self.now + patience, _ABANDON, call_id)
        nxt = self.next_arrival(queue, self.now)
        if nxt is not None:
            self.push(nxt, _ARRIVAL, queue)
        self.carry_out(
            self.engine.call_arrived(
                call_id, channel=call_id, caller_num="", caller_name="", dnis="", queue=queue, now=self.now
            )
        )

    # -- the PBX side of commands, and the facts they cause ------------------------------

    def carry_out(self, commands: list[Command]) -> None:
        for cmd in commands:
            if isinstance(cmd, OriginateAgentLeg):
                self.leg_of_call[cmd.call_id] = cmd.leg_id
                delay = self.sc.ring_delay.sample(self.rng_ring)
                if delay < cmd.ring_timeout:
                    self.push(self.now + delay, _ANSWER, cmd.leg_id)
                else:
                    self.push(self.now + cmd.ring_timeout, _NO_ANSWER, cmd.leg_id)
            elif isinstance(cmd, CancelAgentLeg) and cmd.leg_id not in self.dead_legs:
                self.dead_legs.add(cmd.leg_id)
                self.push(self.now, _LEG_GONE, cmd.leg_id)
            # PlayMessageAndHangup: the caller is gone; CallEnded already says so
        for fact in self.engine.pop_facts():
            self.book.apply(fact)
            if self.observer is not None:
                self.observer(fact)
            if isinstance(fact, CallAnswered):
                self.unanswered.discard(fact.call_id)
                talk = self.queues[fact.queue].talk_time.sample(self.rng_talk)
                self.push(fact.at + talk, _TALK_END, self.leg_of_call.pop(fact.call_id))
            elif isinstance(fact, CallEnded):
                self.unanswered.discard(fact.call_id)
                self.leg_of_call.pop(fact.call_id, None)
            elif isinstance(fact, AgentStateChanged):
                self.agent_idle[fact.agent_id] = fact.new == "idle"
                if fact.new == "idle" and fact.agent_id in self.leaving:
                    self.push(fact.at, _LOGOUT, fact.agent_id)


def simulate(scenario: Scenario, *, observer: Callable[[Fact], None] | None = None) -> SimResult:
    """Run the scenario's day to the end (every call answered, abandoned or timed out)."""
    started = time.perf_counter()
    sim = _DaySim(scenario, observer)
    sim.run()
    return SimResult(
        scenario=scenario,
        snapshot=sim.book.snapshot(sim.now),
        calls=sim.calls,
        still_waiting=len(sim.unanswered),
        end=sim.now,
        wall_seconds=time.perf_counter() - started,
    )


# -- the offline report -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueReport:
    queue: str
    interval_starts: tuple[float, ...]  # hours from midnight
    intervals: tuple[CallStats | None, ...]  # None: nothing happened in that interval
    total: CallStats


@dataclass(frozen=True, slots=True)
class OfflineReport:
    source: str
    queues: tuple[QueueReport, ...]
    calls: int
    still_waiting: int
    wall_seconds: float


def build_report(result: SimResult, source: str) -> OfflineReport:
    sc = result.scenario
    starts = tuple(sc.day.start + k * sc.interval / 3600.0 for k in range(sc.intervals))
    queues = []
    for q in result.snapshot.queues:
        by_start = {round(i.start / sc.interval): i.stats for i in q.intervals}
        queues.append(
            QueueReport(q.queue, starts, tuple(by_start.get(k) for k in range(sc.intervals)), q.total)
        )
    return OfflineReport(source, tuple(queues), result.calls, result.still_waiting, result.wall_seconds)


def run_offline(path: Path) -> OfflineReport:
    """Load the scenario at `path`, simulate its day and summarise it (raises ScenarioError)."""
    return build_report(simulate(load_scenario(path)), str(path))


def _clock(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _secs(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _row(label: str, s: CallStats | None) -> str:
    if s is None:
        return f"{label:>7}" + "       -" * 7
    return (
        f"{label:>7}{s.offered:>8}{s.answered:>8}{s.abandoned + s.short_abandoned:>8}"
        f"{_pct(s.service_level):>8}{_secs(s.asa):>8}{_pct(s.abandon_rate):>8}{_pct(s.occupancy):>8}"
    )


def format_report(report: OfflineReport) -> str:
    """Per queue and interval: offered, answered, abandoned, SL, ASA, abandon % and occupancy."""
    header = (
        f"{'from':>7}{'offered':>8}{'answer':>8}{'aband':>8}{'SL%':>8}{'ASA s':>8}{'aband%':>8}{'occ%':>8}"
    )
    lines = [f"scenario {report.source}"]
    for q in report.queues:
        lines += ["", f"queue {q.queue}", header]
        lines += [_row(_clock(h), s) for h, s in zip(q.interval_starts, q.intervals, strict=True)]
        lines.append(_row("day", q.total))
        t = q.total
        lines.append(
            f"  short abandons {t.short_abandoned}, timed out {t.timed_out}, "
            f"overflow in/out {t.overflowed_in}/{t.overflowed_out}, AHT {_secs(t.aht)} s, "
            f"SL incl. abandons {_pct(t.service_level_with_abandons)}%"
        )
    lines += [
        "",
        f"{report.calls} calls simulated, {report.still_waiting} left waiting at the end, "
        f"wall time {report.wall_seconds:.2f} s",
    ]
    return "\n".join(lines)


def _percent(stats: CallStats | None, pick: Callable[[CallStats], float | None]) -> float | None:
    value = None if stats is None else pick(stats)
    return None if value is None else 100.0 * value


def report_svg(report: OfflineReport) -> str:
    labels = [_clock(h) for h in report.queues[0].interval_starts] if report.queues else []

    def series(pick: Callable[[CallStats], float | None]) -> list[Series]:
        return [Series(q.queue, [_percent(s, pick) for s in q.intervals]) for q in report.queues]

    panels = [
        Panel("Service level (%)", series(lambda s: s.service_level)),
        Panel("Agent occupancy (%)", series(lambda s: s.occupancy)),
    ]
    return render_svg(f"Simulated day: {report.source}", labels, panels)


def main_offline(path: Path, *, out_dir: Path | None) -> int:
    """Simulate `path`, print the report and write `<scenario>.svg` into `out_dir` (default: cwd)."""
    try:
        report = run_offline(path)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        return 2
    print(format_report(report))
    target = (out_dir or Path.cwd()) / f"{path.stem}.svg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report_svg(report), encoding="utf-8")
    print(f"plot written to {target}")
    return 0
