"""The IVR flow format: named nodes forming a graph, one flow per set of dialled numbers.

Pydantic checks each node on its own (field types, hours syntax, conditions, templates); the
cross-node checks (targets, reachability, loops, queues) live in `validate.py`, which also turns
both kinds of fault into `ivr.flows.<flow>.nodes.<node>...: problem` lines.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from callserver.ivr import hours
from callserver.ivr.expr import parse_condition
from callserver.ivr.say import parse_template

_NAME = r"^[A-Za-z][A-Za-z0-9_-]*$"
_VAR = r"^[A-Za-z][A-Za-z0-9_]*$"
_DTMF = set("0123456789*#")
_NUMBER = re.compile(r"^\+?[0-9*#]{2,20}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


LocalText = str | dict[str, str]  # one text, or one per language: {en: Hello, fr: Bonjour}


def text_variants(text: LocalText) -> list[tuple[str, str]]:
    """(path suffix, text) for each language variant: `("", t)` or `(".fr", t)`."""
    if isinstance(text, str):
        return [("", text)]
    return [(f".{lang}", t) for lang, t in text.items()]


def pick_text(text: LocalText, language: str, fallback: str) -> str:
    """The caller's language, else the flow's, else the first one written."""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get(fallback) or next(iter(text.values()), "")


def _check_text(text: LocalText) -> LocalText:
    if isinstance(text, dict) and not text:
        raise ValueError("give the text, or one text per language")
    for _, variant in text_variants(text):
        parse_template(variant)
    return text


class PromptConfig(_Model):
    """What the caller hears: `text` for the speech synthesiser or `file` for a recorded sound.

    A plain string is short for `{text: ...}`. Text may hold `{customer.name}`-style fields, and
    may be given per language (`text: {en: ..., fr: ...}`): the caller's current language is used.
    """

    text: LocalText | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> PromptConfig:
        if self.text is None and self.file is None:
            raise ValueError("missing prompt: give 'text' or 'file'")
        if self.text is not None and self.file is not None:
            raise ValueError("give only one of 'text' or 'file'")
        if self.text is not None:
            _check_text(self.text)
        if self.file is not None and (not self.file or any(c.isspace() for c in self.file)):
            raise ValueError(f"'{self.file}' is not a sound file name (no spaces, no extension)")
        return self


def _opening(v: str) -> str:
    hours.parse_range(v)
    return v


def _holiday(v: date | str) -> date | str:
    hours.parse_holiday(v)
    return v


OpeningLine = Annotated[str, AfterValidator(_opening)]
Holiday = Annotated[date | str, AfterValidator(_holiday)]


class ScheduleConfig(_Model):
    """Opening hours in one time zone: `open: [mon-fri 08:30-18:00]`, `holidays: [2025-12-25, 05-01]`."""

    timezone: str
    open: list[OpeningLine] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        hours.zone(v)
        return v

    def is_open(self, now: datetime) -> bool:
        ranges = tuple(hours.parse_range(line) for line in self.open)
        holidays = tuple(hours.parse_holiday(d) for d in self.holidays)
        return hours.is_open(now, hours.zone(self.timezone), ranges, holidays)


class PlayNode(_Model):
    type: Literal["play"]
    prompt: PromptConfig | None = None
    next: str


class SayNode(_Model):
    """Speak a template: `Your balance is {customer.balance|currency}.`"""

    type: Literal["say"]
    text: LocalText
    currency: str = "EUR"
    next: str

    @field_validator("text")
    @classmethod
    def _template(cls, v: LocalText) -> LocalText:
        return _check_text(v)


class MenuNode(_Model):
    type: Literal["menu"]
    prompt: PromptConfig | None = None
    options: dict[str, str]
    timeout: float = Field(default=5.0, gt=0)
    retries: int = Field(default=2, ge=0)  # further attempts after the first
    invalid: PromptConfig | None = None
    no_input: PromptConfig | None = None
    fallback: str

    @field_validator("options", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        # YAML reads `1: billing` with an integer key
        return {str(k): t for k, t in v.items()} if isinstance(v, dict) else v

    @field_validator("options")
    @classmethod
    def _digits(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if len(key) != 1 or key not in _DTMF:
                raise ValueError(f"option '{key}' is not one key of 0-9, * or #")
        if not v:
            raise ValueError("a menu needs at least one option")
        return v


class CollectNode(_Model):
    """Digits typed by the caller, kept in `data.<variable>` (not passed on when `private`)."""

    type: Literal["collect"]
    variable: str = Field(pattern=_VAR)
    prompt: PromptConfig | None = None
    min_length: int = Field(default=1, ge=1)
    max_length: int = Field(default=20, ge=1, le=64)
    terminator: Literal["#", ""] = "#"
    timeout: float = Field(default=5.0, gt=0)
    pattern: str | None = None
    check: Literal["luhn", "date"] | None = None
    retries: int = Field(default=2, ge=0)
    invalid: PromptConfig | None = None
    private: bool = False
    on_invalid: str
    next: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as err:
                raise ValueError(f"'{v}' is not a regular expression: {err}") from None
        return v

    @model_validator(mode="after")
    def _lengths(self) -> CollectNode:
        if self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        return self


class LookupNode(_Model):
    """Find the customer by `by` (a record field) using the caller's number or a collected variable."""

    type: Literal["lookup"]
    by: Literal["phone", "account", "id", "email"] = "phone"
    variable: str | None = Field(default=None, pattern=_VAR)  # None: the caller's number
    found: str
    not_found: str
    several: str | None = None  # None: same as not_found


class Case(_Model):
    when: str
    next: str

    @field_validator("when")
    @classmethod
    def _condition(cls, v: str) -> str:
        parse_condition(v)
        return v


class BranchNode(_Model):
    type: Literal["branch"]
    cases: list[Case]
    default: str


class SetNode(_Model):
    """Call data handed on with the call (`language` also changes the language of later prompts)."""

    type: Literal["set"]
    values: dict[str, str | int | float | bool]
    next: str

    @field_validator("values")
    @classmethod
    def _names(cls, v: dict[str, str | int | float | bool]) -> dict[str, str | int | float | bool]:
        for key, value in v.items():
            if not re.match(_VAR, key):
                raise ValueError(f"'{key}' is not a variable name")
            if isinstance(value, str):
                parse_template(value)
        return v


class HoursNode(_Model):
    """Branch on business hours: a schedule of the flow by name, or one written inline."""

    type: Literal["hours"]
    schedule: str | None = None
    hours: ScheduleConfig | None = None
    open: str
    closed: str

    @model_validator(mode="after")
    def _one_schedule(self) -> HoursNode:
        if (self.schedule is None) == (self.hours is None):
            raise ValueError("give exactly one of 'schedule' (a name) or 'hours' (inline)")
        return self


class QueueNode(_Model):
    type: Literal["queue"]
    queue: str
    prompt: PromptConfig | None = None


class VoicemailNode(_Model):
    """Record a message for a queue's or an agent's mailbox."""

    type: Literal["voicemail"]
    queue: str | None = None
    agent: str | None = None
    prompt: PromptConfig | None = None
    beep: bool = True
    max_length: float = Field(default=120.0, gt=0)
    silence: float | None = Field(default=5.0, gt=0)
    # where the caller goes, after an apology, when nothing could be recorded; default: the mailbox's
    # queue (an agent takes the call live), or the end of the call for an agent's mailbox
    on_failure: str | None = None

    @model_validator(mode="after")
    def _one_box(self) -> VoicemailNode:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("give exactly one of 'queue' or 'agent' as the mailbox")
        return self


class TransferNode(_Model):
    type: Literal["transfer"]
    number: str
    prompt: PromptConfig | None = None

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        if not _NUMBER.match(v):
            raise ValueError(f"'{v}' is not a number to dial")
        return v


class HangupNode(_Model):
    type: Literal["hangup"]
    prompt: PromptConfig | None = None
    reason: str = "normal"


Node = Annotated[
    PlayNode
    | SayNode
    | MenuNode
    | CollectNode
    | LookupNode
    | BranchNode
    | SetNode
    | HoursNode
    | QueueNode
    | VoicemailNode
    | TransferNode
    | HangupNode,
    Field(discriminator="type"),
]
NODE_TYPES = [
    "play",
    "say",
    "menu",
    "collect",
    "lookup",
    "branch",
    "set",
    "hours",
    "queue",
    "voicemail",
    "transfer",
    "hangup",
]
# nodes that stop for the caller's keys; a cycle must pass through one of them
INPUT_NODES = (MenuNode, CollectNode)
# nodes that cannot work without something to say
SPEAKING_NODES = (PlayNode, MenuNode, CollectNode)


class FlowConfig(_Model):
    dnis: list[str] = Field(default_factory=list)
    language: str = "en"
    voice: str | None = None
    start: str
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    nodes: dict[str, Node]

    @field_validator("nodes")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not re.match(_NAME, name):
                raise ValueError(f"'{name}' is not a node name (letter, then letters, digits, _ or -)")
        return v


class IvrConfig(_Model):
    flows: dict[str, FlowConfig]
    default_flow: str | None = None  # for numbers no flow claims

    def flow_for_dnis(self, dnis: str) -> tuple[str, FlowConfig] | None:
        """The flow that answers `dnis`, else the default flow, else None."""
        for name, flow in self.flows.items():
            if dnis in flow.dnis:
                return name, flow
        if self.default_flow is not None:
            return self.default_flow, self.flows[self.default_flow]
        return None


def edges(node: Any) -> list[tuple[str, str]]:
    """(field path relative to the node, target node) for every way out of a node."""
    if isinstance(node, MenuNode):
        out = [(f"options.{k}", t) for k, t in node.options.items()]
        return [*out, ("fallback", node.fallback)]
    if isinstance(node, CollectNode):
        return [("next", node.next), ("on_invalid", node.on_invalid)]
    if isinstance(node, LookupNode):
        out = [("found", node.found), ("not_found", node.not_found)]
        return out + ([("several", node.several)] if node.several is not None else [])
    if isinstance(node, BranchNode):
        return [(f"cases[{i}].next", c.next) for i, c in enumerate(node.cases)] + [("default", node.default)]
    if isinstance(node, HoursNode):
        return [("open", node.open), ("closed", node.closed)]
    if isinstance(node, PlayNode | SayNode | SetNode):
        return [("next", node.next)]
    if isinstance(node, VoicemailNode) and node.on_failure is not None:
        return [("on_failure", node.on_failure)]
    return []
