"""A dialogue script in memory: steps, questions, actions and routing, as read from the XML file.

Everything is frozen and carries the line it came from, so that every later check (references,
reachability, loops) can name file, line and step. `read.py` builds these from a file; `validate.py`
checks them against the configuration; `engine.py` runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from callserver.ivr import expr
from callserver.ivr.say import Template as Parts

NAMESPACE = "urn:callserver:script:1"
AGENT_SELF = "self"  # `agent="self"` on a callback: the agent running the script calls back
CUSTOMER = "customer"  # who answered, on the web
BUILTIN_CALL_FIELDS = frozenset({"self_service", "agent"})


class Audience(StrEnum):
    ALL = "all"  # agents and customers on the web
    AGENT = "agent"  # agents only: a web run hands off to a person when it gets here


@dataclass(frozen=True, slots=True)
class Template:
    """Text with `{customer.name}`-style fields, parsed once when the script is read."""

    source: str
    parts: Parts


@dataclass(frozen=True, slots=True)
class When:
    """A condition of the IVR's condition language (callserver.ivr.expr), with its text."""

    source: str
    condition: expr.Condition


@dataclass(frozen=True, slots=True)
class Text:
    """A `<say>` (read to, or shown to, the customer) or a `<note>` (for the agent only)."""

    template: Template
    agent_only: bool
    line: int


# ---- questions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DateBound:
    """A fixed day, or today plus `offset` days (`today+1`), resolved when an answer is checked."""

    day: date | None
    offset: int = 0

    def resolve(self, today: date) -> date:
        return self.day if self.day is not None else today + timedelta(days=self.offset)

    def __str__(self) -> str:
        if self.day is not None:
            return self.day.isoformat()
        return "today" if not self.offset else f"today{self.offset:+d}"


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: Template
    line: int


@dataclass(frozen=True, slots=True)
class AskChoice:
    name: str
    label: Template
    hint: Template | None
    required: bool
    line: int
    options: tuple[Option, ...]
    kind = "choice"


@dataclass(frozen=True, slots=True)
class AskYesNo:
    name: str
    label: Template
    hint: Template | None
    required: bool
    line: int
    kind = "yes-no"


@dataclass(frozen=True, slots=True)
class AskText:
    name: str
    label: Template
    hint: Template | None
    required: bool
    line: int
    min_length: int = 0
    max_length: int = 500
    pattern: str | None = None
    multiline: bool = False
    kind = "text"


@dataclass(frozen=True, slots=True)
class AskNumber:
    name: str
    label: Template
    hint: Template | None
    required: bool
    line: int
    min: Decimal | None = None
    max: Decimal | None = None
    decimals: int = 0
    kind = "number"


@dataclass(frozen=True, slots=True)
class AskAmount:
    name: str
    label: Template
    hint: Template | None
    required: bool
    line: int
    min: Decimal | None = None
    max: Decimal | None = None
    kind = "amount"


@dataclass(frozen=True, slots=True)
class AskDate:
    name: str
    label: Template
    hint: Template | None
    required: bool
    line: int
    min: DateBound | None = None
    max: DateBound | None = None
    kind = "date"


Question = AskChoice | AskYesNo | AskText | AskNumber | AskAmount | AskDate

# ---- actions (what the script says to do; the engine turns them into commands) ----------------


@dataclass(frozen=True, slots=True)
class SetFieldSpec:
    field: str
    value: Template
    when: When | None
    line: int


@dataclass(frozen=True, slots=True)
class SetOutcomeSpec:
    code: str
    when: When | None
    line: int


@dataclass(frozen=True, slots=True)
class CallbackSpec:
    """`date` names a date value (`data.callback_day`); `after` a delay from now; neither: soon."""

    queue: str | None
    agent: str | None
    date: str | None
    after: timedelta | None
    number: Template | None
    note: Template | None
    when: When | None
    line: int


@dataclass(frozen=True, slots=True)
class QueueTransferSpec:
    queue: str
    when: When | None
    line: int


@dataclass(frozen=True, slots=True)
class AgentTransferSpec:
    agent: str
    when: When | None
    line: int


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task routed like a voicemail message: to `queue`, and/or to agents meeting `require`."""

    title: Template
    queue: str | None
    require: str | None
    note: Template | None
    when: When | None
    line: int


ActionSpec = SetFieldSpec | SetOutcomeSpec | CallbackSpec | QueueTransferSpec | AgentTransferSpec | TaskSpec
# Actions whose effect cannot be taken back: once one is carried out, the run cannot go back past it.
EFFECTS = (CallbackSpec, QueueTransferSpec, AgentTransferSpec, TaskSpec)
TRANSFERS = (QueueTransferSpec, AgentTransferSpec)

# ---- steps and the script ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Branch:
    when: When
    to: str
    line: int


@dataclass(frozen=True, slots=True)
class Step:
    """One page: texts, at most one question, actions on completion, then where to go.

    `next` is None for a step that ends the script (`<end/>`); `exit_line` is the line of the
    `<next>` or `<end/>` element.
    """

    id: str
    line: int
    title: str | None
    audience: Audience
    texts: tuple[Text, ...]
    question: Question | None
    actions: tuple[ActionSpec, ...]
    branches: tuple[Branch, ...]
    next: str | None
    exit_line: int

    def targets(self) -> list[str]:
        """Every step this one may lead to, branches first."""
        out = [b.to for b in self.branches]
        return out if self.next is None else [*out, self.next]


@dataclass(frozen=True, slots=True)
class Handoff:
    """What "talk to someone" does on the web (a callback request or a task), with its button label."""

    label: str
    action: CallbackSpec | TaskSpec
    line: int


@dataclass(frozen=True, slots=True)
class Script:
    id: str
    version: int
    title: str
    description: str
    start: str
    language: str  # a locale such as en or fr-FR: formats amounts and dates
    currency: str
    web: bool  # may run as self-service on the public web page
    complete_before_wrapup: bool
    handoff: Handoff | None
    steps: Mapping[str, Step]  # in file order
    source: str  # the file it was read from, for messages
    line: int = 1

    def question_steps(self) -> dict[str, Step]:
        """Question name -> the step that asks it."""
        return {s.question.name: s for s in self.steps.values() if s.question is not None}


@dataclass(frozen=True, slots=True)
class ScriptContext:
    """What the configuration knows, for the checks a schema cannot make (check-config passes it).

    `writable_fields` are the customer fields a script may set (a subset of `customer_fields`);
    `call_fields` are read as `call.<name>` beside the built-in `self_service` and `agent`.
    """

    customer_fields: frozenset[str]
    writable_fields: frozenset[str]
    call_fields: frozenset[str]
    queues: frozenset[str]
    agents: frozenset[str]
    skills: frozenset[str]
    outcome_codes: frozenset[str]

    @property
    def all_call_fields(self) -> frozenset[str]:
        return self.call_fields | BUILTIN_CALL_FIELDS
