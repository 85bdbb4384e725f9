"""What a script run asks its adapter to carry out, as frozen data.

The engine never saves a field or dials anyone itself: `forward()`, `jump()`, `talk_to_someone()` and
`abandon()` return these commands in order, and an adapter (agent panel, web self-service) does them
for real. Every command names its run, so an adapter serving many runs can file what it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from callserver.scripts.record import Answer, RunRecord, RunStatus


@dataclass(frozen=True, slots=True)
class Handover:
    """The answers travelling with a callback or a task, so that the agent does not ask again.

    `lines` are (question as shown, answer as shown), ready for a card on the agent's screen;
    `answers` keep the typed values and who gave them.
    """

    script_id: str
    version: int
    run_id: str
    answers: tuple[Answer, ...]
    lines: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SetCustomerField:
    """Save `value` (canonical text) into the customer's `field`; the adapter converts to the field's type."""

    run_id: str
    customer_id: int | str | None  # the record's id as the adapter gave it; None: no customer known
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class SetOutcome:
    run_id: str
    code: str


@dataclass(frozen=True, slots=True)
class ScheduleCallback:
    """Call the customer back: on `due` (a day), not before `not_before`, or as soon as possible.

    `agent` None means any agent of `queue`; `number` None means the call's or the customer's number.
    """

    run_id: str
    queue: str | None
    agent: str | None
    due: date | None
    not_before: datetime | None
    number: str | None
    note: str
    handover: Handover


@dataclass(frozen=True, slots=True)
class TransferToQueue:
    run_id: str
    queue: str


@dataclass(frozen=True, slots=True)
class TransferToAgent:
    run_id: str
    agent: str


@dataclass(frozen=True, slots=True)
class CreateTask:
    """A task for agents: offered through `queue`, to agents meeting `require` (a skill requirement)."""

    run_id: str
    title: str
    queue: str | None
    require: str | None
    note: str
    handover: Handover


@dataclass(frozen=True, slots=True)
class End:
    """The run is over (`record.status` says how); persist `record`."""

    run_id: str
    status: RunStatus
    record: RunRecord


Command = (
    SetCustomerField | SetOutcome | ScheduleCallback | TransferToQueue | TransferToAgent | CreateTask | End
)
