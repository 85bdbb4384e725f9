"""The record of one use of a script: which script and version, the path taken, each answer, who and when.

A run's status moves through an explicit table; an impossible move raises an error naming both
states. `RunRecord.as_dict()` is plain JSON (strings, numbers, lists), what a store persists and a
report exports; answers keep their canonical text beside the text a person saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from callserver.scripts.answers import Value

log = logging.getLogger(__name__)


class RunStatus(StrEnum):
    ACTIVE = "active"
    FINISHED = "finished"  # an <end/> was reached (after a transfer, too)
    HANDED_OFF = "handed_off"  # a web customer asked for a person, or reached a step for agents
    ABANDONED = "abandoned"  # the call or the web session ended first


ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.ACTIVE: frozenset({RunStatus.FINISHED, RunStatus.HANDED_OFF, RunStatus.ABANDONED}),
    RunStatus.FINISHED: frozenset(),
    RunStatus.HANDED_OFF: frozenset(),
    RunStatus.ABANDONED: frozenset(),
}


class RunStateError(Exception):
    """Something a run cannot do in its present state (a finished run, a status change not allowed)."""


def check_transition(run_id: str, old: RunStatus, new: RunStatus) -> None:
    """Raise RunStateError unless `old -> new` is in the table; log the change in one format."""
    if new not in ALLOWED[old]:
        raise RunStateError(f"script run {run_id}: cannot go from {old.value} to {new.value}")
    log.info("script run %s: %s -> %s", run_id, old.value, new.value)


class EventKind(StrEnum):
    ANSWERED = "answered"
    CLEARED = "cleared"
    FORWARD = "forward"
    BACK = "back"
    JUMP = "jump"
    HANDOFF = "handoff"
    FINISHED = "finished"
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer: `text` is canonical (`true`, `42.10`, `2026-03-31`); `shown` is what the person saw.

    `position` is the index in the path of the step it answers (a step met twice in a loop has two).
    """

    position: int
    step: str
    question: str
    kind: str
    label: str
    value: Value
    text: str
    shown: str
    by: str
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "step": self.step,
            "question": self.question,
            "kind": self.kind,
            "label": self.label,
            "value": self.text,
            "shown": self.shown,
            "by": self.by,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One thing that happened to the run, in order: what, at which step, by whom, when."""

    kind: EventKind
    step: str
    by: str
    at: datetime
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "step": self.step,
            "by": self.by,
            "at": self.at.isoformat(),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as a store keeps it; `path` is the steps from the start to where the run is (or ended)."""

    run_id: str
    script_id: str
    version: int
    self_service: bool
    agent: str | None
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None
    path: tuple[str, ...]
    answers: tuple[Answer, ...]
    outcome: str | None
    events: tuple[RunEvent, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "script_id": self.script_id,
            "version": self.version,
            "self_service": self.self_service,
            "agent": self.agent,
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "path": list(self.path),
            "answers": [a.as_dict() for a in self.answers],
            "outcome": self.outcome,
            "events": [e.as_dict() for e in self.events],
        }
