"""Configuration: one YAML file validated by pydantic.

Every component receives the typed section it needs from the composition root; nothing reads the
file or the environment anywhere else. Errors name the file, the field path and what is wrong.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG = Path("config/callcentre.yaml")

SkillLevel = Annotated[int, Field(ge=1, le=10)]
_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"
_INTERFACE = re.compile(r"^(PJSIP|SIP|IAX2|Local|DAHDI)/[^\s]+$")
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` holds one `path: message` per fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


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
    # a session ends this long after login however active it is (besides 8 h without use)
    session_lifetime: float = Field(default=12 * 3600.0, gt=0)
    login_checks: int = Field(default=4, ge=1)  # argon2 password checks at once (64 MiB each)


class WebUserConfig(_Model):
    """A supervisor or admin; `password` is an argon2 hash (`callserver passwd`) or, for demos, plain."""

    login: str = Field(pattern=_NAME)
    name: str
    role: Literal["supervisor", "admin"] = "supervisor"
    password: str = Field(min_length=1)


class DatabaseConfig(_Model):
    url: str = ""  # empty: SQLite file under data_dir


class MqttConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    site: str = "default"
    topic_prefix: str = "callserver"


class DialplanConfig(_Model):
    """Names of the contexts in `asterisk/extensions_callserver.conf` the server sends channels to."""

    agent_context: str = "callserver-agent"
    hangup_context: str = "callserver-message"
    remote_dial: str = "PJSIP/{number}@trunk"


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


class RoutingStepConfig(_Model):
    """After `after` seconds in the queue, agents matching `require` may take the call."""

    after: float = Field(default=0.0, ge=0)
    require: str


class QueueConfig(_Model):
    name: str = Field(pattern=_NAME)
    dnis: list[str] = Field(default_factory=list)
    # call data a dialled number implies, e.g. {"0140000501": {language: fr}} -> call.language == "fr"
    dnis_data: dict[str, dict[str, str | int | float | bool]] = Field(default_factory=dict)
    # who may take the calls: either plain skills (all required, any level) or routing steps, each a
    # requirement expression (docs/requirements.md) that applies from `after` seconds of waiting
    skills: list[str] = Field(default_factory=list)
    steps: list[RoutingStepConfig] = Field(default_factory=list)
    strategy: Literal[
        "longest_idle", "least_occupied", "fewest_calls", "best_skill", "round_robin", "random", "ring_all"
    ] = "longest_idle"
    priority: int = 0
    vip_priority: int = 0
    max_wait: float = Field(default=300.0, gt=0)
    on_timeout: TimeoutAction = TimeoutAction(message="vm-goodbye")
    max_length: int | None = Field(default=None, ge=1)
    on_full: TimeoutAction | None = None
    when_no_agents: Literal["join", "refuse"] = "join"
    on_no_agents: TimeoutAction | None = None
    ring_timeout: float = Field(default=15.0, gt=0)
    pause_after_no_answers: int = Field(default=1, ge=1)
    wrapup: float = Field(default=0.0, ge=0)
    announce_every: float | None = Field(default=None, gt=0)
    callback_key: str | None = Field(default=None, pattern=r"^[0-9*#]$")
    task_priority: int = -1000


class AcdConfig(_Model):
    # an agent paused for not answering is made available again after this many seconds
    # (None: stays paused until they choose otherwise)
    no_answer_resume: float | None = Field(default=60.0, gt=0)
    seed: int = 0  # for the `random` strategy: routing stays reproducible
    accept_timeout: float = Field(default=8.0, gt=0)  # a remote agent's time to press 1


class VoicemailConfig(_Model):
    # where Asterisk writes recordings (RECORD FILE) and callserver reads them back for the browser;
    # both must reach it
    recordings_dir: Path | None = None  # default: <data_dir>/recordings


class CustomersConfig(_Model):
    seed_file: Path | None = None


class SimCallers(_Model):
    rate_per_minute: float = Field(default=6.0, gt=0)
    numbers: list[str] = Field(default_factory=lambda: ["+33140000001"])
    dnis: list[str] = Field(default_factory=list)
    patience: tuple[float, float] = (20.0, 90.0)
    talk_time: tuple[float, float] = (20.0, 120.0)
    max_calls: int | None = None


class SimPhone(_Model):
    answer_delay: tuple[float, float] = (1.0, 4.0)
    no_answer_rate: float = Field(default=0.05, ge=0, le=1)
    accept_keys: str = "1"  # what whoever answers types when asked (a remote agent accepting)


class SimulatorConfig(_Model):
    """How the embedded PBX simulator behaves; unused against a real Asterisk."""

    dialplan: list[Path] = Field(default_factory=lambda: [Path("asterisk/extensions_callserver.conf")])
    entry_context: str = "callserver-inbound"
    callers: SimCallers = SimCallers()
    phones: SimPhone = SimPhone()
    seed: int | None = None


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
    customers: CustomersConfig = CustomersConfig()
    voicemail: VoicemailConfig = VoicemailConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    # IVR flows: validated by callserver.ivr.validate (graph checks need the queues), see parse_settings
    ivr: Any = None

    @field_validator("agi", mode="before")
    @classmethod
    def _agi_address_only(cls, v: Any) -> Any:
        """A bare ListenConfig (host and port) is accepted for `agi`; the limits keep their defaults."""
        if isinstance(v, ListenConfig) and not isinstance(v, AgiConfig):
            return v.model_dump()
        return v

    @model_validator(mode="after")
    def _cross_references(self) -> Settings:
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
        queue_names = {q.name for q in self.queues}
        seen_dnis: dict[str, str] = {}
        for i, queue in enumerate(self.queues):
            for skill in queue.skills:
                if skill not in known:
                    problems.append(f"queues[{i}].skills: unknown skill '{skill}'")
            for number in queue.dnis:
                if number in seen_dnis:
                    problems.append(
                        f"queues[{i}].dnis: '{number}' already leads to queue '{seen_dnis[number]}'"
                    )
                seen_dnis[number] = queue.name
            for number in queue.dnis_data:
                if number not in queue.dnis:
                    problems.append(f"queues[{i}].dnis_data.{number}: not one of this queue's dnis")
            if queue.skills and queue.steps:
                problems.append(f"queues[{i}]: give 'skills' or 'steps', not both")
            for j, step in enumerate(queue.steps):
                problems.extend(_check_requirement(f"queues[{i}].steps[{j}].require", step.require, known))
            afters = [step.after for step in queue.steps]
            if afters and (afters[0] != 0 or afters != sorted(set(afters))):
                problems.append(f"queues[{i}].steps: 'after' must start at 0 and strictly increase")
            for field_name in ("on_timeout", "on_full", "on_no_agents"):
                action = getattr(queue, field_name)
                target = action.queue if action is not None else None
                if target is not None and target not in queue_names:
                    problems.append(f"queues[{i}].{field_name}.queue: unknown queue '{target}'")
                if target == queue.name:
                    problems.append(f"queues[{i}].{field_name}.queue: a queue cannot overflow to itself")
        if problems:
            raise ValueError("\n".join(problems))
        return self

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


def _check_requirement(path: str, text: str, known_skills: set[str]) -> list[str]:
    from .acd.expr import RequirementError, check, parse

    try:
        requirement = parse(text)
    except RequirementError as err:
        return [f"{path}: {err.message} at column {err.column}"]
    return [f"{path}: {problem}" for problem in check(requirement, known_skills=known_skills)]


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


def format_validation_error(err: ValidationError) -> list[str]:
    """pydantic errors as `field.path[2].name: message` lines (shared by every YAML file we read)."""
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
        problems.append(f"{path or '(top level)'}: {message}")
    return problems


def parse_settings(data: Any, source: str, env: dict[str, str] | None = None) -> Settings:
    """Validate already-loaded YAML data, applying environment overrides."""
    if data is None:
        data = {}
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
        settings = Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(source, format_validation_error(err)) from None
    if settings.ivr is None:
        return settings
    from .ivr.runner import CUSTOMER_FIELDS
    from .ivr.validate import validate_flows

    flows, problems = validate_flows(
        settings.ivr,
        "ivr",
        queues={q.name for q in settings.queues},
        customer_fields=set(CUSTOMER_FIELDS) | {"balance"},
    )
    errors = [p for p in problems if ": warning: " not in p]
    if errors or flows is None:
        raise ConfigError(source, errors or ["ivr: invalid"])
    return settings.model_copy(update={"ivr": flows})


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


def load_settings(path: Path, env: dict[str, str] | None = None) -> Settings:
    """Read and validate `path`; `env` defaults to the process environment."""
    data = read_yaml(path)
    return parse_settings(data, str(path), dict(os.environ) if env is None else env)


__all__ = [
    "DEFAULT_CONFIG",
    "AgentConfig",
    "AgiConfig",
    "ConfigError",
    "FrozenModel",
    "QueueConfig",
    "Settings",
    "SimulatorConfig",
    "format_validation_error",
    "load_settings",
    "parse_settings",
    "read_yaml",
]
