"""The voicemail record, its mailbox address, and the table of status changes it may go through.

A message is `new` when recorded, `assigned` once the ACD gives it to an agent, `in_progress` while
the agent calls the customer back, and `done` with an outcome. Any other change is refused with
both states named, so a double click in the browser cannot silently reopen a closed message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

log = logging.getLogger(__name__)


class VoicemailStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


ALLOWED: dict[VoicemailStatus, frozenset[VoicemailStatus]] = {
    VoicemailStatus.NEW: frozenset({VoicemailStatus.ASSIGNED, VoicemailStatus.DONE}),
    # back to new: the agent logged out or the offer was withdrawn, the task waits again
    VoicemailStatus.ASSIGNED: frozenset(
        {VoicemailStatus.NEW, VoicemailStatus.IN_PROGRESS, VoicemailStatus.DONE}
    ),
    VoicemailStatus.IN_PROGRESS: frozenset({VoicemailStatus.ASSIGNED, VoicemailStatus.DONE}),
    VoicemailStatus.DONE: frozenset(),
}


class TransitionError(Exception):
    """A status change the table does not allow."""

    def __init__(self, voicemail_id: int, old: VoicemailStatus, new: VoicemailStatus) -> None:
        super().__init__(f"voicemail {voicemail_id}: cannot go from {old.value} to {new.value}")
        self.old, self.new = old, new


def check_transition(voicemail_id: int, old: VoicemailStatus, new: VoicemailStatus) -> None:
    """Raise TransitionError unless `old -> new` is allowed; log the change in one format."""
    if new not in ALLOWED[old]:
        raise TransitionError(voicemail_id, old, new)
    log.info("voicemail %d: %s -> %s", voicemail_id, old.value, new.value)


@dataclass(frozen=True, slots=True)
class Mailbox:
    """`queue:<name>` or `agent:<id>`, as the IVR writes it."""

    kind: str  # "queue" | "agent"
    name: str

    @classmethod
    def parse(cls, box: str) -> Mailbox:
        kind, _, name = box.partition(":")
        if kind not in ("queue", "agent") or not name:
            raise ValueError(f"'{box}' is not a mailbox (queue:<name> or agent:<id>)")
        return cls(kind, name)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Voicemail:
    id: int
    call_id: str  # the caller's channel uniqueid
    caller_num: str
    caller_name: str
    customer_id: int | None
    box: Mailbox
    queue: str  # the queue whose agents work the message (an agent box: the agent's queue, if any)
    recorded_at: datetime
    duration: float | None  # seconds; None when the recording could not be measured
    path: str | None  # the file as Asterisk wrote it; None when nothing was recorded
    status: VoicemailStatus
    agent_id: str | None
    outcome: str | None
    callback_call_id: str | None
    data: dict[str, str]  # the IVR call data at the time of the message

    @property
    def task_id(self) -> str:
        """The id of the message's ACD task (and of its row among the calls)."""
        return task_id_of(self.id)

    def age(self, now: datetime) -> float:
        return max(0.0, (now - self.recorded_at).total_seconds())


def task_id_of(voicemail_id: int) -> str:
    return f"vm-{voicemail_id}"


def voicemail_id_of(task_id: str) -> int | None:
    head, _, number = task_id.partition("-")
    return int(number) if head == "vm" and number.isdigit() else None


@dataclass(frozen=True, slots=True)
class VoicemailWaiting:
    """Message-waiting indication for one mailbox: how many messages nobody has taken yet."""

    box: str
    new: int
    at: float
