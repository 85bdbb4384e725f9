"""The outbound capacity simulator: a day of dialling through the real `CampaignEngine` and pacer.

A discrete-event loop on a virtual clock (a heap, no asyncio, no sleep) plays the PBX, the called
people and the agents: each dialled number is a person, a machine, nobody, busy or invalid with the
scenario's probabilities; answers come after sampled ring times; AMD decides after a sampled delay
and errs at the scenario's rates; agents talk and wrap up for sampled times. The simulator knows the
truth the engine cannot (was it a person AMD called a machine?), so it reports the abandon rate
as the law counts it next to the one the engine measured.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from zoneinfo import ZoneInfo

from .commands import (
    Command,
    ConnectToAgent,
    Dial,
    HangUp,
    LeaveMachineMessage,
    OfferPreview,
    PlayInfoMessageAndHangup,
    WithdrawPreview,
)
from .engine import CampaignEngine, DialProgress
from .facts import CampaignModeChanged, Fact
from .leads import LeadBook
from .model import (
    AgentSlot,
    AmdDecision,
    AmdSettings,
    Campaign,
    DialMode,
    EffectiveMode,
    Lead,
    OutcomeCode,
)
from .pacer import Pacer, PredictiveSettings
from .rules import rule_set
from .trunks import TrunkLimiter

OUTCOMES = (
    OutcomeCode("sale", final=True, success=True),
    OutcomeCode("not_interested", final=True, refusal=True),
    OutcomeCode("machine", retry_after=4 * 3600.0),
)


AMD_TOTAL = AmdSettings().total_analysis_time / 1000


class Truth(IntEnum):
    PERSON = 0
    MACHINE = 1
    NOBODY = 2
    BUSY = 3
    INVALID = 4


@dataclass(frozen=True, slots=True)
class LogNormal:
    mean: float
    sd: float
    low: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.sd <= 0:
            return self.mean
        s2 = math.log(1.0 + (self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - s2 / 2
        return max(self.low, rng.lognormvariate(mu, math.sqrt(s2)))


@dataclass(frozen=True, slots=True)
class OutboundScenario:
    agents: int = 20
    hours: float = 8.0
    start: str = "2025-03-04T09:00"  # local time in `zone`
    zone: str = "America/New_York"
    rule_set: str = "us"
    mode: DialMode = DialMode.PREDICTIVE
    leads: int | None = None  # default: plenty (agents x 800)
    person: float = 0.30
    machine: float = 0.25
    nobody: float = 0.35
    busy: float = 0.07
    invalid: float = 0.03
    person_answer: LogNormal = LogNormal(8.0, 4.0, 2.0)
    machine_answer: LogNormal = LogNormal(12.0, 4.0, 3.0)
    busy_after: LogNormal = LogNormal(3.0, 1.0, 1.0)
    invalid_after: LogNormal = LogNormal(2.0, 0.5, 0.5)
    amd: bool = False
    amd_false_positive: float = 0.02  # people AMD calls machines
    amd_false_negative: float = 0.05  # machines AMD calls people
    amd_person_delay: LogNormal = LogNormal(2.2, 0.5, 1.0)
    amd_machine_delay: LogNormal = LogNormal(3.6, 0.8, 1.5)
    talk: LogNormal = LogNormal(150.0, 75.0, 20.0)
    wrap: LogNormal = LogNormal(30.0, 10.0, 5.0)
    machine_talk: LogNormal = LogNormal(6.0, 2.0, 2.0)  # an agent hearing a machine hangs up
    machine_wrap: LogNormal = LogNormal(3.0, 1.0, 1.0)
    info_message: float = 8.0
    ring_timeout: float = 25.0
    max_lines_per_agent: float = 3.0
    dials_per_second: float = 20.0
    preview_think: LogNormal = LogNormal(6.0, 3.0, 1.0)
    seed: int = 0

    def start_epoch(self) -> float:
        return datetime.fromisoformat(self.start).replace(tzinfo=ZoneInfo(self.zone)).timestamp()


@dataclass(slots=True)
class DayResult:
    scenario: OutboundScenario
    dials: int = 0
    people: int = 0  # people who answered (the law's live answers)
    contacts: int = 0  # people connected to an agent
    abandoned: int = 0  # people not connected in time, or hung up on by AMD
    false_positives: int = 0
    machines_to_agents: int = 0
    occupancy: float = 0.0
    agent_hours: float = 0.0
    measured_rate: float = 0.0  # as the engine's meter counted it over the window
    max_lines_per_agent: float = 0.0
    fallback_seconds: float = 0.0
    mode_changes: int = 0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.people if self.people else 0.0

    @property
    def contacts_per_hour(self) -> float:
        return self.contacts / self.agent_hours if self.agent_hours else 0.0


# event kinds, in the order they are handled when they fall on the same instant
_HANGUP, _WRAP_DONE, _TALK_END, _AMD, _ANSWER, _FAIL, _RINGING, _PREVIEW = range(8)


@dataclass(slots=True)
class _Line:
    truth: Truth
    agent: str | None = None
    gone: bool = False
    answered: bool = False


@dataclass
class _Day:
    sc: OutboundScenario
    engine: CampaignEngine
    observer: Callable[[Fact], None] | None
    rng: random.Random
    now: float
    heap: list[tuple[float, int, int, str]] = field(default_factory=list)
    seq: int = 0
    lines: dict[str, _Line] = field(default_factory=dict)
    answered_at: dict[str, float] = field(default_factory=dict)
    result: DayResult | None = None

    def push(self, at: float, kind: int, ident: str) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, kind, self.seq, ident))

    # -- the PBX and the people ---------------------------------------------------------------

    def run_commands(self, cmds: list[Command]) -> None:
        for cmd in cmds:
            self.command(cmd)

    def command(self, cmd: Command) -> None:
        sc, rng, now = self.sc, self.rng, self.now
        res = self.result
        assert res is not None
        match cmd:
            case Dial():
                res.dials += 1
                r = rng.random()
                cut = [sc.person, sc.machine, sc.nobody, sc.busy]
                truth = Truth.INVALID
                acc = 0.0
                for t, p in zip(Truth, cut, strict=False):
                    acc += p
                    if r < acc:
                        truth = t
                        break
                self.lines[cmd.attempt_id] = _Line(truth)
                if truth is Truth.BUSY:
                    self.push(now + sc.busy_after.sample(rng), _FAIL, cmd.attempt_id)
                    return
                if truth is Truth.INVALID:
                    self.push(now + sc.invalid_after.sample(rng), _FAIL, cmd.attempt_id)
                    return
                self.push(now + 0.5, _RINGING, cmd.attempt_id)
                delay = math.inf
                if truth is Truth.PERSON:
                    delay = sc.person_answer.sample(rng)
                elif truth is Truth.MACHINE:
                    delay = sc.machine_answer.sample(rng)
                if delay < cmd.ring_timeout:
                    self.push(now + delay, _ANSWER, cmd.attempt_id)
                else:
                    self.push(now + cmd.ring_timeout, _FAIL, cmd.attempt_id)
            case ConnectToAgent():
                line = self.lines[cmd.attempt_id]
                line.agent = cmd.agent_id
                self.feed(self.engine.connected_to_agent(cmd.attempt_id, now))
                if line.truth is Truth.PERSON:
                    res.contacts += 1
                    talk = sc.talk.sample(rng)
                else:
                    res.machines_to_agents += 1
                    talk = sc.machine_talk.sample(rng)
                self.push(now + talk, _TALK_END, cmd.attempt_id)
            case PlayInfoMessageAndHangup():
                if self.lines[cmd.attempt_id].truth is Truth.PERSON:
                    res.abandoned += 1
                self.push(now + sc.info_message, _HANGUP, cmd.attempt_id)
            case HangUp():
                line = self.lines[cmd.attempt_id]
                if line.truth is Truth.PERSON and line.answered and not line.gone:
                    # a person hung up on: AMD took them for a machine, or dropped with no message
                    res.abandoned += 1
                    res.false_positives += cmd.reason == "answering machine"
                line.gone = True
                self.push(now + 0.1, _HANGUP, cmd.attempt_id)
            case LeaveMachineMessage():
                if self.lines[cmd.attempt_id].truth is Truth.PERSON:
                    res.abandoned += 1
                    res.false_positives += 1
                self.push(now + 20.0, _HANGUP, cmd.attempt_id)
            case OfferPreview():
                self.push(now + sc.preview_think.sample(rng), _PREVIEW, cmd.agent_id)
            case WithdrawPreview():
                pass

    def feed(self, cmds: list[Command]) -> None:
        self.run_commands(cmds)

    def event(self, kind: int, ident: str) -> None:
        sc, rng, now, eng = self.sc, self.rng, self.now, self.engine
        res = self.result
        assert res is not None
        if kind == _PREVIEW:
            agent = eng.agents.get(ident)
            if agent is not None and agent.preview_lead is not None:
                self.feed(eng.preview_dial(ident, now))
            return
        line = self.lines.get(ident)
        if line is None:
            return
        if kind == _HANGUP:
            self.feed(eng.hangup(ident, now, by="us"))
            del self.lines[ident]
            return
        if kind == _WRAP_DONE:
            outcome = "machine" if line.truth is Truth.MACHINE else rng.choice(("sale", "not_interested"))
            assert line.agent is not None
            self.feed(eng.agent_wrapup_done(line.agent, now, outcome=outcome))
            del self.lines[ident]
            return
        if line.gone:
            return  # we hung it up already: the network's later news is moot
        if kind == _RINGING:
            self.feed(eng.dial_result(ident, DialProgress.RINGING, now))
        elif kind == _FAIL:
            line.gone = True
            progress = {
                Truth.BUSY: DialProgress.BUSY,
                Truth.INVALID: DialProgress.INVALID,
            }.get(line.truth, DialProgress.NO_ANSWER)
            self.feed(eng.dial_result(ident, progress, now))
            del self.lines[ident]
        elif kind == _ANSWER:
            line.answered = True
            self.answered_at[ident] = now
            if line.truth is Truth.PERSON:
                res.people += 1
            self.feed(eng.dial_result(ident, DialProgress.ANSWERED, now))
            if sc.amd:
                person = line.truth is Truth.PERSON
                delay = (sc.amd_person_delay if person else sc.amd_machine_delay).sample(rng)
                # AMD() gives up (NOTSURE) at its total analysis time
                self.push(now + min(delay, AMD_TOTAL), _AMD, ident)
        elif kind == _AMD:
            person = line.truth is Truth.PERSON
            line_age = now - self.answered_at.pop(ident)
            wrong = rng.random() < (sc.amd_false_positive if person else sc.amd_false_negative)
            decision = AmdDecision.HUMAN if person != wrong else AmdDecision.MACHINE
            if line_age >= AMD_TOTAL - 1e-9:
                decision = AmdDecision.NOT_SURE
            self.feed(eng.amd_result(ident, decision, now))
        elif kind == _TALK_END:
            line.gone = True
            self.feed(eng.hangup(ident, now, by="customer"))
            wrap = (sc.wrap if line.truth is Truth.PERSON else sc.machine_wrap).sample(rng)
            self.push(now + wrap, _WRAP_DONE, ident)


def build_engine(
    sc: OutboundScenario,
    *,
    pacer: Pacer | None = None,
    predictive: PredictiveSettings | None = None,
) -> CampaignEngine:
    campaign = Campaign(
        name="sim",
        mode=sc.mode,
        caller_id="+12025550100",
        caller_name="Callserver Sim",
        outcome_codes=OUTCOMES,
        rule_set=sc.rule_set,
        amd=AmdSettings(enabled=sc.amd, false_positive_estimate=sc.amd_false_positive),
        ring_timeout=sc.ring_timeout,
        max_lines_per_agent=sc.max_lines_per_agent,
        dials_per_second=sc.dials_per_second,
    )
    count = sc.leads if sc.leads is not None else sc.agents * 800
    leads = [
        Lead(id=f"L{i}", numbers=(f"+1202555{i:07d}",), time_zones=(sc.zone,), seq=i) for i in range(count)
    ]
    book = LeadBook(leads, order=campaign.lead_order, retry=campaign.retry)
    return CampaignEngine(
        campaign,
        book,
        rule_set(sc.rule_set),
        trunks=TrunkLimiter({campaign.trunk: sc.dials_per_second}),
        pacer=pacer,
        predictive=predictive,
    )


def simulate_day(
    sc: OutboundScenario,
    *,
    pacer: Pacer | None = None,
    predictive: PredictiveSettings | None = None,
    observer: Callable[[Fact], None] | None = None,
) -> DayResult:
    """Run one day; `pacer` replaces callserver's predictive pacer (a baseline to compare with)."""
    engine = build_engine(sc, pacer=pacer, predictive=predictive)
    start = sc.start_epoch()
    end = start + sc.hours * 3600.0
    day = _Day(sc, engine, observer, random.Random(sc.seed), start)
    res = day.result = DayResult(sc)
    day.feed(engine.start(start))
    for i in range(sc.agents):
        day.feed(engine.agent_ready(f"agent-{i + 1:03d}", start))
    fallback_since: float | None = None
    while True:
        t_event = day.heap[0][0] if day.heap else math.inf
        deadline = engine.next_deadline()
        t_engine = deadline if deadline is not None else math.inf
        t = min(t_event, t_engine)
        if t > end:
            break
        day.now = t
        if t_engine <= t_event:
            day.feed(engine.on_timer(t))
        else:
            _, kind, _, ident = heapq.heappop(day.heap)
            day.event(kind, ident)
        for fact in engine.pop_facts():
            if isinstance(fact, CampaignModeChanged):
                res.mode_changes += 1
                if fact.new == EffectiveMode.PREDICTIVE_FALLBACK:
                    fallback_since = t
                elif fallback_since is not None:
                    res.fallback_seconds += t - fallback_since
                    fallback_since = None
            if observer is not None:
                observer(fact)
    if fallback_since is not None:
        res.fallback_seconds += end - fallback_since
    busy = staffed = 0.0
    for agent in engine.agents.values():
        occ_busy = agent.busy_time
        occ_staffed = agent.logged_in_time
        if agent.slot is not AgentSlot.OFF:
            occ_staffed += end - agent.since
            if agent.slot in (AgentSlot.ON_CALL, AgentSlot.WRAPUP):
                occ_busy += end - agent.since
        busy += occ_busy
        staffed += occ_staffed
    res.occupancy = busy / staffed if staffed else 0.0
    res.agent_hours = staffed / 3600.0
    res.measured_rate = engine.compliance.window_counts(end).rate
    res.max_lines_per_agent = engine.peak_lines_per_agent
    return res
