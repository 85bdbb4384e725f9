"""Voicemail as work: a message left in a mailbox becomes an ACD task offered to an agent, who
listens, calls the customer back and closes it with an outcome.

The ACD decides who gets a message (`task_arrived`, behind live calls unless the queue says
otherwise); this service keeps the row in step by following the ACD's facts for the task, and
publishes message-waiting counts per mailbox through one callback the composition root wires.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from callserver.facts.model import CallAnswered, CallOffered, Fact
from callserver.pbx.actions import PbxActions, PbxError
from callserver.pbx.dialplan import Context, Var
from callserver.pbx.events import InboundCall
from callserver.voicemail.audio import duration_of
from callserver.voicemail.model import (
    Mailbox,
    Voicemail,
    VoicemailStatus,
    VoicemailWaiting,
    voicemail_id_of,
)
from callserver.voicemail.store import VoicemailStore

log = logging.getLogger(__name__)

# the agent leg is answered first, then the dialplan dials CS_DIAL through the trunk
CALLBACK_RING_TIMEOUT = 30.0


class Acd(Protocol):
    """What the ACD (`AcdService`) provides here."""

    def task_arrived(
        self, task_id: str, *, queue: str, data: dict[str, object] | None, caller_num: str = ""
    ) -> None: ...

    def task_done(self, task_id: str) -> None: ...

    def callback_started(self, agent_id: str, leg_id: str, task_id: str | None) -> None: ...

    def callback_not_placed(self, leg_id: str) -> None: ...


class VoicemailError(Exception):
    """A request on a voicemail that cannot be honoured; the message says why (for the REST reply)."""


class CallbackFailed(VoicemailError):
    """The PBX did not take the callback's agent leg."""


class VoicemailService:
    def __init__(
        self,
        store: VoicemailStore,
        acd: Acd,
        pbx: PbxActions,
        *,
        clock: Callable[[], float],
        agent_endpoint: Callable[[str], str | None],
        on_waiting: Callable[[VoicemailWaiting], None] | None = None,
    ) -> None:
        self.store = store
        self.acd = acd
        self.pbx = pbx
        self.clock = clock
        self.agent_endpoint = agent_endpoint
        self.on_waiting = on_waiting
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    async def stop(self) -> None:
        """Let pending row updates finish (they are short database writes)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- a caller leaves a message --------------------------------------------------------------

    async def deposit(
        self,
        call: InboundCall,
        box: str,
        recording: str | None,
        *,
        ivr_data: Mapping[str, str],
        acd_data: dict[str, object],
        customer_id: int | None,
    ) -> Voicemail:
        """Record the message's row and hand it to the ACD as a task (queue boxes) or to the agent."""
        mailbox = Mailbox.parse(box)
        duration = duration_of(Path(recording)) if recording else None
        vm = await self.store.add(
            call_id=call.uniqueid,
            caller_num=call.caller_num,
            caller_name=call.caller_name,
            customer_id=customer_id,
            box=mailbox,
            queue=mailbox.name if mailbox.kind == "queue" else "",
            recorded_at=self._now(),
            duration=duration,
            path=recording,
            data=dict(ivr_data),
        )
        log.info("voicemail %d from %s in %s (%s)", vm.id, call.caller_num, mailbox, recording)
        if mailbox.kind == "queue":
            self.acd.task_arrived(vm.task_id, queue=mailbox.name, data=acd_data, caller_num=call.caller_num)
        else:
            # a personal mailbox is the agent's own: assigned at once, worked when they choose
            vm = await self.store.update(
                vm.id, self._now(), status=VoicemailStatus.ASSIGNED, agent_id=mailbox.name
            )
        await self._publish_waiting(mailbox)
        self._touched()
        return vm

    # -- following the ACD ----------------------------------------------------------------------

    def on_fact(self, fact: Fact) -> None:
        """Bus subscriber: the ACD gave a voicemail task to an agent -> the row says so."""
        if isinstance(fact, CallOffered | CallAnswered):
            voicemail_id = voicemail_id_of(fact.call_id)
            if voicemail_id is not None:
                self._spawn(self._assigned(voicemail_id, fact.agent_id))

    async def _assigned(self, voicemail_id: int, agent_id: str) -> None:
        vm = await self.store.get(voicemail_id)
        if vm is None or vm.status is not VoicemailStatus.NEW:
            return  # CallOffered and CallAnswered come together: the second finds it assigned
        vm = await self.store.update(
            voicemail_id, self._now(), status=VoicemailStatus.ASSIGNED, agent_id=agent_id
        )
        await self._publish_waiting(vm.box)
        self._touched()

    # -- agents working a message ---------------------------------------------------------------

    async def visible_to(self, agent_id: str | None) -> list[Voicemail]:
        """Open messages: all of them (agent_id None: a supervisor) or those assigned to the agent."""
        return await self.store.open_items(agent_id=agent_id)

    async def get(self, voicemail_id: int) -> Voicemail | None:
        return await self.store.get(voicemail_id)

    async def start_callback(self, voicemail_id: int, agent_id: str) -> Voicemail:
        """Ring the agent; once they answer, the dialplan dials the customer (`Context.AGENT_DIAL`)."""
        vm = await self._owned(voicemail_id, agent_id)
        if vm.status is not VoicemailStatus.ASSIGNED:
            raise VoicemailError(f"voicemail {voicemail_id} is {vm.status.value}, not assigned")
        if not vm.caller_num:
            raise VoicemailError(f"voicemail {voicemail_id} has no number to call back")
        endpoint = self.agent_endpoint(agent_id)
        if endpoint is None:
            raise VoicemailError(f"agent {agent_id} has no phone to ring")
        callback_id = f"cb-{uuid.uuid4().hex[:20]}"
        vm = await self.store.update(
            voicemail_id, self._now(), status=VoicemailStatus.IN_PROGRESS, callback_call_id=callback_id
        )
        # the agent is busy from now until the callback's leg is gone, task closed or not
        self.acd.callback_started(agent_id, callback_id, vm.task_id)
        try:
            await self.pbx.originate(
                channel=endpoint,
                context=Context.AGENT_DIAL,
                exten="s",
                priority=1,
                channel_id=callback_id,
                timeout=CALLBACK_RING_TIMEOUT,
                caller_id=f'"Callback" <{vm.caller_num}>',
                variables={
                    Var.DIAL: vm.caller_num,
                    Var.VOICEMAIL: str(vm.id),
                    Var.AGENT: agent_id,
                    Var.CALL: callback_id,
                },
            )
        except PbxError as err:
            # the agent still holds the message: put it back so they can try again
            self.acd.callback_not_placed(callback_id)
            await self.store.update(voicemail_id, self._now(), status=VoicemailStatus.ASSIGNED)
            self._touched()
            raise CallbackFailed(f"the PBX did not place the callback: {err}") from err
        log.info("voicemail %d: agent %s calls %s back (%s)", vm.id, agent_id, vm.caller_num, callback_id)
        self._touched()
        return vm

    async def close(self, voicemail_id: int, agent_id: str | None, outcome: str) -> Voicemail:
        """Done with an outcome; the agent is free for the next call or message."""
        vm = await self.store.get(voicemail_id)
        if vm is None:
            raise KeyError(voicemail_id)
        if agent_id is not None and vm.agent_id != agent_id:
            raise VoicemailError(f"voicemail {voicemail_id} is not assigned to you")
        if vm.status is VoicemailStatus.DONE:
            raise VoicemailError(f"voicemail {voicemail_id} is already closed ({vm.outcome})")
        vm = await self.store.update(voicemail_id, self._now(), status=VoicemailStatus.DONE, outcome=outcome)
        self.acd.task_done(vm.task_id)
        await self._publish_waiting(vm.box)
        self._touched()
        return vm

    async def wait_for_status(self, voicemail_id: int, status: VoicemailStatus) -> Voicemail:
        """Wait until the message reaches `status` (wrap in a timeout); for tests and tools."""
        while True:
            self._changed.clear()
            vm = await self.store.get(voicemail_id)
            if vm is not None and vm.status is status:
                return vm
            await self._changed.wait()

    # -- plumbing -------------------------------------------------------------------------------

    async def _owned(self, voicemail_id: int, agent_id: str) -> Voicemail:
        vm = await self.store.get(voicemail_id)
        if vm is None:
            raise KeyError(voicemail_id)
        if vm.agent_id != agent_id:
            raise VoicemailError(f"voicemail {voicemail_id} is not assigned to {agent_id}")
        return vm

    async def _publish_waiting(self, box: Mailbox) -> None:
        if self.on_waiting is not None:
            self.on_waiting(VoicemailWaiting(str(box), await self.store.waiting_count(box), self.clock()))

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
            log.error("voicemail update failed", exc_info=task.exception())
