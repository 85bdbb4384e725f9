"""Campaigns, leads and dial attempts, with their state machines as tables of allowed moves.

A campaign is the operational object a supervisor runs (spec: what to dial, how, under which law);
a lead is a person to reach (one or more numbers, a time zone, data fields); an attempt is one dial
and keeps every time and decision of it, because the compliance report is built from attempts.
Every state change goes through `move()` and its table; an impossible move names both states.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

log = logging.getLogger("callserver.campaigns.transitions")

DAY = 86_400.0


class InvalidTransition(Exception):
    """A state change the table does not allow: a bug in the caller, never silently ignored."""

    def __init__(self, what: str, ident: str, old: str, new: str) -> None:
        super().__init__(f"{what} {ident}: cannot go from {old} to {new}")


S = TypeVar("S", bound=StrEnum)


def checked_move(table: dict[S, frozenset[S]], what: str, ident: str, old: S, new: S) -> S:
    """The one place every campaign state machine moves through (and logs in one format)."""
    if new not in table[old]:
        raise InvalidTransition(what, ident, old, new)
    log.debug("%s %s: %s -> %s", what, ident, old, new)
    return new


# -- campaign ------------------------------------------------------------------------------


class DialMode(StrEnum):
    """What the supervisor chose."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class RunState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"


RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.STOPPED: frozenset({RunState.RUNNING}),
    RunState.RUNNING: frozenset({RunState.PAUSED, RunState.STOPPED}),
    RunState.PAUSED: frozenset({RunState.RUNNING, RunState.STOPPED}),
}


class EffectiveMode(StrEnum):
    """How the campaign actually dials now; PREDICTIVE_FALLBACK paces progressively by itself."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    PREDICTIVE_FALLBACK = "predictive_fallback"


_CHOSEN = frozenset({EffectiveMode.PREVIEW, EffectiveMode.PROGRESSIVE, EffectiveMode.PREDICTIVE})
MODE_TRANSITIONS: dict[EffectiveMode, frozenset[EffectiveMode]] = {
    EffectiveMode.PREVIEW: _CHOSEN - {EffectiveMode.PREVIEW},
    EffectiveMode.PROGRESSIVE: _CHOSEN - {EffectiveMode.PROGRESSIVE},
    # only the pacer's guard enters and leaves the fall-back, and only from/to predictive
    EffectiveMode.PREDICTIVE: (_CHOSEN - {EffectiveMode.PREDICTIVE}) | {EffectiveMode.PREDICTIVE_FALLBACK},
    EffectiveMode.PREDICTIVE_FALLBACK: _CHOSEN,
}


def effective_of(mode: DialMode) -> EffectiveMode:
    return EffectiveMode(mode.value)


class MachineHandling(StrEnum):
    """What to do when AMD says an answering machine picked up."""

    HANG_UP = "hang_up"
    LEAVE_MESSAGE = "leave_message"  # wait for the beep, play the campaign's message
    CONNECT = "connect"  # give it to an agent anyway (they leave a message themselves)


@dataclass(frozen=True, slots=True)
class AmdSettings:
    """Asterisk `AMD()` parameters (milliseconds, as the application takes them) and our use of it.

    `false_positive_estimate` is the share of live people AMD calls machines: each machine decision
    adds that estimate to the abandon count where the rule set says so (a person hung up on is an
    abandoned call). Measure it by listening to a sample of machine decisions.
    """

    enabled: bool = False
    initial_silence: int = 2500
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 3
    silence_threshold: int = 256
    maximum_word_length: int = 5000
    false_positive_estimate: float = 0.02

    def application_args(self) -> str:
        """The argument string of `AMD()`, in the order Asterisk 22 reads them."""
        return ",".join(
            str(v)
            for v in (
                self.initial_silence,
                self.greeting,
                self.after_greeting_silence,
                self.total_analysis_time,
                self.min_word_length,
                self.between_words_silence,
                self.maximum_number_of_words,
                self.silence_threshold,
                self.maximum_word_length,
            )
        )


@dataclass(frozen=True, slots=True)
class OutcomeCode:
    """A disposition the agent picks after a conversation, and what it means for the lead.

    `final` ends the lead (sale, not interested, wrong person); `refusal` is the person saying no
    to being called (some jurisdictions then impose a silence period); `retry_after` schedules the
    lead again; `dnc` adds the number to the campaign's do-not-call list.
    """

    code: str
    label: str = ""
    final: bool = False
    refusal: bool = False
    success: bool = False
    dnc: bool = False
    retry_after: float | None = None


class AttemptResult(StrEnum):
    """How a dial ended, from the network's and our point of view."""

    CONNECTED = "connected"  # talked to an agent (the agent's outcome code says the rest)
    MACHINE = "machine"  # AMD (or the agent) found an answering machine; hung up
    MACHINE_MESSAGE = "machine_message"  # a message was left after the beep
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # congestion, network or originate failure: worth a retry
    INVALID = "invalid"  # the number does not exist: not worth one
    ABANDONED = "abandoned"  # a person answered and no agent was there in time
    HUNG_UP_EARLY = "hung_up_early"  # the person hung up before an agent could be connected
    CANCELLED = "cancelled"  # we hung up a line before any answer (stop, ring watchdog)


@dataclass(frozen=True, slots=True)
class RetryRule:
    """After a result: wait `delay` seconds, and give up once the lead has `max_attempts` of it."""

    delay: float
    max_attempts: int


DEFAULT_RETRIES: dict[AttemptResult, RetryRule] = {
    AttemptResult.BUSY: RetryRule(delay=600.0, max_attempts=5),
    AttemptResult.NO_ANSWER: RetryRule(delay=3 * 3600.0, max_attempts=5),
    AttemptResult.MACHINE: RetryRule(delay=4 * 3600.0, max_attempts=4),
    AttemptResult.MACHINE_MESSAGE: RetryRule(delay=DAY, max_attempts=2),
    AttemptResult.FAILED: RetryRule(delay=1800.0, max_attempts=3),
    AttemptResult.ABANDONED: RetryRule(delay=3600.0, max_attempts=3),
    AttemptResult.HUNG_UP_EARLY: RetryRule(delay=3600.0, max_attempts=3),
    AttemptResult.CANCELLED: RetryRule(delay=60.0, max_attempts=20),
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry rules per result, plus a ceiling on attempts per lead within a rolling period."""

    rules: dict[AttemptResult, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RETRIES))
    max_attempts: int = 10
    period: float = 30 * DAY
    default_retry_after: float = DAY  # an agent outcome that is neither final nor timed


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A daily window in the called party's local time, `start` inclusive, `end` exclusive."""

    start: str  # "HH:MM"
    end: str

    def minutes(self) -> tuple[int, int]:
        return _hhmm(self.start), _hhmm(self.end)


def _hhmm(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"time of day out of range: {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class CallingWindows:
    """Windows per weekday (0 = Monday); a day missing from `days` is closed."""

    days: dict[int, tuple[TimeWindow, ...]]
    skip_public_holidays: str | None = None  # a country code for `holidays`, e.g. "FR"

    @classmethod
    def every_day(cls, *windows: TimeWindow) -> CallingWindows:
        return cls({d: windows for d in range(7)})

    @classmethod
    def weekdays(cls, *windows: TimeWindow, holidays: str | None = None) -> CallingWindows:
        return cls({d: windows for d in range(5)}, skip_public_holidays=holidays)


class LeadOrder(StrEnum):
    NEW_FIRST = "new_first"  # never-dialled leads before retries; then priority, oldest attempt
    OLDEST_ATTEMPT_FIRST = "oldest_attempt_first"  # the longest-untouched lead first
    PRIORITY = "priority"  # the lead's priority field first, then new before retries


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign's settings: everything the engine needs to run it (persisted by the store)."""

    name: str
    mode: DialMode = DialMode.PROGRESSIVE
    lists: tuple[str, ...] = ()
    skills: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    caller_id: str = ""  # E.164 number presented, and said in the information message
    caller_name: str = ""
    outcome_codes: tuple[OutcomeCode, ...] = ()
    windows: CallingWindows | None = None  # the campaign's own hours, on top of the law's
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rule_set: str = "us"
    inbound_priority: bool = True  # blended agents take inbound calls first
    amd: AmdSettings = field(default_factory=AmdSettings)
    machine_handling: MachineHandling = MachineHandling.HANG_UP
    machine_message: str = ""
    info_message: str = ""  # prompt name; its text carries caller_name and caller_id
    ring_timeout: float = 25.0
    max_lines_per_agent: float = 3.0
    trunk: str = "default"
    dials_per_second: float = 10.0
    abandon_target: float | None = None  # below the law's cap; None = the pacer's default margin
    min_predictive_agents: int = 4
    preview_auto_dial: float | None = None  # seconds before a previewed lead is dialled by itself
    lead_order: LeadOrder = LeadOrder.NEW_FIRST
    connect_grace: float = 2.0  # seconds from greeting to agent, at most (the law may say less)

    def outcome(self, code: str) -> OutcomeCode:
        for oc in self.outcome_codes:
            if oc.code == code:
                return oc
        raise KeyError(f"campaign {self.name} has no outcome code {code!r}")


# -- leads ----------------------------------------------------------------------------------


class LeadState(StrEnum):
    NEW = "new"  # never dialled
    QUEUED = "queued"  # waiting for its retry time (or dialable now)
    PREVIEWING = "previewing"  # on an agent's screen, not dialled yet
    DIALING = "dialing"  # an attempt is in progress
    CALLBACK = "callback"  # a callback is booked at a given time
    DONE = "done"  # a final outcome: nothing more to do
    EXHAUSTED = "exhausted"  # out of attempts (may be recycled)
    DNC = "dnc"  # every number of the lead is on a do-not-call list
    INVALID = "invalid"  # no number can be dialled


LEAD_TRANSITIONS: dict[LeadState, frozenset[LeadState]] = {
    LeadState.NEW: frozenset(
        {LeadState.PREVIEWING, LeadState.DIALING, LeadState.CALLBACK, LeadState.DNC, LeadState.QUEUED}
    ),
    LeadState.QUEUED: frozenset(
        {LeadState.PREVIEWING, LeadState.DIALING, LeadState.CALLBACK, LeadState.DNC, LeadState.EXHAUSTED}
    ),
    # skipped: back to the queue, or done when the skip reason is final
    LeadState.PREVIEWING: frozenset({LeadState.DIALING, LeadState.QUEUED, LeadState.DONE, LeadState.DNC}),
    LeadState.DIALING: frozenset(
        {
            LeadState.QUEUED,
            LeadState.CALLBACK,
            LeadState.DONE,
            LeadState.EXHAUSTED,
            LeadState.DNC,
            LeadState.INVALID,
        }
    ),
    LeadState.CALLBACK: frozenset({LeadState.DIALING, LeadState.PREVIEWING, LeadState.QUEUED, LeadState.DNC}),
    LeadState.DONE: frozenset(),
    LeadState.EXHAUSTED: frozenset({LeadState.QUEUED, LeadState.DNC}),  # recycled
    LeadState.DNC: frozenset(),
    LeadState.INVALID: frozenset(),
}

DIALABLE = frozenset({LeadState.NEW, LeadState.QUEUED})


@dataclass(frozen=True, slots=True)
class AttemptSummary:
    """What compliance rules need to know of a past attempt of a lead."""

    at: float
    number: str
    result: AttemptResult
    abandoned: bool
    refusal: bool = False


@dataclass(frozen=True, slots=True)
class Callback:
    """A booked callback: at `at` (epoch seconds, from the lead's local time), for one agent or anyone."""

    at: float
    agent_id: str | None = None


@dataclass(slots=True)
class Lead:
    id: str
    numbers: tuple[str, ...]  # E.164
    time_zones: tuple[str, ...]  # every zone the numbers may be in: windows must hold in all
    fields: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    list_name: str = ""
    seq: int = 0  # import order
    state: LeadState = LeadState.NEW
    next_at: float = 0.0  # not before (retry delay, calling window)
    attempts: int = 0  # this round (recycling starts a new round)
    rounds: int = 0
    last_attempt_at: float | None = None
    last_result: AttemptResult | None = None
    last_outcome: str | None = None
    history: list[AttemptSummary] = field(default_factory=list)
    callback: Callback | None = None
    result_counts: dict[AttemptResult, int] = field(default_factory=dict)
    number_index: int = 0

    def move(self, new: LeadState) -> LeadState:
        old = self.state
        self.state = checked_move(LEAD_TRANSITIONS, "lead", self.id, old, new)
        return old


# -- attempts -------------------------------------------------------------------------------


class AttemptState(StrEnum):
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"  # picked up; AMD is listening
    WAITING_AGENT = "waiting_agent"  # a person is there and no agent yet: the 2 s clock runs
    CONNECTING = "connecting"  # bridging into the agent's line
    CONNECTED = "connected"
    MACHINE = "machine"  # being hung up or given the machine message
    DROPPING = "dropping"  # the information message plays, then hang-up
    ENDED = "ended"


ATTEMPT_TRANSITIONS: dict[AttemptState, frozenset[AttemptState]] = {
    AttemptState.DIALING: frozenset({AttemptState.RINGING, AttemptState.ANSWERED, AttemptState.ENDED}),
    AttemptState.RINGING: frozenset({AttemptState.ANSWERED, AttemptState.ENDED}),
    AttemptState.ANSWERED: frozenset(
        {AttemptState.WAITING_AGENT, AttemptState.CONNECTING, AttemptState.MACHINE, AttemptState.ENDED}
    ),
    AttemptState.WAITING_AGENT: frozenset(
        {AttemptState.CONNECTING, AttemptState.DROPPING, AttemptState.ENDED}
    ),
    AttemptState.CONNECTING: frozenset({AttemptState.CONNECTED, AttemptState.ENDED}),
    AttemptState.CONNECTED: frozenset({AttemptState.ENDED}),
    AttemptState.MACHINE: frozenset({AttemptState.ENDED}),
    AttemptState.DROPPING: frozenset({AttemptState.ENDED}),
    AttemptState.ENDED: frozenset(),
}

IN_FLIGHT = frozenset({AttemptState.DIALING, AttemptState.RINGING, AttemptState.ANSWERED})


class AmdDecision(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    NOT_SURE = "notsure"  # treated as a person: hanging up on a maybe-person risks an abandon


@dataclass(slots=True)
class Attempt:
    """One dial, and the record of it (a row of the compliance report)."""

    id: str
    campaign: str
    lead_id: str
    number: str
    dialed_at: float
    reserved_for: str | None = None  # progressive/preview/callback: the agent waiting for it
    state: AttemptState = AttemptState.DIALING
    ringing_at: float | None = None
    answered_at: float | None = None
    amd: AmdDecision | None = None
    amd_at: float | None = None
    amd_duration: float | None = None
    person_at: float | None = None  # a person (or, without AMD, someone) is there: the 2 s start
    connected_at: float | None = None
    agent_id: str | None = None
    ended_at: float | None = None
    result: AttemptResult | None = None
    outcome: str | None = None
    abandoned: bool = False
    info_message: bool = False
    hangup_by: str | None = None  # "customer" | "agent" | "us"

    def move(self, new: AttemptState) -> AttemptState:
        old = self.state
        self.state = checked_move(ATTEMPT_TRANSITIONS, "attempt", self.id, old, new)
        return old


# -- agents as the campaign sees them -------------------------------------------------------


class AgentSlot(StrEnum):
    """What the campaign does with an agent. OFF: not ours now (inbound, paused, logged out)."""

    OFF = "off"
    READY = "ready"
    RESERVED = "reserved"  # a line is dialled for them alone, or a lead is on their preview card
    ON_CALL = "on_call"
    WRAPUP = "wrapup"


AGENT_TRANSITIONS: dict[AgentSlot, frozenset[AgentSlot]] = {
    AgentSlot.OFF: frozenset({AgentSlot.READY}),
    AgentSlot.READY: frozenset({AgentSlot.RESERVED, AgentSlot.ON_CALL, AgentSlot.OFF}),
    AgentSlot.RESERVED: frozenset({AgentSlot.READY, AgentSlot.ON_CALL, AgentSlot.OFF}),
    AgentSlot.ON_CALL: frozenset({AgentSlot.WRAPUP}),
    AgentSlot.WRAPUP: frozenset({AgentSlot.READY, AgentSlot.OFF}),
}


@dataclass(slots=True)
class CampaignAgent:
    id: str
    slot: AgentSlot = AgentSlot.OFF
    since: float = 0.0  # when the current slot began (idle since, talking since, wrap-up since)
    attempt_id: str | None = None  # reserved for, or talking on
    preview_lead: str | None = None
    logged_in_time: float = 0.0
    busy_time: float = 0.0  # talking + wrap-up
    contacts: int = 0

    def move(self, new: AgentSlot, now: float) -> AgentSlot:
        old = self.slot
        self.slot = checked_move(AGENT_TRANSITIONS, "agent", self.id, old, new)
        if old in (AgentSlot.ON_CALL, AgentSlot.WRAPUP):
            self.busy_time += now - self.since
        if old is not AgentSlot.OFF:
            self.logged_in_time += now - self.since
        self.since = now
        return old

    def occupancy(self, now: float) -> float:
        busy = self.busy_time + (
            now - self.since if self.slot in (AgentSlot.ON_CALL, AgentSlot.WRAPUP) else 0.0
        )
        staffed = self.logged_in_time + (now - self.since if self.slot is not AgentSlot.OFF else 0.0)
        return busy / staffed if staffed > 0 else 0.0
