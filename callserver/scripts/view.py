"""What a panel or a web page shows of a run's current step, already filled in and filtered.

A customer's view never holds agents' notes. Texts are plain: whoever shows them escapes them.
Bounds are given in canonical form (`2026-03-31`, `12`), as HTML input attributes want them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, assert_never

from babel.numbers import get_currency_precision

from callserver.scripts.answers import canonical
from callserver.scripts.model import AskAmount, AskChoice, AskDate, AskNumber, AskText, AskYesNo, Question
from callserver.scripts.record import RunStatus

if TYPE_CHECKING:
    from callserver.scripts.engine import ScriptRun


@dataclass(frozen=True, slots=True)
class TextView:
    kind: str  # "say" (read or shown to the customer) or "note" (for the agent only)
    text: str


@dataclass(frozen=True, slots=True)
class OptionView:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class QuestionView:
    name: str
    kind: str  # choice, yes-no, text, number, amount, date
    label: str
    hint: str
    required: bool
    options: tuple[OptionView, ...] = ()
    min: str | None = None
    max: str | None = None
    decimals: int | None = None  # number and amount: decimal places accepted
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    multiline: bool = False
    answer: str | None = None  # the current answer, canonical, to fill the field in again
    shown: str | None = None  # the current answer as the person sees it


@dataclass(frozen=True, slots=True)
class Pending:
    """Something still to do before wrap-up: answer a required question, or reach the end."""

    step: str
    kind: str  # "answer" or "end"
    message: str


@dataclass(frozen=True, slots=True)
class StepView:
    step: str
    title: str
    position: int
    texts: tuple[TextView, ...]
    question: QuestionView | None
    ends: bool  # going forward from here ends the script
    can_back: bool
    handoff_label: str | None  # "Talk to someone", on the web when the script offers it
    pending: tuple[Pending, ...]
    status: RunStatus


def step_view(run: ScriptRun, now: datetime) -> StepView:
    """What the run's audience sees of its current step at `now` (date bounds depend on the day)."""
    step = run.script.steps[run.step]
    texts = tuple(
        TextView("note" if t.agent_only else "say", run.render(t.template))
        for t in step.texts
        if not (t.agent_only and run.self_service)
    )
    handoff = run.script.handoff
    return StepView(
        step=step.id,
        title=step.title or "",
        position=run.position,
        texts=texts,
        question=None if step.question is None else _question_view(run, step.question, now),
        ends=step.next is None and not step.branches,
        can_back=run.can_back,
        handoff_label=handoff.label if handoff is not None and run.self_service else None,
        pending=run.pending(),
        status=run.status,
    )


def _question_view(run: ScriptRun, q: Question, now: datetime) -> QuestionView:
    answer = run.current_answer
    view = QuestionView(
        name=q.name,
        kind=q.kind,
        label=run.render(q.label),
        hint="" if q.hint is None else run.render(q.hint),
        required=q.required,
        answer=None if answer is None else answer.text,
        shown=None if answer is None else answer.shown,
    )
    match q:
        case AskChoice():
            return replace(view, options=tuple(OptionView(o.value, run.render(o.label)) for o in q.options))
        case AskText():
            return replace(
                view,
                min_length=q.min_length,
                max_length=q.max_length,
                pattern=q.pattern,
                multiline=q.multiline,
            )
        case AskNumber() | AskAmount():
            places = q.decimals if isinstance(q, AskNumber) else get_currency_precision(run.script.currency)
            low = None if q.min is None else canonical(q.min)
            high = None if q.max is None else canonical(q.max)
            return replace(view, min=low, max=high, decimals=places)
        case AskDate():
            today = run.today(now)
            low_day = None if q.min is None else q.min.resolve(today).isoformat()
            high_day = None if q.max is None else q.max.resolve(today).isoformat()
            return replace(view, min=low_day, max=high_day)
        case AskYesNo():
            return view
        case _:
            assert_never(q)
