"""What callers do: arrive in a queue (or are refused at the door), press the callback key, hang up.

Voicemail tasks arrive the same way, without a caller line. An arrival with the id of a live or
recently ended call is a replay (late AGI, resynchronisation race) and changes nothing.
"""

from __future__ import annotations

import math

from ..facts.model import (
    CallbackRequested,
    CallQueued,
    OfferEnded,
    OfferResult,
    Outcome,
    TransferProgress,
    TransferState,
)
from .commands import Command, ConfirmCallback
from .dispatch import Dispatcher
from .expr import Requirement
from .legs import LegBook
from .model import AgentStatus, Call, CallKind, CallState, Destination, Ending, QueueSpec
from .queueing import DEFAULT_TIMEOUT_MESSAGE, Queueing
from .state import AcdState


class Arrivals:
    def __init__(self, acd: AcdState, legbook: LegBook, queueing: Queueing, dispatcher: Dispatcher) -> None:
        self.acd = acd
        self.legbook = legbook
        self.queueing = queueing
        self.dispatcher = dispatcher

    def call_arrived(
        self,
        call_id: str,
        *,
        channel: str,
        caller_num: str,
        caller_name: str,
        dnis: str,
        queue: str,
        now: float,
        arrived_at: float | None = None,
        data: dict[str, object] | None = None,
        kind: CallKind = CallKind.CALL,
        agent: str | None = None,
        requirement: Requirement | None = None,
        adopted: bool = False,
    ) -> list[Command]:
        """A caller entered a queue (or was adopted again after a reconnect: same id, no-op).

        `data` carries what is known of the call as requirement references: `call.language`,
        `call.priority`, `customer.vip`...: it drives requirements, priority and the screen-pop.
        An `adopted` call (found on the PBX after a restart) was let in long ago: it is never
        refused at the door, and timers already due fire at the next timer run, not here.
        """
        acd = self.acd
        if acd.known(call_id):
            return []
        spec = acd.queue(queue)
        start = now if arrived_at is None else arrived_at
        data = dict(data or {})
        priority = spec.priority + _int(data.get("call.priority"))
        if data.get("customer.vip"):
            priority += spec.vip_priority
        if kind is CallKind.VOICEMAIL:
            priority += spec.task_priority
        call = Call(
            id=call_id,
            channel=channel,
            caller_num=caller_num,
            caller_name=caller_name,
            dnis=dnis,
            queue=queue,
            arrived_at=start,
            queued_at=start,
            deadline=math.inf,
            kind=kind,
            data=data,
            priority=priority,
            target_agent=agent,
            requirement=requirement,
        )
        acd.calls[call_id] = call
        acd.emit(
            CallQueued(
                call_id, now, queue, channel, caller_num, caller_name, dnis, kind.value, priority, data
            )
        )
        if kind is CallKind.CALL and not adopted:
            refusal = self._refusal(spec)
            if refusal is not None:
                return self.queueing.send_to(call, refusal, now) + self.dispatcher.dispatch(now)
        self.queueing.enter(call, queue, now, start)
        if call.deadline <= now and not adopted:
            # adopted after waiting longer than the queue allows: its timers are due already
            return acd.timers.fire(now) + self.dispatcher.dispatch(now)
        return self.dispatcher.dispatch(now)

    def task_arrived(
        self,
        task_id: str,
        *,
        queue: str,
        data: dict[str, object] | None,
        now: float,
        caller_num: str = "",
        agent: str | None = None,
        requirement: Requirement | None = None,
    ) -> list[Command]:
        """Work that is not a live call (a voicemail, a callback request) routed like one, behind
        live calls: to `agent` only when given, to agents meeting `requirement` (instead of the
        queue's routing steps) when given."""
        if agent is not None and agent not in self.acd.agents:
            raise ValueError(f"task {task_id}: unknown agent {agent!r}")
        return self.call_arrived(
            task_id,
            channel="",
            caller_num=caller_num,
            caller_name="",
            dnis="",
            queue=queue,
            now=now,
            data=data,
            kind=CallKind.VOICEMAIL,
            agent=agent,
            requirement=requirement,
        )

    def _refusal(self, spec: QueueSpec) -> Destination | None:
        if spec.max_length is not None and self.acd.waiting_in(spec.name) >= spec.max_length:
            return spec.on_full or Destination("message", DEFAULT_TIMEOUT_MESSAGE)
        if spec.refuse_without_agents and not any(
            spec.name in a.queues and a.status is not AgentStatus.LOGGED_OUT for a in self.acd.agents.values()
        ):
            return spec.on_no_agents or Destination("message", DEFAULT_TIMEOUT_MESSAGE)
        return None

    def caller_hung_up(self, call_id: str, now: float, ending: Ending | None = None) -> list[Command]:
        """The caller's channel is gone. Without `ending` the caller hung up (abandoned if nobody
        had answered); with it the call ended unseen or was cut by the PBX (see `Ending`)."""
        acd = self.acd
        call = acd.calls.get(call_id)
        if call is None or call.state is CallState.ENDED or call.kind is not CallKind.CALL:
            return []  # callbacks and voicemails have no caller line to lose
        out: list[Command] = []
        if call.consult_leg is not None:
            out += self.legbook.cancel_by_id(call.consult_leg, now)
        if call.state is CallState.CONNECTED:
            leg = acd.legs.get(call.leg_id) if call.leg_id is not None else None
            self.queueing.end_connected(call, now, ending, ended_by="caller")
            out += self.legbook.cancel(leg, now)
        else:
            if call.transferred_by is not None:
                acd.emit(
                    TransferProgress(
                        call.id,
                        now,
                        call.transferred_by,
                        "transfer",
                        "agent",
                        call.target_agent or "",
                        TransferState.ABANDONED,
                    )
                )
            if call.state is CallState.OFFERING:
                for leg_id in sorted(call.ring_legs):
                    leg = acd.legs[leg_id]
                    acd.emit(OfferEnded(call.id, now, leg.agent_id, leg.id, OfferResult.CANCELLED))
                    out += self.legbook.cancel(leg, now)
                call.agent_id = None
            acd.router.remove_call(call)
            outcome = Outcome.FAILED if ending is not None and ending.cut else Outcome.ABANDONED
            self.queueing.end(call, outcome, now, ending)
        return out + self.dispatcher.dispatch(now)

    def dtmf(self, call_id: str, digit: str, now: float) -> list[Command]:
        """A key pressed by a waiting caller: the queue's callback key keeps their place for a callback."""
        call = self.acd.calls.get(call_id)
        if call is None or call.kind is not CallKind.CALL or call.state is not CallState.WAITING:
            return []
        spec = self.acd.queues[call.queue]
        if spec.callback_key is None or digit != spec.callback_key:
            return []
        call.kind = CallKind.CALLBACK
        call.deadline = math.inf
        call.next_announce = None
        self.acd.emit(CallbackRequested(call.id, now, call.queue, call.caller_num))
        return [ConfirmCallback(call.id, call.channel)]


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return 0
