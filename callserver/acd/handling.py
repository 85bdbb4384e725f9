"""What agents and supervisors do with a connected call: hold, transfers, consultation, and the end
of a voicemail task.

These are engine inputs like any other (sans-I/O, `now` passed in, commands returned); the PBX side
of each (moving channels around) is the call-control adapter's job, which calls these after or
before its own actions as each one requires.
"""

from __future__ import annotations

from collections.abc import Callable

from ..facts.model import CallHeld, CallResumed, CallTransferred, Outcome, TransferProgress, TransferState
from .agents import AgentDesk
from .commands import Command, OriginateAgentLeg
from .dispatch import Dispatcher
from .legs import LegBook
from .model import AgentState, AgentStatus, Call, CallKind, CallState, Leg
from .queueing import Queueing
from .state import AcdState
from .timers import TimerHandler, TimerKind


class NotAllowed(Exception):
    """The call or agent is not in a state where that can be done; says why."""


class CallHandling:
    def __init__(
        self,
        acd: AcdState,
        desk: AgentDesk,
        legbook: LegBook,
        queueing: Queueing,
        dispatcher: Dispatcher,
    ) -> None:
        self.acd = acd
        self.desk = desk
        self.legbook = legbook
        self.queueing = queueing
        self.dispatcher = dispatcher

    def _connected(self, call_id: str) -> Call:
        call = self.acd.calls.get(call_id)
        if call is None:
            raise NotAllowed(f"call {call_id} is not in progress")
        if call.state is not CallState.CONNECTED:
            raise NotAllowed(f"call {call_id} is {call.state.value}, not connected")
        return call

    # -- hold -----------------------------------------------------------------------------------

    def hold(self, call_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if call.on_hold:
            raise NotAllowed(f"call {call_id} is already on hold")
        call.on_hold, call.hold_started = True, now
        self.acd.emit(CallHeld(call.id, now, call.agent_id))
        return []

    def resume(self, call_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if not call.on_hold or call.hold_started is None:
            raise NotAllowed(f"call {call_id} is not on hold")
        held = now - call.hold_started
        call.hold_total += held
        call.on_hold, call.hold_started = False, None
        self.acd.emit(CallResumed(call.id, now, call.agent_id, held))
        return []

    @staticmethod
    def _stop_hold(call: Call, now: float) -> None:
        if call.on_hold and call.hold_started is not None:
            call.hold_total += now - call.hold_started
        call.on_hold, call.hold_started = False, None

    # -- blind transfers ------------------------------------------------------------------------

    def transfer_to_queue(self, call_id: str, queue: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        self.acd.queue(queue)
        return self._requeue(call, queue, None, now)

    def transfer_to_agent(self, call_id: str, agent_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if agent_id not in self.acd.agents:
            raise NotAllowed(f"unknown agent {agent_id}")
        if agent_id == call.agent_id:
            raise NotAllowed("a call cannot be transferred to the agent who has it")
        return self._requeue(call, call.queue, agent_id, now)

    def transfer_out(self, call_id: str, number: str, now: float) -> list[Command]:
        """Blind transfer to an outside number: the call leaves callserver."""
        call = self._connected(call_id)
        self.acd.emit(CallTransferred(call.id, now, call.agent_id, "number", number))
        out = self._release_agent(call, now)
        self.queueing.end(call, Outcome.TRANSFERRED, now)
        return out + self.dispatcher.dispatch(now)

    def _requeue(self, call: Call, queue: str, target_agent: str | None, now: float) -> list[Command]:
        """The call waits again: for one agent (a targeted offer with a timeout), or in a queue where
        the transferring agent is the last to be considered."""
        kind, target = ("agent", target_agent) if target_agent else ("queue", queue)
        by = call.agent_id
        self.acd.emit(CallTransferred(call.id, now, by, kind, target))
        out = self._release_agent(call, now)
        if call.consult_leg is not None:
            out += self.legbook.cancel_by_id(call.consult_leg, now)
        self._stop_hold(call, now)
        call.move(CallState.WAITING)
        call.agent_id = call.leg_id = None
        call.ring_legs.clear()
        call.declined.clear()
        call.target_agent = target_agent
        call.excluded = None if target_agent else by
        call.transferred_by = by if target_agent else None
        call.transfer_deadline = call.exclusion_check = None
        call.visited = []
        self.queueing.enter(call, queue, now)
        if target_agent is not None:
            if self.acd.transfer_timeout is not None:
                call.transfer_deadline = now + self.acd.transfer_timeout
                self.acd.timers.arm(call.transfer_deadline, TimerKind.TRANSFER_TIMEOUT, call.id)
            self._progress(call, by, "transfer", "agent", target_agent, TransferState.WAITING, now)
        elif by is not None:
            self._check_exclusion_later(call)
        return out + self.dispatcher.dispatch(now)

    def _progress(
        self, call: Call, by: str | None, mode: str, kind: str, target: str, state: TransferState, now: float
    ) -> None:
        self.acd.emit(TransferProgress(call.id, now, by, mode, kind, target, state))

    def _check_exclusion_later(self, call: Call) -> None:
        """After the queue's last routing step (and a short delay), see if only the excluded agent is left."""
        last = self.acd.queues[call.queue].routing_steps()[-1].after
        call.exclusion_check = call.queued_at + last + self.acd.transfer_self_delay
        self.acd.timers.arm(call.exclusion_check, TimerKind.TRANSFER_EXCLUSION, call.id)

    # -- timers of transfers ----------------------------------------------------------------------

    def transfer_timeout_timer(self) -> TimerHandler:
        """A call transferred to an agent who did not take it in time goes back."""
        return TimerHandler(
            lambda call_id, at: self._waiting(call_id, lambda c: c.transfer_deadline == at),
            self._transfer_timed_out,
        )

    def exclusion_timer(self) -> TimerHandler:
        """A call kept from the agent who transferred it: is anyone else there to take it?"""
        return TimerHandler(
            lambda call_id, at: self._waiting(
                call_id, lambda c: c.excluded is not None and c.exclusion_check == at
            ),
            self._exclusion_check,
        )

    def _waiting(self, call_id: str, due: Callable[[Call], bool]) -> bool:
        call = self.acd.calls.get(call_id)
        return call is not None and call.state is CallState.WAITING and due(call)

    def _transfer_timed_out(self, call_id: str, now: float) -> list[Command]:
        call = self.acd.calls[call_id]
        by, target = call.transferred_by, call.target_agent or ""
        self._progress(call, by, "transfer", "agent", target, TransferState.RETURNED, now)
        self.acd.router.remove_call(call)
        back_to_agent = self.acd.transfer_return == "agent" and by is not None and by != target
        call.transferred_by = call.transfer_deadline = None
        call.target_agent = by if back_to_agent else None
        call.excluded = None if back_to_agent else by
        call.declined.clear()
        self.queueing.mark_waiting(call)
        if call.excluded is not None:
            self._check_exclusion_later(call)
        return []

    def _exclusion_check(self, call_id: str, now: float) -> list[Command]:
        call = self.acd.calls[call_id]
        assert call.bound is not None
        agents = self.acd.agents
        others = any(
            a != call.excluded and agents[a].status is AgentStatus.AVAILABLE
            for a in self.acd.router.eligible(call.bound)
        )
        if others:  # someone else may take it: look again later (they may log out meanwhile)
            call.exclusion_check = now + self.acd.transfer_self_delay
            self.acd.timers.arm(call.exclusion_check, TimerKind.TRANSFER_EXCLUSION, call.id)
            return []
        self.acd.router.remove_call(call)
        call.excluded = call.exclusion_check = None
        self.queueing.mark_waiting(call)
        return []

    def _release_agent(self, call: Call, now: float) -> list[Command]:
        """The agent hands the call on: their leg goes, they go to wrap-up."""
        out = self.legbook.cancel_by_id(call.leg_id, now)
        if call.agent_id is not None:
            agent = self.acd.agents[call.agent_id]
            if agent.call_id == call.id and agent.state is AgentState.ON_CALL:
                agent.leg_id = None
                self.desk.after_call(agent, call, now)
        return out

    # -- consultation ---------------------------------------------------------------------------

    def consult_agent(self, call_id: str, agent_id: str, now: float) -> list[Command]:
        """Ring a colleague for the agent to talk to first (the caller waits on hold)."""
        call = self._connected(call_id)
        agent = self.acd.agents.get(agent_id)
        if agent is None:
            raise NotAllowed(f"unknown agent {agent_id}")
        if call.consult_leg is not None:
            raise NotAllowed(f"call {call_id} already has a consultation")
        if agent.id not in self.acd.router.free:
            raise NotAllowed(f"agent {agent_id} is not free")
        leg = self.legbook.open(call, agent, "consult", now)
        call.consult_leg = leg.id
        self._progress(call, call.agent_id, "consult", "agent", agent.id, TransferState.RINGING, now)
        return [
            OriginateAgentLeg(
                call_id=call.id,
                agent_id=agent.id,
                leg_id=leg.id,
                endpoint=agent.endpoint,
                caller_channel="",
                ring_timeout=self.acd.queues[call.queue].ring_timeout,
                caller_id=call.caller_num,
                purpose="consult",
                peer_leg=call.leg_id or "",
            )
        ]

    def consult_complete(self, call_id: str, now: float) -> list[Command]:
        """The colleague takes the call; the first agent goes to wrap-up."""
        call = self._connected(call_id)
        leg = self.acd.legs.get(call.consult_leg) if call.consult_leg else None
        if leg is None or not leg.answered:
            raise NotAllowed(f"call {call_id} has no answered consultation")
        self.acd.emit(CallTransferred(call.id, now, call.agent_id, "consult", leg.agent_id))
        self._progress(call, call.agent_id, "consult", "agent", leg.agent_id, TransferState.COMPLETED, now)
        out = self._release_agent(call, now)
        leg.purpose = "offer"
        call.consult_leg = None
        call.agent_id, call.leg_id = leg.agent_id, leg.id
        self.acd.agents[leg.agent_id].calls_today += 1
        self._stop_hold(call, now)
        return out

    def consult_cancel(self, call_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if call.consult_leg is None:
            raise NotAllowed(f"call {call_id} has no consultation")
        leg = self.acd.legs.get(call.consult_leg)
        if leg is not None:
            self._progress(
                call, call.agent_id, "consult", "agent", leg.agent_id, TransferState.CANCELLED, now
            )
        return self.legbook.cancel_by_id(call.consult_leg, now)

    # -- voicemail tasks ------------------------------------------------------------------------

    def task_done(self, task_id: str, now: float) -> list[Command]:
        """The agent finished a voicemail task; while its callback is up, it ends with the callback."""
        call = self.acd.calls.get(task_id)
        if call is None or call.kind is not CallKind.VOICEMAIL or call.state is not CallState.CONNECTED:
            return []
        if call.callback_leg is not None and call.callback_leg in self.acd.legs:
            call.done_requested = True
            return []
        self.queueing.end_connected(call, now)
        return self.dispatcher.dispatch(now)

    def callback_started(self, agent_id: str, leg_id: str, task_id: str | None, now: float) -> list[Command]:
        """The agent calls a customer back (a voicemail) on a leg the PBX is placing now.

        The agent is busy until that leg is gone, whether or not the task is closed meanwhile; an
        agent idle until now (a message from their own mailbox) is on that call for the time."""
        agent = self.acd.agents.get(agent_id)
        if agent is None:
            raise NotAllowed(f"unknown agent {agent_id}")
        if leg_id in self.acd.legs:
            return []
        task = self.acd.calls.get(task_id) if task_id is not None else None
        owner = task.id if task is not None else leg_id
        # the PBX leg dials the customer itself: no claim, no bridge to wait for
        leg = Leg(
            id=leg_id, call_id=owner, agent_id=agent.id, purpose="callback", claimed=True, answered=True
        )
        self.acd.legs[leg.id] = leg
        self.acd.legs_of.setdefault(agent.id, set()).add(leg.id)
        if task is not None:
            task.callback_leg = leg.id
        elif agent.state is AgentState.IDLE:
            self.desk.change_state(agent, AgentState.RINGING, now, leg_id)
            self.desk.change_state(agent, AgentState.ON_CALL, now, leg_id)
        self.desk.refresh(agent)
        return []

    def callback_over(self, leg: Leg, now: float) -> list[Command]:
        """The callback leg is gone: the agent is free again, and a task closed meanwhile ends."""
        acd = self.acd
        acd.legs.pop(leg.id, None)
        acd.legs_of.get(leg.agent_id, set()).discard(leg.id)
        agent = acd.agents[leg.agent_id]
        task = acd.calls.get(leg.call_id)
        if task is not None and task.callback_leg == leg.id:
            task.callback_leg = None
            if task.done_requested and task.state is CallState.CONNECTED:
                self.queueing.end_connected(task, now)
        elif agent.state is AgentState.ON_CALL and agent.call_id == leg.id:
            self.desk.change_state(agent, AgentState.IDLE, now, None)
        self.desk.refresh(agent)
        return self.dispatcher.dispatch(now)
