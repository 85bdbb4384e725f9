"""Turns a completed step's actions (and the handoff) into commands, with the run's values filled in.

Kept apart from the engine's moves: this is where a script's words become what an adapter does,
one case per kind of action, exhaustively.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, assert_never

from callserver.ivr.expr import evaluate
from callserver.scripts.commands import (
    Command,
    CreateTask,
    Handover,
    ScheduleCallback,
    SetCustomerField,
    SetOutcome,
    TransferToAgent,
    TransferToQueue,
)
from callserver.scripts.format import render_canonical
from callserver.scripts.model import (
    AGENT_SELF,
    EFFECTS,
    ActionSpec,
    AgentTransferSpec,
    CallbackSpec,
    QueueTransferSpec,
    SetFieldSpec,
    SetOutcomeSpec,
    Step,
    TaskSpec,
    Template,
)


class Run(Protocol):
    """What the effects need of a run (ScriptRun provides it)."""

    @property
    def run_id(self) -> str: ...

    @property
    def context_agent(self) -> str | None: ...

    @property
    def customer_id(self) -> int | str | None: ...

    def resolve(self, ref: str) -> object: ...

    def render(self, template: Template) -> str: ...

    def set_field(self, name: str, value: str) -> None: ...

    def set_outcome(self, code: str) -> None: ...

    def handover(self) -> Handover: ...


_EFFECT_NAMES = {
    CallbackSpec: "callback",
    QueueTransferSpec: "transfer",
    AgentTransferSpec: "transfer",
    TaskSpec: "task",
}


def carry_out(step: Step, run: Run, now: datetime) -> tuple[list[Command], str | None]:
    """The commands for the step's actions whose condition holds, and the last effect made, if any."""
    commands: list[Command] = []
    effect: str | None = None
    for action in step.actions:
        if action.when is not None and not evaluate(action.when.condition, run.resolve):
            continue
        commands.append(_command(action, run, now))
        if isinstance(action, EFFECTS):
            effect = _EFFECT_NAMES[type(action)]
    return commands, effect


def hand_over(action: CallbackSpec | TaskSpec, run: Run, now: datetime) -> Command:
    """The handoff's callback request or task (its `when` is not consulted: it is asked for)."""
    return _command(action, run, now)


def _command(action: ActionSpec, run: Run, now: datetime) -> Command:
    match action:
        case SetFieldSpec():
            value = render_canonical(action.value, run.resolve)
            run.set_field(action.field, value)
            return SetCustomerField(run.run_id, run.customer_id, action.field, value)
        case SetOutcomeSpec():
            run.set_outcome(action.code)
            return SetOutcome(run.run_id, action.code)
        case CallbackSpec():
            agent = run.context_agent if action.agent == AGENT_SELF else action.agent
            number = None if action.number is None else render_canonical(action.number, run.resolve) or None
            return ScheduleCallback(
                run_id=run.run_id,
                queue=action.queue,
                agent=agent,
                due=None if action.date is None else _day(run.resolve(action.date)),
                not_before=None if action.after is None else now + action.after,
                number=number,
                note="" if action.note is None else run.render(action.note),
                handover=run.handover(),
            )
        case QueueTransferSpec():
            return TransferToQueue(run.run_id, action.queue)
        case AgentTransferSpec():
            return TransferToAgent(run.run_id, action.agent)
        case TaskSpec():
            return CreateTask(
                run_id=run.run_id,
                title=run.render(action.title),
                queue=action.queue,
                require=action.require,
                note="" if action.note is None else run.render(action.note),
                handover=run.handover(),
            )
        case _:
            assert_never(action)


def _day(value: object) -> date | None:
    """A date value (an answer or a customer field), or None when there is none to read."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
