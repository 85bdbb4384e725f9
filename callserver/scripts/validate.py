"""Checks a schema cannot make: references against the configuration and the shape of the step graph.

`check_script` is what check-config, start-up and the editor call once `read.py` has a Script:
unknown steps, fields, queues, agents, skills and outcome codes (with the nearest known name),
unreachable steps, loops without a question, answers read before their question is asked,
conditions that compare an answer with a value it can never have.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import assert_never

from babel import Locale, UnknownLocaleError
from babel.numbers import is_currency

from callserver.acd import expr as requirements
from callserver.ivr import expr
from callserver.ivr.say import Field
from callserver.scripts.graph import must_be_asked, question_free_loops, reachable
from callserver.scripts.model import (
    AGENT_SELF,
    TRANSFERS,
    ActionSpec,
    AgentTransferSpec,
    AskAmount,
    AskChoice,
    AskDate,
    AskNumber,
    AskText,
    AskYesNo,
    Audience,
    CallbackSpec,
    Question,
    QueueTransferSpec,
    Script,
    ScriptContext,
    SetFieldSpec,
    SetOutcomeSpec,
    Step,
    TaskSpec,
    Template,
    When,
)
from callserver.scripts.problems import Problem, unknown


def check_script(script: Script, context: ScriptContext) -> list[Problem]:
    """Every problem found, in file order; those with `warning` set do not stop the script."""
    return sorted(_Checker(script, context).run(), key=lambda p: (p.line or 0, p.warning))


class _Checker:
    def __init__(self, script: Script, context: ScriptContext) -> None:
        self.script = script
        self.context = context
        self.questions: dict[str, Question] = {
            name: step.question for name, step in script.question_steps().items() if step.question
        }
        self.asked_at = {name: step.id for name, step in script.question_steps().items()}
        self.problems: list[Problem] = []

    def error(self, line: int, step: str | None, message: str) -> None:
        self.problems.append(Problem(self.script.source, line, step, message))

    def warn(self, line: int, step: str | None, message: str) -> None:
        self.problems.append(Problem(self.script.source, line, step, message, warning=True))

    def run(self) -> list[Problem]:
        script = self.script
        try:
            Locale.parse(script.language, sep="-")
        except (UnknownLocaleError, ValueError):
            self.error(script.line, None, f"unknown language '{script.language}'")
        if not is_currency(script.currency):
            self.error(script.line, None, f"unknown currency '{script.currency}'")
        if script.start not in script.steps:
            self.error(script.line, None, "start: " + unknown("step", script.start, script.steps))
        elif script.web and script.steps[script.start].audience is Audience.AGENT:
            self.error(script.line, None, f"start: step '{script.start}' is for agents, and web=\"true\"")
        for step in script.steps.values():
            self.step(step)
        self.handoff()
        if script.start in script.steps:
            self.graph()
        return self.problems

    # ---- the graph ----

    def graph(self) -> None:
        script = self.script
        seen = reachable(script)
        for step in script.steps.values():
            if step.id not in seen:
                self.error(step.line, step.id, f"unreachable from start step '{script.start}'")
        for loop in question_free_loops(script):
            first = script.steps[loop[0]]
            shown = " -> ".join([*loop, loop[0]])
            self.error(first.line, first.id, f"loop without a question: {shown}")
        asked = must_be_asked(script, seen)
        for step_id in seen:
            step = script.steps[step_id]
            before = asked[step_id]
            after = before | ({step.question.name} if step.question else set())
            for line, ref, moment in self.reads(step):
                name = ref.removeprefix("data.")
                known = after if moment == "after" else before
                if ref.startswith("data.") and name in self.questions and name not in known:
                    where = self.asked_at[name]
                    self.warn(
                        line,
                        step.id,
                        f"{ref} may not be answered yet here: question '{name}' is asked at step "
                        f"'{where}', which is not on every way to this point",
                    )
            if script.web and step.audience is Audience.AGENT and script.handoff is None:
                self.error(
                    step.line,
                    step.id,
                    "a web script that reaches a step for agents needs a <handoff> for the customer",
                )

    def reads(self, step: Step) -> Iterator[tuple[int, str, str]]:
        """(line, reference, "before"/"after" the step's own question is answered) for each value read."""
        for text in step.texts:
            yield from ((text.line, r, "before") for r in _template_refs(text.template))
        if step.question is not None:
            q = step.question
            for tpl in (q.label, q.hint, *(o.label for o in getattr(q, "options", ()))):
                if tpl is not None:
                    yield from ((q.line, r, "before") for r in _template_refs(tpl))
        for action in step.actions:
            yield from ((action.line, r, "after") for r in _action_refs(action))
        for branch in step.branches:
            yield from ((branch.line, r, "after") for r in expr.refs(branch.when.condition))

    # ---- one step ----

    def step(self, step: Step) -> None:
        for target, line in [(b.to, b.line) for b in step.branches] + [(step.next, step.exit_line)]:
            if target is not None and target not in self.script.steps:
                self.error(line, step.id, unknown("step", target, self.script.steps))
        for text in step.texts:
            self.template(text.template, text.line, step.id)
        if step.question is not None:
            self.question(step.question, step.id)
        for action in step.actions:
            self.action(action, step)
        for branch in step.branches:
            self.when(branch.when, branch.line, step.id)

    def question(self, q: Question, step: str) -> None:
        for tpl in (q.label, q.hint):
            if tpl is not None:
                self.template(tpl, q.line, step)
        if isinstance(q, AskChoice):
            seen: set[str] = set()
            for option in q.options:
                self.template(option.label, option.line, step)
                if option.value in seen:
                    self.error(option.line, step, f"option '{option.value}' is given twice")
                seen.add(option.value)

    def action(self, action: ActionSpec, step: Step) -> None:
        ctx = self.context
        if action.when is not None:
            self.when(action.when, action.line, step.id)
        for ref in _action_refs(action, conditions=False):
            self.ref(ref, action.line, step.id)
        match action:
            case SetFieldSpec(field=name):
                if name not in ctx.customer_fields:
                    self.error(action.line, step.id, unknown("customer field", name, ctx.customer_fields))
                elif name not in ctx.writable_fields:
                    writable = ", ".join(sorted(ctx.writable_fields)) or "none"
                    self.error(
                        action.line,
                        step.id,
                        f"customer field '{name}' cannot be set by a script (writable: {writable})",
                    )
            case SetOutcomeSpec(code=code):
                if code not in ctx.outcome_codes:
                    self.error(action.line, step.id, unknown("outcome code", code, ctx.outcome_codes))
            case CallbackSpec():
                self.callback(action, step.id)
            case QueueTransferSpec(queue=queue):
                if queue not in ctx.queues:
                    self.error(action.line, step.id, unknown("queue", queue, ctx.queues))
            case AgentTransferSpec(agent=agent):
                if agent not in ctx.agents:
                    self.error(action.line, step.id, unknown("agent", agent, ctx.agents))
            case TaskSpec():
                self.task(action, step.id)
            case _:
                assert_never(action)
        if isinstance(action, TRANSFERS):
            if step.next is not None:
                self.error(action.line, step.id, "a transfer hands the call over: the step must <end/>")
            if self.script.web and step.audience is Audience.ALL:
                self.error(
                    action.line,
                    step.id,
                    'a transfer needs a call, which a web run has not: give this step audience="agent"',
                )

    def callback(self, cb: CallbackSpec, step: str | None) -> None:
        ctx = self.context
        if cb.queue is None and cb.agent is None:
            self.error(cb.line, step, "a callback needs a queue, an agent, or both")
        if cb.queue is not None and cb.queue not in ctx.queues:
            self.error(cb.line, step, unknown("queue", cb.queue, ctx.queues))
        if cb.agent is not None and cb.agent != AGENT_SELF and cb.agent not in ctx.agents:
            self.error(cb.line, step, unknown("agent", cb.agent, ctx.agents | {AGENT_SELF}))
        if cb.date is not None and cb.after is not None:
            self.error(cb.line, step, "give 'date' or 'after', not both")
        if cb.date is not None and cb.date.startswith("data."):
            question = self.questions.get(cb.date.removeprefix("data."))
            if question is not None and not isinstance(question, AskDate):
                self.error(cb.line, step, f"{cb.date} is a {question.kind} answer, not a date")

    def task(self, task: TaskSpec, step: str | None) -> None:
        ctx = self.context
        if task.queue is None and task.require is None:
            self.error(task.line, step, "a task needs a queue, a skill requirement, or both")
        if task.queue is not None and task.queue not in ctx.queues:
            self.error(task.line, step, unknown("queue", task.queue, ctx.queues))
        if task.require is not None:
            try:
                parsed = requirements.parse(task.require)
            except requirements.RequirementError as err:
                self.error(task.line, step, f"require: {err.message} at column {err.column}")
                return
            data = {f"customer.{f}" for f in ctx.customer_fields} | {f"call.{f}" for f in ctx.all_call_fields}
            for problem in requirements.check(parsed, known_skills=set(ctx.skills), known_data=data):
                self.error(task.line, step, f"require: {problem}")

    def handoff(self) -> None:
        handoff = self.script.handoff
        if handoff is None:
            return
        action = handoff.action
        if action.when is not None:
            self.error(action.line, None, "a handoff always happens when asked for: remove 'when'")
        for ref in _action_refs(action, conditions=False):
            self.ref(ref, action.line, None)
        if isinstance(action, CallbackSpec):
            if action.agent == AGENT_SELF:
                self.error(action.line, None, 'no agent runs a web script: a handoff cannot use agent="self"')
            self.callback(action, None)
        else:
            self.task(action, None)
        if not self.script.web:
            self.warn(
                handoff.line, None, 'the handoff is only used on the web, and this script has web="false"'
            )

    # ---- values read ----

    def template(self, tpl: Template, line: int, step: str) -> None:
        for ref in _template_refs(tpl):
            self.ref(ref, line, step)

    def when(self, when: When, line: int, step: str) -> None:
        for ref in expr.refs(when.condition):
            self.ref(ref, line, step)
        for compare in _comparisons(when.condition):
            problem = self.comparison(compare)
            if problem:
                self.error(line, step, f"condition '{when.source}': {problem}")

    def ref(self, ref: str, line: int, step: str | None) -> None:
        namespace, _, name = ref.partition(".")
        ctx = self.context
        if namespace == "customer" and name not in ctx.customer_fields:
            self.error(line, step, unknown("customer field", name, ctx.customer_fields))
        elif namespace == "call" and name not in ctx.all_call_fields:
            self.error(line, step, unknown("call field", name, ctx.all_call_fields))
        elif namespace == "data" and name not in self.questions:
            self.error(line, step, f"data.{name}: " + unknown("question", name, self.questions))

    def comparison(self, compare: expr.Compare) -> str | None:
        """Why `data.x <op> literal` can never hold for the type of question x, or None."""
        if not compare.ref.startswith("data.") or compare.op is None:
            return None
        question = self.questions.get(compare.ref.removeprefix("data."))
        value, op, ref = compare.value, compare.op, compare.ref
        if question is None or value is None:
            return None
        if isinstance(question, AskYesNo) and (not isinstance(value, bool) or op not in ("==", "!=")):
            return f"{ref} is a yes/no answer: compare it with == or != and true or false"
        if isinstance(question, AskChoice):
            options = [o.value for o in question.options]
            if not isinstance(value, str) or op not in ("==", "!="):
                return f"{ref} is a choice: compare it with == or != and one of {', '.join(options)}"
            if value not in options:
                shown = ", ".join(options)
                return f"'{value}' is not an option of question '{question.name}' (options: {shown})"
        if isinstance(question, AskNumber | AskAmount) and not isinstance(value, Decimal):
            return f"{ref} is a {question.kind}: compare it with a number"
        if isinstance(question, AskDate) and not _is_day(value):
            return f"{ref} is a date: compare it with a quoted day such as '2026-03-31'"
        if isinstance(question, AskText) and isinstance(value, bool):
            return f"{ref} is a text: compare it with a quoted text"
        return None


def _is_day(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _template_refs(tpl: Template) -> list[str]:
    return [part.ref for part in tpl.parts if isinstance(part, Field)]


def _comparisons(condition: expr.Condition) -> Iterator[expr.Compare]:
    match condition:
        case expr.Compare():
            yield condition
        case expr.Not(operand=operand):
            yield from _comparisons(operand)
        case expr.AllOf(operands=operands) | expr.AnyOf(operands=operands):
            for operand in operands:
                yield from _comparisons(operand)
        case _:
            assert_never(condition)


def _action_refs(action: ActionSpec, *, conditions: bool = True) -> list[str]:
    """Every value an action reads: its templates, its date, and (when asked) its condition."""
    found: list[str] = []
    if conditions and action.when is not None:
        found += expr.refs(action.when.condition)
    match action:
        case SetFieldSpec(value=value):
            found += _template_refs(value)
        case CallbackSpec(date=day, number=number, note=note):
            found += [day] if day is not None else []
            for tpl in (number, note):
                found += _template_refs(tpl) if tpl is not None else []
        case TaskSpec(title=title, note=note):
            found += _template_refs(title)
            found += _template_refs(note) if note is not None else []
        case SetOutcomeSpec() | QueueTransferSpec() | AgentTransferSpec():
            pass
        case _:
            assert_never(action)
    return found
