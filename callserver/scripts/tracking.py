"""What a move changed in a run, as facts: the step it is now at, the answers given or cleared, the
start and the end. The agent's desk and the web pages publish these, so every use of a script
reaches the store (and MQTT, the live channel) through the one write path.
"""

from __future__ import annotations

from dataclasses import dataclass

from callserver.facts.model import Fact, ScriptAnswered, ScriptRunEnded, ScriptRunStarted, ScriptStepReached
from callserver.scripts.commands import End
from callserver.scripts.engine import ScriptRun
from callserver.scripts.record import Answer


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where a run was before a move: its place, and the answers on its path."""

    position: int
    step: str
    answers: dict[int, Answer]

    @classmethod
    def of(cls, run: ScriptRun) -> Snapshot:
        return cls(run.position, run.step, {a.position: a for a in run.answers})


def started(run: ScriptRun, call_id: str, at: float, customer_id: int | None) -> list[Fact]:
    script = run.script
    step = script.steps[run.step]
    return [
        ScriptRunStarted(call_id, at, run.run_id, script.id, script.version, run.context_agent, customer_id),
        ScriptStepReached(
            call_id, at, run.run_id, script.id, run.context_agent, run.step, step.title or "", run.position
        ),
    ]


def after_move(before: Snapshot, run: ScriptRun, call_id: str, at: float) -> list[Fact]:
    """The answers that changed on the path, then the new step if the run moved."""
    facts: list[Fact] = []
    agent = run.context_agent
    now = {a.position: a for a in run.answers}
    for position, answer in sorted(now.items()):
        old = before.answers.get(position)
        if old is None or (old.text, old.by, old.at, old.step) != (
            answer.text,
            answer.by,
            answer.at,
            answer.step,
        ):
            facts.append(
                ScriptAnswered(
                    call_id,
                    at,
                    run.run_id,
                    agent,
                    position,
                    answer.step,
                    answer.question,
                    answer.kind,
                    answer.label,
                    answer.text,
                    answer.shown,
                    answer.by,
                )
            )
    for position, old in sorted(before.answers.items()):
        if position not in now and position <= run.position and run.path[position] == old.step:
            facts.append(
                ScriptAnswered(
                    call_id,
                    at,
                    run.run_id,
                    agent,
                    position,
                    old.step,
                    old.question,
                    old.kind,
                    old.label,
                    None,
                    "",
                    old.by,
                )
            )
    if (before.position, before.step) != (run.position, run.step):
        step = run.script.steps[run.step]
        facts.append(
            ScriptStepReached(
                call_id, at, run.run_id, run.script.id, agent, run.step, step.title or "", run.position
            )
        )
    return facts


def ended(end: End, run: ScriptRun, call_id: str, at: float) -> ScriptRunEnded:
    return ScriptRunEnded(
        call_id,
        at,
        run.run_id,
        run.script.id,
        run.context_agent,
        end.status.value,
        end.record.outcome,
        end.record.as_dict(),
    )
