"""Property tests: whatever a person (or a hostile page) sends, a run stays consistent.

Random scripts (random questions, branches forward and back, fields, outcomes, callbacks) and the
billing example are driven by a state machine through random sequences of answers, good and bad,
and moves. After every move the run must be coherent: its path follows the script's edges, answers
sit on the path and pass their checks again, every required question before the current step is
answered, a refused move changes nothing, the outcome is the last one set, and a run ends once,
with an End as its last command.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from callserver.scripts.answers import AnswerError, Checking, check_answer
from callserver.scripts.commands import Command, CreateTask, End, ScheduleCallback, SetOutcome
from callserver.scripts.engine import NavigationError, ScriptRun
from callserver.scripts.model import Script
from callserver.scripts.record import RunStateError, RunStatus
from tests.scripts.helpers import BILLING, NOW, agent_run, load, web_run, xml

QUESTIONS = {
    "yes-no": ('<ask-yes-no name="{n}" required="{r}"><label>Q</label></ask-yes-no>', "data.{n} == true"),
    "number": (
        '<ask-number name="{n}" min="0" max="9" required="{r}"><label>Q</label></ask-number>',
        "data.{n} > 4",
    ),
    "choice": (
        '<ask-choice name="{n}" required="{r}"><label>Q</label><option value="x">X</option>'
        '<option value="y">Y</option></ask-choice>',
        "data.{n} == 'x'",
    ),
    "text": (
        '<ask-text name="{n}" min-length="1" max-length="5" required="{r}"><label>Q</label></ask-text>',
        "data.{n}",
    ),
    "date": (
        '<ask-date name="{n}" min="today" max="today+5" required="{r}"><label>Q</label></ask-date>',
        "data.{n}",
    ),
    "amount": (
        '<ask-amount name="{n}" min="0" max="100" required="{r}"><label>Q</label></ask-amount>',
        "data.{n} > 50",
    ),
}
# per kind of question: two or three answers that fit (and steer its branch both ways), and some that do not
CANDIDATES = {
    "yes-no": ["yes", "no", "maybe", ""],
    "number": ["3", "7", "12", "x"],
    "choice": ["x", "y", "z", ""],
    "text": ["a", "bb", "toolongtext", ""],
    "date": ["2026-03-02", "2026-03-05", "2026-03-20", "bad"],
    "amount": ["10", "75", "500", "1.234"],
}


@dataclass(frozen=True)
class StepPlan:
    question: str | None
    required: bool
    targets: tuple[int, ...]
    outcome: bool
    callback: bool


@st.composite
def scripts(draw: st.DrawFn) -> Script:
    """A valid script: `next` always goes one step on; only steps that ask may branch backwards, so no
    loop is without a question and every step is reachable."""
    n = draw(st.integers(2, 6))
    plans = []
    for i in range(n):
        question = draw(st.none() | st.sampled_from(sorted(QUESTIONS)))
        lowest = 0 if question is not None else i + 1
        targets = tuple(draw(st.lists(st.integers(lowest, n - 1), max_size=2))) if lowest < n else ()
        plans.append(
            StepPlan(question, draw(st.booleans()), targets, draw(st.booleans()), draw(st.booleans()))
        )
    body = []
    for i, plan in enumerate(plans):
        parts = [f'<step id="s{i}">']
        condition = "call.self_service"
        if plan.question is not None:
            element, condition = QUESTIONS[plan.question]
            parts.append(element.format(n=f"q{i}", r=str(plan.required).lower()))
            condition = condition.format(n=f"q{i}")
            parts.append(f'<set-field field="payment_plan" value="{{data.q{i}}}"/>')
        if plan.outcome:
            parts.append(f'<set-outcome code="{"resolved" if i % 2 else "follow-up"}"/>')
        if plan.callback:
            parts.append('<schedule-callback queue="billing" agent="self" after="PT1H"/>')
        parts += [f'<branch when="{condition.replace(">", "&gt;")}" to="s{t}"/>' for t in plan.targets]
        parts.append(f'<next to="s{i + 1}"/>' if i < n - 1 else "<end/>")
        body.append("".join(parts) + "</step>")
    handoff = '<handoff><schedule-callback queue="billing"/></handoff>'
    return load(xml("\n".join(body), start="s0", attrs='web="true"', head=handoff))


def check_consistent(run: ScriptRun) -> None:
    script = run.script
    path = run.path
    assert path[0] == script.start and run.step == path[-1] and run.position == len(path) - 1
    for here, there in itertools.pairwise(path):
        assert there in script.steps[here].targets(), (here, there)
    positions = [a.position for a in run.answers]
    assert positions == sorted(set(positions)) and all(p <= run.position for p in positions)
    checking = Checking(run.today(NOW), script.language, script.currency)
    for answer in run.answers:
        question = script.steps[path[answer.position]].question
        assert question is not None and question.name == answer.question, (answer, path)
        assert check_answer(question, answer.text, checking) == answer.value
    answered = set(positions)
    for position, step_id in enumerate(path[:-1]):
        question = script.steps[step_id].question
        if question is not None and question.required:
            assert position in answered, f"required question at {step_id} skipped"


class Moves(RuleBasedStateMachine):
    """Every move a person can make on one run, and what must hold after each."""

    def __init__(self) -> None:
        super().__init__()
        self.run: ScriptRun | None = None
        self.by = "alice"
        self.minute = 0
        self.outcome: str | None = None
        self.ends: list[End] = []
        self.floor = 0  # a callback or a task was made before this position: no going back past it

    def begin(self, script: Script, web: bool) -> None:
        self.run = web_run(script) if web else agent_run(script)
        self.by = "customer" if web else "alice"

    @property
    def r(self) -> ScriptRun:
        assert self.run is not None
        return self.run

    def active(self) -> bool:
        return self.run is not None and self.run.status is RunStatus.ACTIVE

    def attempt(self, move: Callable[[], list[Command] | None]) -> None:
        """Make a move; a refused one must leave the run exactly as it was."""
        before, position = self.r.record(), self.r.position
        self.minute += 1
        try:
            commands = move() or []
        except (AnswerError, NavigationError) as err:
            assert self.r.record() == before, f"refused ({err}) but changed the run"
            return
        ends = [c for c in commands if isinstance(c, End)]
        assert len(ends) <= 1 and (not ends or commands[-1] is ends[0])
        self.ends += ends
        self.outcome = next((c.code for c in reversed(commands) if isinstance(c, SetOutcome)), self.outcome)
        if any(isinstance(c, ScheduleCallback | CreateTask) for c in commands):
            # made by the step left first (a forward) or one passed later (a jump): at least this far
            self.floor = max(self.floor, position + 1)

    @property
    def now(self) -> datetime:
        return NOW + timedelta(minutes=self.minute)

    @precondition(lambda self: self.active())
    @rule(pick=st.integers(0, 5))
    def answer(self, pick: int) -> None:
        question = self.r.script.steps[self.r.step].question
        raw = "x" if question is None else CANDIDATES[question.kind][pick % 4]
        self.attempt(lambda: self.r.answer(self.r.step, raw, by=self.by, now=self.now))

    @precondition(lambda self: self.active())
    @rule()
    def forward(self) -> None:
        self.attempt(lambda: self.r.forward(by=self.by, now=self.now))

    @precondition(lambda self: self.active())
    @rule()
    def back(self) -> None:
        self.attempt(lambda: self.r.back(by=self.by, now=self.now))

    @precondition(lambda self: self.active())
    @rule(pick=st.integers(0, 20))
    def jump(self, pick: int) -> None:
        steps = list(self.r.script.steps)
        target = steps[pick % len(steps)]
        self.attempt(lambda: self.r.jump(target, by=self.by, now=self.now))

    @precondition(lambda self: self.active() and self.r.self_service and self.minute > 15)
    @rule()
    def talk_to_someone(self) -> None:
        self.attempt(lambda: self.r.talk_to_someone(by=self.by, now=self.now))

    @precondition(lambda self: self.active() and self.minute > 25)
    @rule()
    def abandon(self) -> None:
        self.attempt(lambda: self.r.abandon(now=self.now))

    @precondition(lambda self: self.run is not None and not self.active())
    @rule()
    def ended_run_refuses_every_move(self) -> None:
        run, by, now = self.r, self.by, self.now
        before = run.record()
        moves: list[Callable[[], object]] = [
            lambda: run.answer(run.step, "yes", by=by, now=now),
            lambda: run.forward(by=by, now=now),
            lambda: run.back(by=by, now=now),
            lambda: run.jump(run.script.start, by=by, now=now),
            lambda: run.abandon(now=now),
        ]
        for move in moves:
            with pytest.raises(RunStateError):
                move()
        assert run.record() == before and run.pending() == ()

    @invariant()
    def consistent(self) -> None:
        if self.run is None:
            return
        run = self.run
        assert run.outcome == self.outcome
        if run.status is RunStatus.ACTIVE:
            check_consistent(run)
            assert run.position >= self.floor
            assert not self.ends
            if run.self_service:
                assert all(t.kind == "say" for t in run.view(self.now).texts)
        else:
            assert len(self.ends) == 1 and self.ends[0].record == run.record()


class RandomScriptRun(Moves):
    """A run of a random script, with an agent or on the web."""

    @initialize(script=scripts(), web=st.booleans())
    def start(self, script: Script, web: bool) -> None:
        self.begin(script, web)


BILLING_SCRIPT = load(BILLING.read_bytes())


class BillingRun(Moves):
    """A run of the billing example, with an agent or on the web."""

    @initialize(web=st.booleans())
    def start(self, web: bool) -> None:
        self.begin(BILLING_SCRIPT, web)


MACHINE_SETTINGS = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestRandomScriptRun = RandomScriptRun.TestCase
TestRandomScriptRun.settings = MACHINE_SETTINGS
TestBillingRun = BillingRun.TestCase
TestBillingRun.settings = MACHINE_SETTINGS
