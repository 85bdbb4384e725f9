"""What a panel or a web page shows of a run's current step, already filled in and filtered.

A customer's view never holds agents' notes. Texts are plain: whoever shows them escapes them.
Bounds are given in canonical form (`2026-03-31`, `12`), as HTML input attributes want them.
"""

from __future__ import annotations

from dataclasses import dataclass

from callserver.scripts.record import RunStatus


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
