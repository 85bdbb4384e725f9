"""A scheduled callback (or a task), its ACD task id, and the table of status changes it may go through.

`scheduled` until it is due, `queued` once handed to the ACD, `assigned` when the ACD gives it to
an agent, `in_progress` while the agent calls the customer, `done` with an outcome; `cancelled` by a
supervisor. Any other change is refused with both states named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)

TASK_PREFIX = "sc"  # ACD task ids: sc-<id>


class CallbackKind(StrEnum):
    CALLBACK = "callback"  # call the customer back
    TASK = "task"  # something to do for the customer; nothing to dial


class CallbackStatus(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


ALLOWED: dict[CallbackStatus, frozenset[CallbackStatus]] = {
    CallbackStatus.SCHEDULED: frozenset({CallbackStatus.QUEUED, CallbackStatus.CANCELLED}),
    CallbackStatus.QUEUED: frozenset({CallbackStatus.ASSIGNED, CallbackStatus.CANCELLED}),
    # back to queued: handed to the ACD again after a restart (the ACD forgot it)
    CallbackStatus.ASSIGNED: frozenset(
        {CallbackStatus.QUEUED, CallbackStatus.IN_PROGRESS, CallbackStatus.DONE, CallbackStatus.CANCELLED}
    ),
    CallbackStatus.IN_PROGRESS: frozenset(
        {CallbackStatus.ASSIGNED, CallbackStatus.QUEUED, CallbackStatus.DONE}
    ),
    CallbackStatus.DONE: frozenset(),
    CallbackStatus.CANCELLED: frozenset(),
}
OPEN = frozenset(ALLOWED) - {CallbackStatus.DONE, CallbackStatus.CANCELLED}


class TransitionError(Exception):
    """A status change the table does not allow."""

    def __init__(self, callback_id: int, old: CallbackStatus, new: CallbackStatus) -> None:
        super().__init__(f"callback {callback_id}: cannot go from {old.value} to {new.value}")
        self.old, self.new = old, new


def check_transition(callback_id: int, old: CallbackStatus, new: CallbackStatus) -> None:
    """Raise TransitionError unless `old -> new` is allowed; log the change in one format."""
    if new not in ALLOWED[old]:
        raise TransitionError(callback_id, old, new)
    log.info("callback %d: %s -> %s", callback_id, old.value, new.value)


@dataclass(frozen=True, slots=True)
class NewCallback:
    """What a script asks for; `due_at` is when the ACD should start offering it."""

    kind: CallbackKind
    queue: str
    due_at: datetime
    number: str = ""
    title: str = ""
    note: str = ""
    reserved_for: str | None = None  # only this agent may take it
    requirement: str | None = None  # instead of the queue's routing steps
    handover: dict[str, Any] = field(default_factory=dict)  # script, version, lines (question, answer)
    run_id: str | None = None
    contact_id: str | None = None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ScheduledCallback:
    id: int
    kind: CallbackKind
    queue: str
    due_at: datetime
    number: str
    title: str
    note: str
    reserved_for: str | None
    requirement: str | None
    handover: dict[str, Any]
    run_id: str | None
    contact_id: str | None
    customer_id: int | None
    status: CallbackStatus
    agent_id: str | None
    outcome: str | None
    dial_id: str | None
    created_at: datetime

    @property
    def task_id(self) -> str:
        return task_id_of(self.id)

    @property
    def lines(self) -> list[tuple[str, str]]:
        """The answers that came with it: (question as shown, answer as shown)."""
        raw = self.handover.get("lines")
        if not isinstance(raw, list):
            return []
        return [
            (str(pair[0]), str(pair[1])) for pair in raw if isinstance(pair, list | tuple) and len(pair) == 2
        ]


def task_id_of(callback_id: int) -> str:
    return f"{TASK_PREFIX}-{callback_id}"


def callback_id_of(task_id: str) -> int | None:
    head, _, number = task_id.partition("-")
    return int(number) if head == TASK_PREFIX and number.isdigit() else None
