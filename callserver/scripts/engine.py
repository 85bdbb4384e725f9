"""The script engine: one run of one script, with an agent or a web customer, free of I/O.

A run is fed answers and moves (`answer`, `forward`, `back`, `jump`, `talk_to_someone`, `abandon`),
each with the time `now`, and returns commands (`commands.py`) for an adapter to carry out. It
keeps the path taken and every answer with who gave it and when, and hands out its record.

Moves follow three rules. A required question must be answered before going forward, so a jump
cannot pass one either. Going back keeps later answers: going forward again along the same way
finds them, while a different way drops them. Fields and outcomes are set again each time a step
is completed (the last value wins), but a callback, a task or a transfer cannot be taken back, so
the run cannot go back past the step that made one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from callserver.ivr.expr import evaluate
from callserver.scripts.answers import AnswerError, Checking, canonical, check_answer
from callserver.scripts.commands import Command, End, Handover
from callserver.scripts.effects import carry_out, hand_over
from callserver.scripts.format import render, show_answer
from callserver.scripts.model import CUSTOMER, Audience, Script, Step, Template
from callserver.scripts.record import (
    Answer,
    EventKind,
    RunEvent,
    RunRecord,
    RunStateError,
    RunStatus,
    check_transition,
)
from callserver.scripts.view import Pending, StepView, step_view


class NavigationError(Exception):
    """A move the run cannot make from where it is; the message says why, for the panel."""


class AnswerRequired(NavigationError):
    def __init__(self, step: str, question: str) -> None:
        super().__init__(f"question '{question}' at step '{step}' needs an answer first")
        self.step, self.question = step, question


class StaleStep(NavigationError):
    """An answer for a step the run is no longer at (another tab, a double click)."""


@dataclass(frozen=True, slots=True)
class RunContext:
    """What the adapter knows when a run starts.

    `agent` is the id of the agent running the script, None for a customer on the web. `customer`
    is the customer record (field -> value; None when nobody is identified), `call` the call data
    (caller, dnis, queue, language, IVR answers...). `timezone` says which day "today" is.
    """

    run_id: str
    agent: str | None = None
    customer: Mapping[str, object] | None = None
    call: Mapping[str, object] = field(default_factory=dict)
    timezone: str = "UTC"


@dataclass(slots=True)
class _State:
    """Everything a run changes, in one place so that a jump can be tried and undone."""

    path: list[str]
    position: int = 0
    floor: int = 0  # lowest position `back` may reach
    floor_reason: str = ""
    answers: dict[int, Answer] = field(default_factory=dict)  # by path position
    fields: dict[str, str] = field(default_factory=dict)  # customer fields this run has set
    outcome: str | None = None
    events: list[RunEvent] = field(default_factory=list)
    status: RunStatus = RunStatus.ACTIVE
    ended_at: datetime | None = None

    def copy(self) -> _State:
        return replace(
            self,
            path=list(self.path),
            answers=dict(self.answers),
            fields=dict(self.fields),
            events=list(self.events),
        )


class ScriptRun:
    """One use of one script. Not thread-safe: one adapter task drives it."""

    def __init__(self, script: Script, context: RunContext, now: datetime) -> None:
        _check_time(now)
        if context.agent is None and not script.web:
            raise RunStateError(f'script {script.id} is not for the web (web="false")')
        if context.agent == CUSTOMER:
            raise ValueError(f"'{CUSTOMER}' cannot be an agent id")
        if context.agent is None and script.steps[script.start].audience is Audience.AGENT:
            raise RunStateError(f"script {script.id} starts with a step for agents only")
        has_agent_steps = any(s.audience is Audience.AGENT for s in script.steps.values())
        if context.agent is None and has_agent_steps and script.handoff is None:
            raise RunStateError(f"script {script.id} has steps for agents but no handoff for the web")
        self.script = script
        self.context = context
        self.started_at = now
        self._zone = ZoneInfo(context.timezone)
        self._s = _State(path=[script.start])

    # ---- what the run is at ----

    @property
    def run_id(self) -> str:
        return self.context.run_id

    @property
    def self_service(self) -> bool:
        return self.context.agent is None

    @property
    def context_agent(self) -> str | None:
        return self.context.agent

    @property
    def customer_id(self) -> int | str | None:
        found = None if self.context.customer is None else self.context.customer.get("id")
        return found if isinstance(found, int | str) and not isinstance(found, bool) else None

    @property
    def status(self) -> RunStatus:
        return self._s.status

    @property
    def step(self) -> str:
        return self._s.path[self._s.position]

    @property
    def position(self) -> int:
        return self._s.position

    @property
    def path(self) -> tuple[str, ...]:
        """The steps from the start to the current one."""
        return tuple(self._s.path[: self._s.position + 1])

    @property
    def answers(self) -> tuple[Answer, ...]:
        """The answers along `path`, in order."""
        s = self._s
        return tuple(s.answers[i] for i in sorted(s.answers) if i <= s.position)

    @property
    def outcome(self) -> str | None:
        return self._s.outcome

    def resolve(self, ref: str) -> object:
        """The value of `data.x` (an answer on the path), `customer.x` or `call.x`; None when unknown."""
        namespace, _, name = ref.partition(".")
        if namespace == "data":
            for i in range(self._s.position, -1, -1):
                answer = self._s.answers.get(i)
                if answer is not None and answer.question == name:
                    return answer.value
            return None
        if namespace == "customer":
            if name in self._s.fields:
                return self._s.fields[name]
            return None if self.context.customer is None else self.context.customer.get(name)
        if name == "self_service":
            return self.self_service
        if name == "agent":
            return self.context.agent
        return self.context.call.get(name)

    # ---- moves ----

    def answer(self, step: str, value: object, *, by: str, now: datetime) -> None:
        """Record the answer to the current step's question (None or blank clears an optional one)."""
        self._ready(by, now)
        if step != self.step:
            raise StaleStep(f"the run is at step '{self.step}', not '{step}'")
        question = self.script.steps[step].question
        if question is None:
            raise NavigationError(f"step '{step}' asks no question")
        value_ = check_answer(question, value, self._checking(now))
        s = self._s
        if value_ is None:
            if question.required:
                raise AnswerError("An answer is required.")
            if s.answers.pop(s.position, None) is not None:
                self._log(EventKind.CLEARED, by, now)
            return
        label = self._render(question.label)
        shown = show_answer(question, value_, self._render, self.script.language, self.script.currency)
        text = canonical(value_)
        s.answers[s.position] = Answer(
            s.position, step, question.name, question.kind, label, value_, text, shown, by, now
        )
        self._log(EventKind.ANSWERED, by, now, canonical(value_))

    def submit(self, step: str, value: object, *, by: str, now: datetime) -> list[Command]:
        """Answer and go forward in one move, as a web page's form does."""
        self.answer(step, value, by=by, now=now)
        return self.forward(by=by, now=now)

    def forward(self, *, by: str, now: datetime) -> list[Command]:
        """Complete the current step (its actions) and go where its branches say, or end."""
        self._ready(by, now)
        return self._forward(by, now, jumping=False)

    def back(self, *, by: str, now: datetime) -> None:
        self._ready(by, now)
        s = self._s
        if s.position == 0:
            raise NavigationError("already at the first step")
        if s.position <= s.floor:
            raise NavigationError(f"cannot go back: {s.floor_reason}, which cannot be undone")
        s.position -= 1
        self._log(EventKind.BACK, by, now)

    def jump(self, target: str, *, by: str, now: datetime) -> list[Command]:
        """Go to `target`: back to a step on the path, or forward along the way the answers lead.

        Going forward this way completes each step passed (their actions run), so it stops, and
        nothing changes, when a required question is unanswered or the way ends before `target`.
        """
        self._ready(by, now)
        if target not in self.script.steps:
            raise NavigationError(f"there is no step '{target}'")
        s = self._s
        if target == self.step:
            return []
        earlier = [i for i in range(s.floor, s.position) if s.path[i] == target]
        if earlier:
            s.position = earlier[-1]
            self._log(EventKind.JUMP, by, now)
            return []
        saved = s.copy()
        commands: list[Command] = []
        try:
            for _ in range(len(s.path) + len(self.script.steps)):
                commands += self._forward(by, now, jumping=True)
                if self.step == target:
                    self._log(EventKind.JUMP, by, now)
                    return commands
            raise NavigationError("it is not ahead on the way the answers lead")
        except NavigationError as err:
            self._s = saved
            raise NavigationError(f"cannot jump to '{target}': {err}") from None

    def talk_to_someone(self, *, by: str, now: datetime) -> list[Command]:
        """A web customer asks for a person: the script's handoff, carrying the answers so far."""
        self._ready(by, now)
        if not self.self_service:
            raise RunStateError("an agent is already on this run")
        if self.script.handoff is None:
            raise RunStateError(f"script {self.script.id} offers no handoff")
        return self._hand_off("asked for a person", by, now)

    def abandon(self, *, now: datetime, reason: str = "") -> list[Command]:
        """The call or the web session ended before the script did."""
        by = self.context.agent or CUSTOMER
        self._ready(by, now)
        return [self._close(RunStatus.ABANDONED, EventKind.ABANDONED, by, now, reason)]

    # ---- what the panel shows ----

    def pending(self) -> tuple[Pending, ...]:
        """What must still be done before wrap-up."""
        if self.status is not RunStatus.ACTIVE:
            return ()
        out: list[Pending] = []
        step = self.script.steps[self.step]
        question = step.question
        if question is not None and question.required and self._s.position not in self._s.answers:
            out.append(Pending(step.id, "answer", f"Answer: {self._render(question.label)}"))
        if self.script.complete_before_wrapup:
            out.append(Pending(step.id, "end", "Go on to the end of the script"))
        return tuple(out)

    def view(self, now: datetime) -> StepView:
        """The current step for the run's audience: a customer's view has no agents' notes."""
        _check_time(now)
        return step_view(self, now)

    @property
    def can_back(self) -> bool:
        s = self._s
        return self.status is RunStatus.ACTIVE and s.position > 0 and s.floor < s.position

    @property
    def current_answer(self) -> Answer | None:
        """The answer given at the current step, if any (kept when going back, to fill the field in)."""
        return self._s.answers.get(self._s.position)

    def record(self) -> RunRecord:
        s = self._s
        return RunRecord(
            run_id=self.run_id,
            script_id=self.script.id,
            version=self.script.version,
            self_service=self.self_service,
            agent=self.context.agent,
            status=s.status,
            started_at=self.started_at,
            ended_at=s.ended_at,
            path=self.path,
            answers=self.answers,
            outcome=s.outcome,
            events=tuple(s.events),
        )

    # ---- inside ----

    def _ready(self, by: str, now: datetime) -> None:
        _check_time(now)
        if self.status is not RunStatus.ACTIVE:
            raise RunStateError(f"script run {self.run_id} is {self.status.value}")
        if self.self_service and by != CUSTOMER:
            raise ValueError(f"a web run is answered by '{CUSTOMER}', not '{by}'")
        if not self.self_service and (not by or by == CUSTOMER):
            raise ValueError("an agent's run is answered by an agent id")

    def _forward(self, by: str, now: datetime, *, jumping: bool) -> list[Command]:
        s = self._s
        step = self.script.steps[self.step]
        if step.question is not None and step.question.required and s.position not in s.answers:
            raise AnswerRequired(step.id, step.question.name)
        commands, effect = carry_out(step, self, now)  # first: a field it sets may steer the branches
        if effect:
            s.floor, s.floor_reason = s.position + 1, f"step '{step.id}' made a {effect}"
        target = self._route(step)
        to_agent = (
            target is not None and self.self_service and self.script.steps[target].audience is Audience.AGENT
        )
        if jumping and (target is None or to_agent):  # `jump` puts the saved state back
            raise NavigationError(f"the way ends at step '{step.id}' before it")
        self._log(EventKind.FORWARD, by, now, target or "end")
        if target is None:
            return [*commands, self._close(RunStatus.FINISHED, EventKind.FINISHED, by, now)]
        if to_agent:
            return commands + self._hand_off(f"step '{target}' is for agents", by, now)
        if s.position + 1 < len(s.path) and s.path[s.position + 1] == target:
            s.position += 1  # the way already taken: later answers still hold
        else:
            del s.path[s.position + 1 :]
            s.answers = {i: a for i, a in s.answers.items() if i <= s.position}
            s.path.append(target)
            s.position += 1
        return commands

    def _route(self, step: Step) -> str | None:
        for branch in step.branches:
            if evaluate(branch.when.condition, self.resolve):
                return branch.to
        return step.next

    def _hand_off(self, reason: str, by: str, now: datetime) -> list[Command]:
        handoff = self.script.handoff
        if handoff is None:  # refused when the run was made
            raise RunStateError(f"script {self.script.id} offers no handoff")
        command = hand_over(handoff.action, self, now)
        self._log(EventKind.HANDOFF, by, now, reason)
        return [command, self._close(RunStatus.HANDED_OFF, None, by, now)]

    def _close(
        self, status: RunStatus, event: EventKind | None, by: str, now: datetime, detail: str = ""
    ) -> End:
        check_transition(self.run_id, self._s.status, status)
        self._s.status, self._s.ended_at = status, now
        if event is not None:
            self._log(event, by, now, detail)
        return End(self.run_id, status, self.record())

    def _log(self, kind: EventKind, by: str, now: datetime, detail: str = "") -> None:
        self._s.events.append(RunEvent(kind, self.step, by, now, detail))

    def set_field(self, name: str, value: str) -> None:
        """Called by `effects` when a set-field runs: later texts and branches see the new value."""
        self._s.fields[name] = value

    def set_outcome(self, code: str) -> None:
        self._s.outcome = code

    def handover(self) -> Handover:
        lines = tuple((a.label, a.shown) for a in self.answers)
        return Handover(self.script.id, self.script.version, self.run_id, self.answers, lines)

    def render(self, template: Template) -> str:
        return self._render(template)

    def _render(self, template: Template) -> str:
        return render(template, self.resolve, language=self.script.language, currency=self.script.currency)

    def _checking(self, now: datetime) -> Checking:
        return Checking(self.today(now), self.script.language, self.script.currency)

    def today(self, now: datetime) -> date:
        return now.astimezone(self._zone).date()


def _check_time(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"time {now.isoformat()} has no time zone")


__all__ = ["AnswerRequired", "NavigationError", "RunContext", "ScriptRun", "StaleStep"]
