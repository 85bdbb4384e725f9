"""What a supervisor's campaign tile and compliance meter show, computed from the engine.

A plain snapshot (no I/O), mapped by the web layer to its own payload: mode and why, lines,
lines per agent, the answer mix the pacer has learnt, the abandon rate over each window the law
or the house looks at, refusals by the rules, leads left and when the list runs out at today's pace.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engine import CampaignEngine
from .model import DAY, IN_FLIGHT, AgentSlot, AttemptState
from .stats import Fate

WINDOWS = (DAY, 30 * DAY)


@dataclass(frozen=True, slots=True)
class WindowRate:
    window: float
    live: float
    abandoned: float
    rate: float
    cap: float | None  # the legal cap when this is the rule set's window


@dataclass(frozen=True, slots=True)
class CampaignSnapshot:
    campaign: str
    state: str
    mode: str
    mode_reason: str
    agents: int
    agents_free: int
    agents_talking: int
    lines_in_flight: int
    lines_per_agent: float
    alpha: float | None
    person_rate: float  # of dials: needed an agent (a person, or any answer without AMD)
    machine_rate: float
    no_answer_rate: float
    failed_rate: float
    windows: tuple[WindowRate, ...]
    refusals: int
    dials: int
    leads_left: int
    penetration: float
    list_runs_out_in: float | None  # seconds at the current dial rate; None when not dialling


def snapshot(engine: CampaignEngine, now: float, *, dials_per_hour: float | None = None) -> CampaignSnapshot:
    """`dials_per_hour`: the recent dial rate (from the attempts log); None leaves the run-out unknown."""
    agents = [a for a in engine.agents.values() if a.slot is not AgentSlot.OFF]
    flight = sum(1 for a in engine.attempts.values() if a.state in IN_FLIGHT)
    total = sum(1 for a in engine.attempts.values() if a.state is not AttemptState.ENDED)
    c = engine.compliance
    windows = []
    for w in sorted({*WINDOWS, c.window}):
        counts = c.meter.counts(now, w)
        windows.append(
            WindowRate(w, counts.live, counts.abandoned, counts.rate, c.cap if w == c.window else None)
        )
    stats = engine.leads.stats(now)
    p = engine.stats.p
    runs_out = None
    if dials_per_hour:
        runs_out = stats.left / dials_per_hour * 3600.0
    return CampaignSnapshot(
        campaign=engine.name,
        state=engine.run_state.value,
        mode=engine.mode.value,
        mode_reason=engine.mode_reason,
        agents=len(agents),
        agents_free=sum(1 for a in agents if a.slot is AgentSlot.READY),
        agents_talking=sum(1 for a in agents if a.slot is AgentSlot.ON_CALL),
        lines_in_flight=flight,
        lines_per_agent=total / len(agents) if agents else 0.0,
        alpha=engine.last_alpha,
        person_rate=p[Fate.NEED],
        machine_rate=p[Fate.MACHINE],
        no_answer_rate=p[Fate.NO_ANSWER],
        failed_rate=p[Fate.FAILED],
        windows=tuple(windows),
        refusals=engine.refusals,
        dials=engine.dials,
        leads_left=stats.left,
        penetration=stats.penetration,
        list_runs_out_in=runs_out,
    )
