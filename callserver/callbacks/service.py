"""Callbacks as work: a request a script made waits until it is due, then becomes an ACD task offered
to an agent (like a voicemail message), who calls the customer back and closes it with an outcome.

The ACD decides who gets it (`task_arrived`: through its queue, to the agent it is kept for, or to
agents meeting its requirement); this service keeps the row in step by following the ACD's facts
for the task. Due times are data (`schedule.DueTimes`); one task sleeps until the next.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol

from callserver.callbacks.model import (
    CallbackKind,
    CallbackStatus,
    NewCallback,
    ScheduledCallback,
    callback_id_of,
)
from callserver.callbacks.schedule import DueTimes
from callserver.facts.model import CallAnswered, CallOffered, Fact
from callserver.pbx.actions import PbxActions, PbxError
from callserver.pbx.dialplan import Context, Var
from callserver.store.callbacks import CallbackStore

log = logging.getLogger(__name__)

RING_TIMEOUT = 30.0  # the agent's phone rings this long before the customer is dialled


class Acd(Protocol):
    """What the ACD (`AcdService`) provides here."""

    def task_arrived(
        self,
        task_id: str,
        *,
        queue: str,
        data: dict[str, object] | None,
        caller_num: str = "",
        agent: str | None = None,
        require: str | None = None,
    ) -> None: ...

    def task_done(self, task_id: str) -> None: ...


class CallbackError(Exception):
    """A request on a callback that cannot be honoured; the message says why (for the REST reply)."""


class CallbackService:
    def __init__(
        self,
        store: CallbackStore,
        acd: Acd,
        pbx: PbxActions,
        *,
        clock: Callable[[], float],
        agent_endpoint: Callable[[str], str | None],
        holder: Callable[[str], str | None] = lambda _task_id: None,
    ) -> None:
        self.store = store
        self.acd = acd
        self.pbx = pbx
        self.clock = clock
        self.agent_endpoint = agent_endpoint
        self.holder = holder  # which agent the ACD has given a task to now, if any
        self._due = DueTimes()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Arm what is scheduled; hand the ACD again what it had before a restart (it forgot)."""
        for item in await self.store.open_items():
            if item.status is CallbackStatus.SCHEDULED:
                self._due.arm(item.id, item.due_at.timestamp())
            else:
                if item.status is not CallbackStatus.QUEUED:
                    item = await self.store.update(item.id, self._now(), status=CallbackStatus.QUEUED)
                self._hand(item)
        self._timer = asyncio.create_task(self._timer_loop(), name="callbacks-due")

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        tasks = [t for t in (self._timer, *self._tasks) if t is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- requests -------------------------------------------------------------------------------

    async def request(self, new: NewCallback) -> ScheduledCallback:
        """Keep the request; the ACD gets it when it is due (now, if it already is)."""
        item = await self.store.add(new, self._now())
        log.info(
            "callback %d (%s) for queue %s due %s%s",
            item.id,
            item.kind.value,
            item.queue,
            item.due_at.isoformat(),
            f", kept for {item.reserved_for}" if item.reserved_for else "",
        )
        self._due.arm(item.id, item.due_at.timestamp())
        self._wake.set()
        self._touched()
        return item

    # -- following the ACD ----------------------------------------------------------------------

    def on_fact(self, fact: Fact) -> None:
        """Bus subscriber: the ACD gave a callback task to an agent -> the row says so."""
        if isinstance(fact, CallOffered | CallAnswered):
            callback_id = callback_id_of(fact.call_id)
            if callback_id is not None:
                self._spawn(self._assigned(callback_id, fact.agent_id))

    async def _assigned(self, callback_id: int, agent_id: str) -> None:
        item = await self.store.get(callback_id)
        if item is None or item.status is not CallbackStatus.QUEUED:
            return  # CallOffered and CallAnswered come together: the second finds it assigned
        await self.store.update(callback_id, self._now(), status=CallbackStatus.ASSIGNED, agent_id=agent_id)
        self._touched()

    async def for_agent(self, callback_id: int, agent_id: str) -> ScheduledCallback | None:
        """The request when the agent has it or it is kept for them, else None. One the ACD has
        just given them is marked assigned here, whichever of this and the fact comes first."""
        item = await self.store.get(callback_id)
        if item is None:
            return None
        if item.status is CallbackStatus.QUEUED and self.holder(item.task_id) == agent_id:
            await self._assigned(callback_id, agent_id)
            item = await self.store.get(callback_id) or item
        return item if agent_id in (item.agent_id, item.reserved_for) else None

    # -- agents working a callback --------------------------------------------------------------

    async def visible_to(self, agent_id: str | None) -> list[ScheduledCallback]:
        """Open requests: all (agent_id None: a supervisor), or the agent's and those kept for them."""
        return await self.store.open_items(agent_id=agent_id)

    async def get(self, callback_id: int) -> ScheduledCallback | None:
        return await self.store.get(callback_id)

    async def call_back(self, callback_id: int, agent_id: str) -> ScheduledCallback:
        """Ring the agent; once they answer, the dialplan dials the customer (`Context.AGENT_DIAL`)."""
        await self.for_agent(callback_id, agent_id)
        item = await self._owned(callback_id, agent_id)
        if item.status is not CallbackStatus.ASSIGNED:
            raise CallbackError(f"callback {callback_id} is {item.status.value}, not assigned to you")
        if not item.number:
            raise CallbackError(f"callback {callback_id} has no number to call")
        endpoint = self.agent_endpoint(agent_id)
        if endpoint is None:
            raise CallbackError(f"agent {agent_id} has no phone to ring")
        dial_id = f"cbr-{uuid.uuid4().hex[:20]}"
        item = await self.store.update(
            callback_id, self._now(), status=CallbackStatus.IN_PROGRESS, dial_id=dial_id
        )
        try:
            await self.pbx.originate(
                channel=endpoint,
                context=Context.AGENT_DIAL,
                exten="s",
                priority=1,
                channel_id=dial_id,
                timeout=RING_TIMEOUT,
                caller_id=f'"Callback" <{item.number}>',
                variables={Var.DIAL: item.number, Var.AGENT: agent_id, Var.CALL: dial_id},
            )
        except PbxError as err:
            await self.store.update(callback_id, self._now(), status=CallbackStatus.ASSIGNED)
            self._touched()
            raise CallbackError(f"the PBX did not place the callback: {err}") from err
        log.info("callback %d: agent %s calls %s (%s)", callback_id, agent_id, item.number, dial_id)
        self._touched()
        return item

    async def close(self, callback_id: int, agent_id: str | None, outcome: str) -> ScheduledCallback:
        """Done with an outcome; the agent is free for the next call or task."""
        if agent_id is not None:
            await self.for_agent(callback_id, agent_id)
        item = await self.store.get(callback_id)
        if item is None:
            raise KeyError(callback_id)
        if agent_id is not None and item.agent_id != agent_id:
            raise CallbackError(f"callback {callback_id} is not assigned to you")
        if item.status not in (CallbackStatus.ASSIGNED, CallbackStatus.IN_PROGRESS):
            raise CallbackError(f"callback {callback_id} is {item.status.value}: nothing to close")
        item = await self.store.update(callback_id, self._now(), status=CallbackStatus.DONE, outcome=outcome)
        self.acd.task_done(item.task_id)
        self._touched()
        return item

    async def cancel(self, callback_id: int) -> ScheduledCallback:
        """A supervisor withdraws a request that is not due yet (once due, the ACD routes it)."""
        item = await self.store.get(callback_id)
        if item is None:
            raise KeyError(callback_id)
        if item.status is not CallbackStatus.SCHEDULED:
            raise CallbackError(f"callback {callback_id} is {item.status.value}: too late to cancel")
        self._due.cancel(callback_id)
        item = await self.store.update(callback_id, self._now(), status=CallbackStatus.CANCELLED)
        self._touched()
        return item

    async def wait_for_status(self, callback_id: int, status: CallbackStatus) -> ScheduledCallback:
        """Wait until the request reaches `status` (wrap in a timeout); for tests and tools."""
        while True:
            self._changed.clear()
            item = await self.store.get(callback_id)
            if item is not None and item.status is status:
                return item
            await self._changed.wait()

    # -- due times ------------------------------------------------------------------------------

    async def _timer_loop(self) -> None:
        while True:
            deadline = self._due.next_deadline()
            delay = None if deadline is None else max(0.0, deadline - self.clock())
            self._wake.clear()
            try:
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass
            for callback_id in self._due.on_timer(self.clock()):
                await self._fall_due(callback_id)

    async def _fall_due(self, callback_id: int) -> None:
        try:
            item = await self.store.get(callback_id)
            if item is None or item.status is not CallbackStatus.SCHEDULED:
                return
            item = await self.store.update(callback_id, self._now(), status=CallbackStatus.QUEUED)
            self._hand(item)
        except Exception:
            # the request stays scheduled in the store and is armed again at the next start
            log.exception("callback %d could not be handed to the ACD", callback_id)
        self._touched()

    def _hand(self, item: ScheduledCallback) -> None:
        data: dict[str, object] = {"call.task": item.kind.value}
        if item.customer_id is not None:
            data["customer_id"] = item.customer_id
        try:
            self.acd.task_arrived(
                item.task_id,
                queue=item.queue,
                data=data,
                caller_num=item.number if item.kind is CallbackKind.CALLBACK else "",
                agent=item.reserved_for,
                require=item.requirement,
            )
        except ValueError as err:
            log.error("callback %d cannot be routed (%s): it waits in the list", item.id, err)

    # -- plumbing -------------------------------------------------------------------------------

    async def _owned(self, callback_id: int, agent_id: str) -> ScheduledCallback:
        item = await self.store.get(callback_id)
        if item is None:
            raise KeyError(callback_id)
        if item.agent_id != agent_id:
            raise CallbackError(f"callback {callback_id} is not assigned to you")
        return item

    def _touched(self) -> None:
        self._changed.set()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("callback update failed", exc_info=task.exception())
