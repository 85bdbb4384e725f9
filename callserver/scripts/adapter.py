"""Carries out what a script run asks for, for real: fields saved and outcomes set through facts, callback
requests and tasks kept by the callback service, transfers made through call control, the run's
end published.

Both the agent's desk and the public web pages use it; `Place` says where the run happens (the
call or web contact, the agent, the customer, the call's queue and number). Each command gives a
`Notice` for the person's screen: what was done, or why it could not be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, assert_never
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from callserver.callbacks.model import CallbackKind, NewCallback, ScheduledCallback
from callserver.facts.model import CallWrappedUp, CustomerFieldSet, Fact
from callserver.scripts import tracking
from callserver.scripts.commands import (
    Command,
    CreateTask,
    End,
    Handover,
    ScheduleCallback,
    SetCustomerField,
    SetOutcome,
    TransferToAgent,
    TransferToQueue,
)
from callserver.scripts.engine import ScriptRun
from callserver.scripts.format import babel_locale
from callserver.scripts.model import CUSTOMER
from callserver.store.fieldtypes import FieldValueError, canonical

log = logging.getLogger(__name__)


class Callbacks(Protocol):
    async def request(self, new: NewCallback) -> ScheduledCallback: ...


class Transfers(Protocol):
    """Call control (`acd.control.CallControl`): a blind transfer to a queue or an agent."""

    async def transfer(self, call_id: str, kind: str, target: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Place:
    """Where a run happens."""

    call_id: str  # the call, or the web contact (web-…)
    agent_id: str | None  # None on the web
    customer_id: int | None
    queue: str | None = None  # the call's queue: where tasks and callbacks naming none go
    number: str = ""  # the caller's number, else the customer's: whom a callback calls
    customer_name: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """One line for the screen: `kind` is the command's (field, outcome, callback, task, transfer,
    end), `ok` False when it could not be done."""

    kind: str
    message: str
    ok: bool = True


class ScriptAdapter:
    def __init__(
        self,
        *,
        publish: Callable[[Fact], None],
        clock: Callable[[], float],
        field_types: Mapping[str, str],
        writable: frozenset[str],
        timezone: str,
        callback_time: time,
        task_queue: str | None,
        logins: Mapping[str, str],
        callbacks: Callbacks | None = None,
        transfers: Transfers | None = None,
    ) -> None:
        self.publish = publish
        self.clock = clock
        self.field_types = dict(field_types)
        self.writable = writable
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.callback_time = callback_time
        self.task_queue = task_queue
        self.logins = dict(logins)
        self.callbacks = callbacks
        self.transfers = transfers

    async def carry_out(self, run: ScriptRun, commands: list[Command], place: Place) -> list[Notice]:
        """Every command in order; a failure is a notice, the others still happen."""
        notices: list[Notice] = []
        for command in commands:
            try:
                notices.append(await self._one(run, command, place))
            except Exception as err:
                log.exception("script run %s: %s failed", run.run_id, type(command).__name__)
                notices.append(Notice(_kind(command), f"Could not be done: {err}", ok=False))
        return notices

    async def _one(self, run: ScriptRun, command: Command, place: Place) -> Notice:
        match command:
            case SetCustomerField():
                return self._field(command, place)
            case SetOutcome():
                if place.agent_id is not None:
                    login = self.logins.get(place.agent_id, place.agent_id)
                    self.publish(
                        CallWrappedUp(place.call_id, self.clock(), place.agent_id, command.code, "", login)
                    )
                return Notice("outcome", f"Outcome set: {command.code}")
            case ScheduleCallback():
                return await self._callback(run, command, place)
            case CreateTask():
                return await self._task(run, command, place)
            case TransferToQueue():
                return await self._transfer(place, "queue", command.queue)
            case TransferToAgent():
                return await self._transfer(place, "agent", command.agent)
            case End():
                self.publish(tracking.ended(command, run, place.call_id, self.clock()))
                return Notice("end", _END_MESSAGES[command.status.value])
            case _:
                assert_never(command)

    def _field(self, command: SetCustomerField, place: Place) -> Notice:
        if not isinstance(command.customer_id, int) or command.customer_id != place.customer_id:
            return Notice("field", f"No customer is identified: {command.field} was not saved", ok=False)
        if command.field not in self.writable:
            return Notice("field", f"{command.field} cannot be set by a script", ok=False)
        try:
            value = canonical(self.field_types.get(command.field, "text"), command.value)
        except FieldValueError as err:
            return Notice("field", f"{command.field} was not saved: {err}", ok=False)
        by = place.agent_id or CUSTOMER
        self.publish(
            CustomerFieldSet(place.call_id, self.clock(), command.customer_id, command.field, value, by)
        )
        return Notice("field", f"Saved {command.field}: {value}")

    async def _callback(self, run: ScriptRun, command: ScheduleCallback, place: Place) -> Notice:
        queue = command.queue or place.queue or self.task_queue
        number = command.number or place.number
        if self.callbacks is None or queue is None:
            return Notice("callback", "No callback could be scheduled: no queue to route it", ok=False)
        due = self.due_at(command.due, command.not_before)
        title = f"Call back {place.customer_name}".strip() if place.customer_name else "Callback"
        item = await self.callbacks.request(
            NewCallback(
                kind=CallbackKind.CALLBACK,
                queue=queue,
                due_at=due,
                number=number,
                title=f"{title} ({run.script.title})",
                note=command.note,
                reserved_for=command.agent,
                handover=handover_data(command.handover),
                run_id=run.run_id,
                contact_id=place.call_id,
                customer_id=place.customer_id,
            )
        )
        when = self.show_time(item.due_at, run.script.language)
        who = f" by {command.agent}" if command.agent else f" from {queue}"
        message = f"Callback scheduled{who} for {when}" + ("" if number else " (no number known yet)")
        return Notice("callback", message, ok=bool(number))

    async def _task(self, run: ScriptRun, command: CreateTask, place: Place) -> Notice:
        queue = command.queue or place.queue or self.task_queue
        if self.callbacks is None or queue is None:
            return Notice("task", "No task could be created: no queue to route it", ok=False)
        await self.callbacks.request(
            NewCallback(
                kind=CallbackKind.TASK,
                queue=queue,
                due_at=datetime.fromtimestamp(self.clock(), UTC),
                number=place.number,
                title=command.title,
                note=command.note,
                requirement=command.require,
                handover=handover_data(command.handover),
                run_id=run.run_id,
                contact_id=place.call_id,
                customer_id=place.customer_id,
            )
        )
        return Notice("task", f"Task created: {command.title}")

    async def _transfer(self, place: Place, kind: str, target: str) -> Notice:
        if place.agent_id is None or self.transfers is None:
            return Notice("transfer", "There is no call to transfer", ok=False)
        await self.transfers.transfer(place.call_id, kind, target)
        return Notice("transfer", f"Call transferred to {kind} {target}")

    def due_at(self, day: date | None, not_before: datetime | None) -> datetime:
        """When a callback is due: on `day` at the centre's callback time, not before `not_before`,
        and never in the past."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        due = now
        if day is not None:
            due = datetime.combine(day, self.callback_time, self.zone).astimezone(UTC)
        if not_before is not None:
            due = max(due, not_before.astimezone(UTC))
        return max(due, now)

    def show_time(self, at: datetime, language: str) -> str:
        local = at.astimezone(self.zone)
        if at - datetime.fromtimestamp(self.clock(), UTC) < timedelta(minutes=1):
            return "now"
        return format_datetime(local, "d MMMM y, HH:mm", tzinfo=self.zone, locale=babel_locale(language))


def handover_data(handover: Handover) -> dict[str, object]:
    """The answers travelling with a callback or task, as plain JSON for its row and the agent's card."""
    return {
        "script_id": handover.script_id,
        "version": handover.version,
        "run_id": handover.run_id,
        "lines": [[question, answer] for question, answer in handover.lines],
        "answers": [a.as_dict() for a in handover.answers],
    }


_END_MESSAGES = {
    "finished": "The script is finished",
    "handed_off": "Handed over to a person",
    "abandoned": "The script was left before its end",
}
_KINDS: dict[type, str] = {
    SetCustomerField: "field",
    SetOutcome: "outcome",
    ScheduleCallback: "callback",
    CreateTask: "task",
    TransferToQueue: "transfer",
    TransferToAgent: "transfer",
    End: "end",
}


def _kind(command: Command) -> str:
    return _KINDS.get(type(command), "action")
