"""Configuration: one YAML file validated by pydantic.

Every component receives the typed section it needs from the composition root; nothing reads the
file or the environment anywhere else. Errors name the file, the field path and what is wrong.

This is the ground floor: it imports no engine, only pure name modules. What needs an engine's
own parser (requirement expressions, IVR flows) is checked one floor up, in `callserver.checks`,
which `callserver check-config` and the composition root run after `load_settings`.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .acd import queue_options as default
from .acd.queue_options import Strategy
from .pbx.dialplan import Context

DEFAULT_CONFIG = Path("config/callcentre.yaml")

SkillLevel = Annotated[int, Field(ge=1, le=10)]
_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"
_INTERFACE = re.compile(r"^(PJSIP|SIP|IAX2|Local|DAHDI)/[^\s]+$")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


# Checks a layer above adds to validation (see `parse_settings`): one `path: message` per fault.
ExtraChecks = Callable[["Settings"], list[str]]
_EXTRA_CHECKS = "extra_checks"


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` holds one `path: message` per fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class PortInUse(Exception):
    """A port another program already listens on; says which setting moves ours elsewhere."""

    def __init__(self, setting: str, host: str, port: int, source: str = "the configuration") -> None:
        self.setting, self.host, self.port = setting, host, port
        super().__init__(
            f"{host}:{port} is already in use by another program: change {setting} in {source} "
            "(or stop the other program)"
        )


class FrozenModel(BaseModel):
    """Base of every configuration model: unknown fields are errors, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_Model = FrozenModel


class AmiConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = "callserver"
    secret: str = "callserver"
    ping_interval: float = Field(default=5.0, gt=0)
    action_timeout: float = Field(default=5.0, gt=0)
    reconnect_min: float = Field(default=0.2, gt=0)
    reconnect_max: float = Field(default=10.0, gt=0)


class ListenConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(ge=0, le=65535)


class AgiConfig(ListenConfig):
    """The FastAGI server. Only `allowed_peers` (addresses or networks) may open sessions: the PBX."""

    port: int = Field(default=4573, ge=0, le=65535)
    allowed_peers: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1"])
    max_sessions: int = Field(default=500, ge=1)  # lowered at start to fit the open-file limit
    header_timeout: float = Field(default=5.0, gt=0)  # for the agi_ headers after connecting
    reply_timeout: float = Field(default=10.0, gt=0)  # for replies Asterisk gives at once
    media_timeout: float = Field(default=300.0, gt=0)  # plus a command's own wait, for prompts/recordings
    # Asterisk's sounds directory as callserver sees it (e.g. /var/lib/asterisk/sounds): prompt and
    # recording files under it are named relative to it over FastAGI, so no server path is sent
    sounds_dir: Path | None = None

    @field_validator("allowed_peers")
    @classmethod
    def _check_peers(cls, v: list[str]) -> list[str]:
        for i, text in enumerate(v):
            try:
                ipaddress.ip_network(text.strip(), strict=False)
            except ValueError:
                raise ValueError(f"[{i}] '{text}' is not an IP address or network like 10.0.0.0/24") from None
        return v


class WebConfig(ListenConfig):
    port: int = Field(default=8080, ge=0, le=65535)
    pause_reasons: list[str] = Field(default_factory=lambda: ["break", "lunch", "training", "meeting"])
    outcome_codes: list[str] = Field(
        default_factory=lambda: ["resolved", "follow-up", "escalated", "sale", "no-sale", "wrong-number"]
    )
    service_target: float = Field(default=20.0, gt=0)
    cookie_secure: bool | None = None
    # an agent whose desktop is gone (closed, crashed, network lost) this long is paused with the
    # reason "desktop closed" (None: never); an expired web session pauses them too
    away_pause_after: float | None = Field(default=60.0, gt=0)
    # a session ends this long after login however active it is (besides 8 h without use)
    session_lifetime: float = Field(default=12 * 3600.0, gt=0)
    login_checks: int = Field(default=4, ge=1)  # argon2 password checks at once (64 MiB each)


class WebUserConfig(_Model):
    """A supervisor or admin; `password` is an argon2 hash (`callserver passwd`) or, for demos, plain."""

    login: str = Field(pattern=_NAME)
    name: str
    role: Literal["supervisor", "admin"] = "supervisor"
    password: str = Field(min_length=1)
    # where listen / whisper / barge ring: an extension (2001) or an endpoint (PJSIP/2001)
    phone: str | None = Field(default=None, pattern=r"^(?:\+?[0-9]{2,20}|(?:PJSIP|SIP|IAX2|Local)/\S{1,80})$")


class DatabaseConfig(_Model):
    url: str = ""  # empty: SQLite file under data_dir


class MqttConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    site: str = "default"
    topic_prefix: str = "callserver"


class DialplanConfig(_Model):
    """How the deployment's dialplan reaches outside numbers (context names are fixed: pbx/dialplan.py)."""

    remote_dial: str = "PJSIP/{number}@trunk"
    # the country a number typed without its international prefix belongs to (ISO 3166, e.g. FR)
    region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")


class AgentConfig(_Model):
    id: str = Field(pattern=_NAME)
    name: str
    login: str = Field(pattern=_NAME)
    interface: str | None = None
    number: str | None = None
    skills: dict[str, SkillLevel] = Field(default_factory=dict)
    password: str | None = None
    # available as soon as the server starts (demo and simulator set-ups; real agents log in)
    start_available: bool = False
    # a persistent line: the phone is called once at login and each call is bridged into it
    # (inbound too); campaigns open one for their agents whatever this says
    persistent_line: bool = False

    @field_validator("interface")
    @classmethod
    def _check_interface(cls, v: str | None) -> str | None:
        if v is not None and not _INTERFACE.match(v):
            raise ValueError(f"'{v}' is not a channel interface like PJSIP/1001")
        return v

    @field_validator("number")
    @classmethod
    def _check_number(cls, v: str | None) -> str | None:
        if v is not None and not _NUMBER.match(v):
            raise ValueError(f"'{v}' is not a phone number (digits, optional leading +)")
        return v

    @model_validator(mode="after")
    def _one_endpoint(self) -> AgentConfig:
        if (self.interface is None) == (self.number is None):
            raise ValueError("give exactly one of 'interface' (a phone) or 'number' (remote agent)")
        return self


class TimeoutAction(_Model):
    """Where a caller goes when a queue cannot keep them: another queue, a voicemail box, an outside
    number, or a message then hang-up."""

    queue: str | None = None
    message: str | None = None
    voicemail: str | None = None
    number: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> TimeoutAction:
        given = [v for v in (self.queue, self.message, self.voicemail, self.number) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'queue', 'message', 'voicemail' or 'number'")
        return self

    def kind_target(self) -> tuple[str, str]:
        for kind in ("queue", "message", "voicemail", "number"):
            value = getattr(self, kind)
            if value is not None:
                return kind, str(value)
        raise AssertionError("validated: one target is set")


class OutcomeCodeConfig(_Model):
    """One outcome an agent may record at wrap-up: a stable `code` and what the form shows."""

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    label: str = ""  # default: the code, capitalised


class OutcomeListConfig(_Model):
    """A named list of outcome codes; queues (and campaigns) name the list their calls use."""

    codes: list[OutcomeCodeConfig | Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]] = (
        Field(min_length=1)
    )
    required: bool = False  # the form cannot be sent without one (a timed-out wrap-up still saves)


class RoutingStepConfig(_Model):
    """After `after` seconds in the queue, agents matching `require` may take the call."""

    after: float = Field(default=0.0, ge=0)
    require: str  # a requirement expression (docs/requirements.md), parsed by `callserver.checks`


class QueueRules(_Model):
    """How a queue routes and keeps its callers: everything the engine's `QueueSpec` is built from.

    The server's `QueueConfig` adds the numbers that reach the queue; a capacity scenario's queue
    adds the traffic. `acd.specs.queue_spec` is the one translation into the engine's terms.
    """

    name: str = Field(pattern=_NAME)
    # who may take the calls: either plain skills (all required, any level) or routing steps, each a
    # requirement expression (docs/requirements.md) that applies from `after` seconds of waiting
    skills: list[str] = Field(default_factory=list)
    steps: list[RoutingStepConfig] = Field(default_factory=list)
    strategy: Strategy = default.STRATEGY
    priority: int = default.PRIORITY
    vip_priority: int = default.VIP_PRIORITY
    max_wait: float = Field(default=default.MAX_WAIT, gt=0)
    on_timeout: TimeoutAction = TimeoutAction(message=default.TIMEOUT_MESSAGE)
    max_length: int | None = Field(default=None, ge=1)
    on_full: TimeoutAction | None = None
    when_no_agents: Literal["join", "refuse"] = "join"
    on_no_agents: TimeoutAction | None = None
    ring_timeout: float = Field(default=default.RING_TIMEOUT, gt=0)
    pause_after_no_answers: int = Field(default=default.PAUSE_AFTER_NO_ANSWERS, ge=1)
    # seconds of wrap-up after each call (None: the server's `acd.wrapup`; 0: none, the next call
    # rings at once) and how long the agent may extend it to (None: wrap-up + 120 s)
    wrapup: float | None = Field(default=None, ge=0)
    wrapup_max: float | None = Field(default=None, ge=0)
    announce_every: float | None = Field(default=None, gt=0)
    callback_key: str | None = Field(default=None, pattern=r"^[0-9*#]$")
    task_priority: int = default.TASK_PRIORITY

    def timeout_action(self) -> TimeoutAction:
        """Where a caller goes at `max_wait`."""
        return self.on_timeout

    def wrapup_seconds(self, default_wrapup: float) -> float:
        """Seconds of wrap-up after a call (`default_wrapup` when the queue gives none)."""
        return default_wrapup if self.wrapup is None else self.wrapup

    def wrapup_limit(self, default_wrapup: float) -> float:
        """The longest an agent may extend a wrap-up to."""
        if self.wrapup_max is not None:
            return self.wrapup_max
        wrapup = self.wrapup_seconds(default_wrapup)
        return wrapup + default.WRAPUP_EXTENSION if wrapup > 0 else 0.0


class Threshold(_Model):
    """Where a figure turns from good to `warn`, and from warn to `bad`."""

    warn: float = Field(ge=0)
    bad: float = Field(ge=0)


class QueueThresholds(_Model):
    """How the monitor colours a queue's figures. Service level is good at or above `warn`;
    abandon rate and AHT (seconds) are good at or below it. `aht: null` leaves AHT uncoloured."""

    service_level: Threshold = Threshold(warn=0.8, bad=0.6)
    abandon_rate: Threshold = Threshold(warn=0.05, bad=0.1)
    aht: Threshold | None = None

    @model_validator(mode="after")
    def _ordered(self) -> QueueThresholds:
        if self.service_level.bad > self.service_level.warn:
            raise ValueError("service_level: 'bad' must not be above 'warn' (higher is better)")
        for name in ("abandon_rate", "aht"):
            limit = getattr(self, name)
            if limit is not None and limit.bad < limit.warn:
                raise ValueError(f"{name}: 'bad' must not be below 'warn' (lower is better)")
        return self


class QueueConfig(QueueRules):
    """A queue of the server: its rules and the dialled numbers that lead to it."""

    thresholds: QueueThresholds = QueueThresholds()  # the monitor's colours for this queue
    dnis: list[str] = Field(default_factory=list)
    # call data a dialled number implies, e.g. {"0140000501": {language: fr}} -> call.language == "fr"
    dnis_data: dict[str, dict[str, str | int | float | bool]] = Field(default_factory=dict)
    outcomes: str | None = None  # the name of a list in `outcomes` (None: web.outcome_codes)


class AcdConfig(_Model):
    # an agent paused for not answering is made available again after this many seconds
    # (None: stays paused until they choose otherwise)
    no_answer_resume: float | None = Field(default=60.0, gt=0)
    seed: int = 0  # for the `random` strategy: routing stays reproducible
    accept_timeout: float = Field(default=8.0, gt=0)  # a remote agent's time to press 1
    wrapup: float = Field(default=20.0, ge=0)  # wrap-up of queues that give none
    # a call transferred to an agent waits this long for them, then goes back to its queue or to
    # the transferring agent
    transfer_timeout: float = Field(default=30.0, gt=0)
    transfer_return: Literal["queue", "agent"] = "queue"
    # a call transferred to a queue goes back to the transferring agent only when nobody else can
    # take it, this long after the queue's last routing step
    transfer_self_delay: float = Field(default=10.0, ge=0)


class VoicemailConfig(_Model):
    # where Asterisk writes recordings (RECORD FILE) and callserver reads them back for the browser;
    # both must reach it
    recordings_dir: Path | None = None  # default: <data_dir>/recordings


class SoundsConfig(_Model):
    """Where callserver's own prompts live (`callserver prompts build` fills it; Asterisk plays from
    it). On a PBX host: `dir: /var/lib/asterisk/sounds/callserver`, readable by Asterisk and
    writable by callserver. Default `<data_dir>/sounds/callserver` suits the simulator."""

    dir: Path | None = None
    # Asterisk's sounds directory (<astdatadir>/sounds); prompt names are relative to it.
    # Default: the parent of `dir`
    asterisk_dir: Path | None = None
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")

    @model_validator(mode="after")
    def _inside(self) -> SoundsConfig:
        inside = self.dir is None or self.asterisk_dir is None
        if not inside and self.dir is not None and self.asterisk_dir is not None:
            inside = self.dir.resolve().is_relative_to(self.asterisk_dir.resolve())
        if not inside:
            raise ValueError(
                f"'dir' ({self.dir}) must be inside 'asterisk_dir' ({self.asterisk_dir}): "
                "Asterisk finds prompts by their path under its sounds directory"
            )
        return self


class CustomerFieldConfig(_Model):
    """An extra customer field beside the record's own (a balance, a payment plan, a postcode):
    stored as text, read as `type` by dialogue scripts, loaded from the seed file's column of the
    same name."""

    type: Literal["text", "number", "amount", "date", "yes-no"] = "text"
    writable: bool = False  # a dialogue script may set it (`<set-field>`)
    label: str | None = None  # how a customer is asked for it (self-service identification)


class CustomersConfig(_Model):
    # added at start-up when no customer has the row's account or phones; existing records are
    # never overwritten from it (`callserver customers import --update FILE` does that)
    seed_file: Path | None = None
    fields: dict[Annotated[str, Field(pattern=_NAME, max_length=64)], CustomerFieldConfig] = Field(
        default_factory=dict
    )
    # the country (ISO 3166 code: FR, GB, US...) whose national form phone numbers are written
    # in; they are stored in E.164. None: numbers must be written in international form
    default_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class SelfServiceConfig(_Model):
    """Dialogue scripts as public web pages: how a customer identifies (an account number and a
    second factor, a customer field the centre chooses), per script whether they must."""

    factor: str | None = None  # e.g. postcode or birth_date; None: customers cannot identify
    identify: dict[str, Literal["required", "optional", "anonymous"]] = Field(default_factory=dict)
    default_identify: Literal["required", "optional", "anonymous"] = "optional"
    session_idle: float = Field(default=900.0, gt=0)  # seconds without a move before a page expires
    starts_per_minute: int = Field(default=30, ge=1)  # per client address
    moves_per_minute: int = Field(default=120, ge=1)  # per page
    identify_failures: int = Field(default=5, ge=1)  # per address and per account ...
    identify_window: float = Field(default=900.0, gt=0)  # ... within this many seconds
    max_sessions: int = Field(default=2000, ge=1)


class ScriptsConfig(_Model):
    """Dialogue scripts (docs/scripts.md): the folder of XML files and what each is attached to.

    A call gets the script of its campaign, else of the IVR exit it came through (`flow.node`),
    else of its dialled number, else of its queue."""

    dir: Path | None = None  # every <id>.xml in it; None: no scripts
    queues: dict[str, str] = Field(default_factory=dict)  # queue -> script id
    dnis: dict[str, str] = Field(default_factory=dict)  # dialled number -> script id
    ivr: dict[str, str] = Field(default_factory=dict)  # "flow.node" (a queue node) -> script id
    campaigns: dict[str, str] = Field(default_factory=dict)  # campaign name -> script id
    timezone: str = "UTC"  # which day "today" is, and when a callback "on a day" is due
    callback_time: str = Field(default="09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    task_queue: str | None = None  # where tasks and callbacks that name no queue go
    web: SelfServiceConfig = SelfServiceConfig()


class SimCallers(_Model):
    # the defaults (with the example centre's five agents) keep the service level between 70 and
    # 90 % in and out of office hours: `tests/sim/test_healthy_day.py` measures it
    rate_per_minute: float = Field(default=6.5, gt=0)
    # the switch for a day the centre cannot keep up with: callers arrive OVERLOAD times as often
    overloaded: bool = False
    numbers: list[str] = Field(default_factory=lambda: ["+33140000001"])
    dnis: list[str] = Field(default_factory=list)
    patience: tuple[float, float] = (20.0, 90.0)
    talk_time: tuple[float, float] = (10.0, 45.0)
    max_calls: int | None = None


OVERLOAD = 2.0  # how many times more callers `simulator.callers.overloaded` sends


class SimPhone(_Model):
    answer_delay: tuple[float, float] = (1.0, 4.0)
    no_answer_rate: float = Field(default=0.05, ge=0, le=1)
    accept_keys: str = "1"  # what whoever answers types when asked (a remote agent accepting)


class SimDesks(_Model):
    """Simulated agents at their desks (`make run`): they close the voicemail tasks they are given
    after `voicemail_time` seconds, as a person would in the agent desktop (`sim/desks.py`)."""

    enabled: bool = True
    voicemail_time: tuple[float, float] = (30.0, 90.0)


Range = tuple[float, float]


class SimOutbound(_Model):
    """Who answers when the simulator dials out through the trunk (outbound campaigns): each dial
    draws a person, a machine, nobody, busy or an invalid number with these probabilities; ring,
    talk and AMD times are drawn uniformly from their (low, high) ranges in seconds. Numbers of
    remote agents and those a test sets behave as phones instead."""

    enabled: bool = False
    person: float = Field(default=0.30, ge=0, le=1)
    machine: float = Field(default=0.25, ge=0, le=1)
    nobody: float = Field(default=0.35, ge=0, le=1)
    busy: float = Field(default=0.07, ge=0, le=1)
    invalid: float = Field(default=0.03, ge=0, le=1)
    person_answer: Range = (3.0, 12.0)  # rings before a person picks up
    machine_answer: Range = (8.0, 16.0)
    busy_after: Range = (1.0, 3.0)
    invalid_after: Range = (0.5, 2.0)
    patience: Range = (4.0, 10.0)  # a person who hears silence this long hangs up
    talk: Range = (30.0, 150.0)  # a person talking to an agent, then hanging up
    machine_length: Range = (25.0, 45.0)  # greeting and recording time before a machine hangs up
    greeting: Range = (6.0, 12.0)  # a machine's greeting, up to the beep
    amd_false_positive: float = Field(default=0.02, ge=0, le=1)  # people AMD() calls machines
    amd_false_negative: float = Field(default=0.05, ge=0, le=1)  # machines AMD() calls people
    amd_person_delay: Range = (1.5, 3.0)  # AMD() decision time for a person...
    amd_machine_delay: Range = (2.5, 4.5)  # ... and for a machine (NOTSURE past its total time)

    @model_validator(mode="after")
    def _mix(self) -> SimOutbound:
        total = self.person + self.machine + self.nobody + self.busy + self.invalid
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"person + machine + nobody + busy + invalid must make 1, not {total:g}")
        return self


class SimulatorConfig(_Model):
    """How the embedded PBX simulator behaves; unused against a real Asterisk."""

    dialplan: list[Path] = Field(default_factory=lambda: [Path("asterisk/extensions_callserver.conf")])
    entry_context: str = Context.INBOUND.value
    callers: SimCallers = SimCallers()
    phones: SimPhone = SimPhone()
    desks: SimDesks = SimDesks()
    outbound: SimOutbound = SimOutbound()
    seed: int | None = None


class ReportDefinitionConfig(_Model):
    """A centre's own report (docs/reports.md): figures of one dimension per interval, filtered.

    Dimension, figures and interval are checked against the report catalogue by `callserver.checks`."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    dimension: str
    figures: list[str] = Field(min_length=1)
    interval: str = "30m"
    filters: dict[str, list[str]] = Field(default_factory=dict)


class ReportsConfig(_Model):
    """Historical reports: the centre's time zone (intervals, days, weeks, months are local), the
    service-level variant each queue reports, and the centre's own report definitions."""

    timezone: str = "UTC"
    service_level: dict[str, Literal["answered", "with_abandons", "offered", "offered_minus_short"]] = Field(
        default_factory=dict
    )
    definitions: list[ReportDefinitionConfig] = Field(default_factory=list)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class CallingWindowConfig(_Model):
    """The campaign's own hours (on top of the law's), in the called party's local time."""

    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: str = Field(default="09:00", pattern=_HHMM)
    end: str = Field(default="20:00", pattern=_HHMM)

    @model_validator(mode="after")
    def _ordered(self) -> CallingWindowConfig:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} must come before end {self.end}")
        return self


class CampaignOutcomeConfig(_Model):
    """A campaign outcome code and what it means for the lead (campaigns/model.py `OutcomeCode`)."""

    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    label: str = ""
    final: bool = False
    refusal: bool = False
    success: bool = False
    dnc: bool = False
    retry_after: float | None = Field(default=None, gt=0)


def _default_outcomes() -> list[CampaignOutcomeConfig]:
    return [
        CampaignOutcomeConfig(code="sale", label="Sale", final=True, success=True),
        CampaignOutcomeConfig(code="not_interested", label="Not interested", final=True, refusal=True),
        CampaignOutcomeConfig(code="call_back", label="Call back later", retry_after=86_400.0),
        CampaignOutcomeConfig(code="wrong_number", label="Wrong number", final=True),
        CampaignOutcomeConfig(code="do_not_call", label="Do not call", dnc=True),
    ]


class RetryRuleConfig(_Model):
    delay: float = Field(gt=0)
    max_attempts: int = Field(ge=1)


RetryResult = Literal[
    "busy", "no_answer", "machine", "machine_message", "failed", "abandoned", "hung_up_early", "cancelled"
]


class RetryConfig(_Model):
    """Retry rules per result (left out: the defaults of campaigns/model.py) and a ceiling."""

    rules: dict[RetryResult, RetryRuleConfig] = Field(default_factory=dict)
    max_attempts: int = Field(default=10, ge=1)
    period_days: float = Field(default=30.0, gt=0)
    default_retry_after: float = Field(default=86_400.0, gt=0)


class AmdConfig(_Model):
    """Asterisk AMD() parameters in milliseconds, and the share of people it calls machines."""

    enabled: bool = False
    initial_silence: int = Field(default=2500, ge=0)
    greeting: int = Field(default=1500, ge=0)
    after_greeting_silence: int = Field(default=800, ge=0)
    total_analysis_time: int = Field(default=5000, ge=500)
    min_word_length: int = Field(default=100, ge=0)
    between_words_silence: int = Field(default=50, ge=0)
    maximum_number_of_words: int = Field(default=3, ge=1)
    silence_threshold: int = Field(default=256, ge=0)
    maximum_word_length: int = Field(default=5000, ge=0)
    false_positive_estimate: float = Field(default=0.02, ge=0, lt=1)


class CampaignConfig(_Model):
    """An outbound campaign as the REST API and the YAML seed give it (campaigns/specs.py turns it
    into the engine's `Campaign`; docs/campaigns.md explains every field)."""

    name: str = Field(pattern=_NAME, max_length=40)
    mode: Literal["preview", "progressive", "predictive"] = "progressive"
    skills: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    caller_id: str = ""
    caller_name: str = Field(default="", max_length=80)
    outcome_codes: list[CampaignOutcomeConfig] = Field(default_factory=_default_outcomes, min_length=1)
    windows: list[CallingWindowConfig] = Field(default_factory=list)
    skip_holidays: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    retry: RetryConfig = RetryConfig()
    rule_set: Literal["us", "uk", "fr", "none"] = "us"
    inbound_priority: bool = True
    amd: AmdConfig = AmdConfig()
    machine_handling: Literal["hang_up", "leave_message", "connect"] = "hang_up"
    machine_message: str = ""  # a prompt (default: callserver's own campaign-machine prompt)
    info_message: str = ""  # a prompt naming the caller (default: callserver's campaign-info prompt)
    ring_timeout: float = Field(default=25.0, gt=0)
    max_lines_per_agent: float = Field(default=3.0, ge=1)
    trunk: str = "default"
    dials_per_second: float = Field(default=10.0, gt=0)
    abandon_target: float | None = Field(default=None, ge=0, le=1)
    min_predictive_agents: int = Field(default=4, ge=1)
    learn_dials: int = Field(default=100, ge=0)  # dials before predictive pacing trusts its figures
    preview_auto_dial: float | None = Field(default=None, gt=0)
    lead_order: Literal["new_first", "oldest_attempt_first", "priority"] = "new_first"
    connect_grace: float = Field(default=2.0, gt=0)
    default_region: str = Field(default="US", pattern=r"^[A-Z]{2}$")  # for national-format numbers
    wrapup_timeout: float | None = Field(default=300.0, gt=0)  # wrap-up closed without outcome after
    script: str | None = None  # the dialogue script agents follow (scripts/)

    @field_validator("caller_id")
    @classmethod
    def _caller_id(cls, v: str) -> str:
        if v and not _NUMBER.match(v):
            raise ValueError(f"'{v}' is not a phone number (digits, optional leading +)")
        return v

    @model_validator(mode="after")
    def _codes(self) -> CampaignConfig:
        codes = [c.code for c in self.outcome_codes]
        doubled = sorted({c for c in codes if codes.count(c) > 1})
        if doubled:
            raise ValueError(f"outcome_codes: duplicate code(s) {', '.join(doubled)}")
        return self


class CampaignsConfig(_Model):
    """Campaigns created at start-up when the database does not have them yet (later changes are
    made in the browser or the REST API and kept in the database)."""

    seed: list[CampaignConfig] = Field(default_factory=list)


class QueueLogConfig(_Model):
    """Asterisk's `queue_log`, written as calls happen (docs/queue-log.md)."""

    enabled: bool = True  # write the file; the on-demand export works either way
    path: Path | None = None  # None: `queue_log` under data_dir
    # never: each line is flushed to the operating system (as Asterisk does); always: fsync each line
    fsync: Literal["never", "always"] = "never"
    member_prefix: str = Field(default="Agent/", pattern=r"^[^|\x00-\x1f]{0,32}$")
    # facts read before an exported period, so calls that began earlier have their positions and times
    lookback: float = Field(default=86400.0, ge=0)


class PrometheusConfig(_Model):
    """`/metrics` for Prometheus (docs/prometheus.md): on the web port behind a bearer token, or on a
    listen address of its own (where the token, if set, is asked for too)."""

    token: str | None = Field(default=None, min_length=16)
    listen: ListenConfig | None = None
    loop_lag_every: float = Field(default=1.0, gt=0)  # seconds between event-loop lag probes

    @model_validator(mode="after")
    def _reachable_safely(self) -> PrometheusConfig:
        if self.token is None and self.listen is None:
            raise ValueError(
                "set `token` (to serve /metrics on the web port) or `listen` (an address of its own)"
            )
        return self


class Settings(_Model):
    site: str = "default"
    data_dir: Path = Path("data")
    ami: AmiConfig = AmiConfig()
    agi: AgiConfig = AgiConfig()
    web: WebConfig = WebConfig()
    web_users: list[WebUserConfig] = Field(default_factory=list)
    database: DatabaseConfig = DatabaseConfig()
    mqtt: MqttConfig | None = None
    dialplan: DialplanConfig = DialplanConfig()
    acd: AcdConfig = AcdConfig()
    skills: list[str] = Field(default_factory=list)
    agents: list[AgentConfig] = Field(default_factory=list)
    queues: list[QueueConfig] = Field(default_factory=list)
    # named lists of wrap-up outcome codes (queues name theirs with `outcomes:`)
    outcomes: dict[str, OutcomeListConfig] = Field(default_factory=dict)
    customers: CustomersConfig = CustomersConfig()
    scripts: ScriptsConfig = ScriptsConfig()  # checked by callserver.scripts.catalog
    voicemail: VoicemailConfig = VoicemailConfig()
    sounds: SoundsConfig = SoundsConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    reports: ReportsConfig = ReportsConfig()
    campaigns: CampaignsConfig = CampaignsConfig()
    queue_log: QueueLogConfig = QueueLogConfig()
    prometheus: PrometheusConfig | None = None  # None: no /metrics
    # IVR flows, kept as written: the IVR owns their format; `callserver.checks` validates them
    # against the queues (ivr.validate) and hands the parsed flows to whoever runs them
    ivr: dict[str, Any] | None = None

    @field_validator("agi", mode="before")
    @classmethod
    def _agi_address_only(cls, v: Any) -> Any:
        """A bare ListenConfig (host and port) is accepted for `agi`; the limits keep their defaults."""
        if isinstance(v, ListenConfig) and not isinstance(v, AgiConfig):
            return v.model_dump()
        return v

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Settings:
        problems: list[str] = []
        known = set(self.skills)
        _unique(problems, "agents", [a.id for a in self.agents], "id")
        _unique(problems, "agents", [a.login for a in self.agents], "login")
        _unique(problems, "queues", [q.name for q in self.queues], "name")
        _unique(problems, "web_users", [u.login for u in self.web_users], "login")
        agent_logins = {a.login for a in self.agents}
        for i, user in enumerate(self.web_users):
            if user.login in agent_logins:
                problems.append(f"web_users[{i}].login: '{user.login}' is already an agent's login")
        for i, agent in enumerate(self.agents):
            for skill in agent.skills:
                if skill not in known:
                    problems.append(f"agents[{i}].skills: unknown skill '{skill}'")
        seen_dnis: dict[str, str] = {}
        for i, queue in enumerate(self.queues):
            for number in queue.dnis:
                if number in seen_dnis:
                    problems.append(
                        f"queues[{i}].dnis: '{number}' already leads to queue '{seen_dnis[number]}'"
                    )
                seen_dnis[number] = queue.name
            for number in queue.dnis_data:
                if number not in queue.dnis:
                    problems.append(f"queues[{i}].dnis_data.{number}: not one of this queue's dnis")
        problems.extend(queue_rule_problems(self.queues, known))
        agent_ids = {a.id for a in self.agents}
        _unique(problems, "campaigns.seed", [c.name for c in self.campaigns.seed], "name")
        for i, campaign in enumerate(self.campaigns.seed):
            for skill in campaign.skills:
                if skill not in known:
                    problems.append(f"campaigns.seed[{i}].skills: unknown skill '{skill}'")
            for agent_id in campaign.agents:
                if agent_id not in agent_ids:
                    problems.append(f"campaigns.seed[{i}].agents: unknown agent '{agent_id}'")
        extra: ExtraChecks | None = (info.context or {}).get(_EXTRA_CHECKS)
        if extra is not None:
            problems.extend(extra(self))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _wrapup_settings(self) -> Settings:
        problems: list[str] = []
        for i, queue in enumerate(self.queues):
            if queue.outcomes is not None and queue.outcomes not in self.outcomes:
                known = ", ".join(sorted(self.outcomes)) or "none defined"
                problems.append(f"queues[{i}].outcomes: unknown outcome list '{queue.outcomes}' ({known})")
            if queue.wrapup_max is not None and queue.wrapup_max < self.queue_wrapup(queue):
                problems.append(f"queues[{i}].wrapup_max: shorter than the wrap-up itself")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def queue_wrapup(self, queue: QueueRules) -> float:
        """Seconds of wrap-up after a call of `queue` (the ACD's default when it gives none)."""
        return queue.wrapup_seconds(self.acd.wrapup)

    def queue_wrapup_max(self, queue: QueueRules) -> float:
        """The longest an agent may extend a wrap-up of `queue` to."""
        return queue.wrapup_limit(self.acd.wrapup)

    def queue_log_path(self) -> Path:
        return self.queue_log.path if self.queue_log.path is not None else self.data_dir / "queue_log"

    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.data_dir / 'callserver.db'}"

    def call_data_for(self, dnis: str) -> dict[str, object]:
        """What dialling `dnis` says about a call, as requirement data (`call.<name>`)."""
        queue = self.queue_for_dnis(dnis)
        if queue is None:
            return {}
        return {f"call.{k}": v for k, v in queue.dnis_data.get(dnis, {}).items()}

    def queue_for_dnis(self, dnis: str) -> QueueConfig | None:
        for queue in self.queues:
            if dnis in queue.dnis:
                return queue
        return None


def queue_rule_problems(
    queues: Sequence[QueueRules], known_skills: set[str] | None, section: str = "queues"
) -> list[str]:
    """Checks of queue rules that need no engine, shared by the configuration and scenarios.

    Skills must be known (unless `known_skills` is None), steps ordered, and a caller may only be
    sent on to a queue that exists and is not the queue itself. Requirement expressions are
    parsed in `callserver.checks`.
    """
    problems: list[str] = []
    names = {q.name for q in queues}
    for i, queue in enumerate(queues):
        where = f"{section}[{i}]"
        for skill in queue.skills:
            if known_skills is not None and skill not in known_skills:
                problems.append(f"{where}.skills: unknown skill '{skill}'")
        if queue.skills and queue.steps:
            problems.append(f"{where}: give 'skills' or 'steps', not both")
        afters = [step.after for step in queue.steps]
        if afters and (afters[0] != 0 or afters != sorted(set(afters))):
            problems.append(f"{where}.steps: 'after' must start at 0 and strictly increase")
        for field_name in ("on_timeout", "on_full", "on_no_agents"):
            action = getattr(queue, field_name)
            target = action.queue if action is not None else None
            if target is not None and target not in names:
                problems.append(f"{where}.{field_name}.queue: unknown queue '{target}'")
            if target == queue.name:
                problems.append(f"{where}.{field_name}.queue: a queue cannot overflow to itself")
    return problems


def _unique(problems: list[str], section: str, values: list[str], field: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            problems.append(f"{section}[{i}].{field}: duplicate '{value}'")
        seen.add(value)


ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "CALLSERVER_AMI_HOST": ("ami", "host"),
    "CALLSERVER_AMI_PORT": ("ami", "port"),
    "CALLSERVER_AMI_USERNAME": ("ami", "username"),
    "CALLSERVER_AMI_SECRET": ("ami", "secret"),
    "CALLSERVER_DATABASE_URL": ("database", "url"),
}


def format_validation_error(err: ValidationError, root: type[BaseModel] | None = None) -> list[str]:
    """pydantic errors as `field.path[2].name: message` lines (shared by every YAML file we read).

    With the `root` model, a key it does not know comes with the nearest known one, if any.
    """
    problems: list[str] = []
    for item in err.errors():
        loc = item["loc"]
        path = ""
        for part in loc:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += ("." if path else "") + str(part)
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "value_error" and not loc:
            # cross-reference checks already name their own field paths, one per line
            problems.extend(message.splitlines())
            continue
        if item["type"] == "extra_forbidden" and root is not None and loc:
            message = "unknown key" + _did_you_mean(root, loc)
        problems.append(f"{path or '(top level)'}: {message}")
    return problems


def _did_you_mean(root: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """`; did you mean 'x'?` for the known key nearest to the unknown last part of `loc`."""
    model: Any = root
    for part in loc[:-1]:
        model = _inner(model, part)
        if model is None:
            return ""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    near = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f"; did you mean '{near[0]}'?" if near else ""


def _inner(model: Any, part: int | str) -> Any:
    """The type found at `part` inside `model` (a model's field, a list's items, a mapping's values)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        if isinstance(part, int) or part not in model.model_fields:
            return None
        return _unwrap(model.model_fields[part].annotation)
    origin, args = get_origin(model), get_args(model)
    if origin is list and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _unwrap(annotation: Any) -> Any:
    """`X | None`, `Annotated[X, ...]` -> X (the first model of a union)."""
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None):
                return _unwrap(arg)
    return annotation


# list sections whose items are named by a key: problems say `agents[alice]`, not `agents[2]`
_NAMED_ITEMS = {"agents": "id", "queues": "name", "web_users": "login"}
_ITEM_PATH = re.compile(r"^(agents|queues|web_users)\[(\d+)\]")


def name_items(problems: list[str], data: Any) -> list[str]:
    """Replace list indexes by the item's id (agents), name (queues) or login (web users) in
    problem paths, where that name is a valid one and unique in its list."""
    if not isinstance(data, dict):
        return problems
    names: dict[tuple[str, int], str] = {}
    for section, key in _NAMED_ITEMS.items():
        items = data.get(section)
        if not isinstance(items, list):
            continue
        found = [item.get(key) if isinstance(item, dict) else None for item in items]
        for i, name in enumerate(found):
            if isinstance(name, str) and re.match(_NAME, name) and found.count(name) == 1:
                names[(section, i)] = name

    def rename(match: re.Match[str]) -> str:
        name = names.get((match.group(1), int(match.group(2))))
        return f"{match.group(1)}[{name}]" if name is not None else match.group(0)

    return [_ITEM_PATH.sub(rename, problem) for problem in problems]


def parse_settings(
    data: Any, source: str, env: dict[str, str] | None = None, *, checks: ExtraChecks | None = None
) -> Settings:
    """Validate already-loaded YAML data, applying environment overrides.

    `checks` runs once the fields are valid, beside the cross-reference checks, and its problems
    are reported with theirs in one pass: this is how `callserver.checks` adds the checks that need
    an engine's parser without this module importing one.
    """
    if data is None:
        raise ConfigError(
            source,
            ["the file is empty: expected the sections of a configuration (see config/callcentre.yaml)"],
        )
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): expected a mapping of sections"])
    data = dict(data)
    for var, (section, field) in ENV_OVERRIDES.items():
        value = (env or {}).get(var)
        if value:
            block = dict(data.get(section) or {})
            block[field] = value
            data[section] = block
    try:
        return Settings.model_validate(data, context={_EXTRA_CHECKS: checks})
    except ValidationError as err:
        problems = format_validation_error(err, Settings)
        problems += _beyond_field_errors(data, err, checks, problems)
        raise ConfigError(source, name_items(problems, data)) from None


def _beyond_field_errors(
    data: dict[str, Any], err: ValidationError, checks: ExtraChecks | None, known: list[str]
) -> list[str]:
    """The checks a field error keeps pydantic from running (cross-references, engine checks),
    run on the configuration without its faulty parts, so every fault is reported at once.

    Faulty list items and sections are left out. A problem that names a left-out item, or whose
    path can no longer be told apart (an index in a list that lost items, for an item without a
    name), is not reported: it may only follow from leaving the item out.
    """
    trimmed = dict(data)
    gone: dict[str, set[int]] = {}
    names: set[str] = set()
    for item in err.errors():
        loc = item["loc"]
        if not loc:
            return []  # the cross-reference checks did run: nothing is hidden
        section = str(loc[0])
        items = data.get(section)
        if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(items, list):
            gone.setdefault(section, set()).add(loc[1])
            entry = items[loc[1]] if loc[1] < len(items) else None
            key = _NAMED_ITEMS.get(section)
            if key is not None and isinstance(entry, dict) and isinstance(entry.get(key), str):
                names.add(str(entry[key]))
        else:
            trimmed.pop(section, None)
    for section, indexes in gone.items():
        trimmed[section] = [x for i, x in enumerate(data[section]) if i not in indexes]
    try:
        Settings.model_validate(trimmed, context={_EXTRA_CHECKS: checks})
    except ValidationError as second:
        found = name_items(format_validation_error(second, Settings), trimmed)
        return [
            p
            for p in found
            if p not in known
            and not any(f"'{name}'" in p for name in names)
            and not any(re.match(rf"^{section}\[\d+\]", p) for section in gone)
        ]
    return []


def read_yaml(path: Path, error: type[ConfigError] = ConfigError) -> Any:
    """Load a YAML file; unreadable files and syntax errors raise `error` with line and column."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise error(source, [f"cannot read file: {err.strerror}"]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise error(source, [f"{where}invalid YAML: {getattr(err, 'problem', err)}"]) from None


def load_settings(
    path: Path, env: dict[str, str] | None = None, *, checks: ExtraChecks | None = None
) -> Settings:
    """Read and validate `path`; `env` defaults to the process environment."""
    data = read_yaml(path)
    return parse_settings(data, str(path), dict(os.environ) if env is None else env, checks=checks)


__all__ = [
    "DEFAULT_CONFIG",
    "AgentConfig",
    "AgiConfig",
    "ConfigError",
    "ExtraChecks",
    "FrozenModel",
    "PortInUse",
    "QueueConfig",
    "QueueRules",
    "Settings",
    "SimulatorConfig",
    "format_validation_error",
    "load_settings",
    "name_items",
    "parse_settings",
    "queue_rule_problems",
    "read_yaml",
]
