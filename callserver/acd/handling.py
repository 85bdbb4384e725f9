"""What agents and supervisors do with a connected call: hold, transfers, consultation, and the end
of a voicemail task.

These are engine inputs like any other (sans-I/O, `now` passed in, commands returned); the PBX side
of each (moving channels around) is the call-control adapter's job, which calls these after or
before its own actions as each one requires.
"""

from __future__ import annotations

from ..facts.model import CallHeld, CallResumed, CallTransferred, Outcome
from .agents import AgentDesk
from .commands import Command, OriginateAgentLeg
from .dispatch import Dispatcher
from .legs import LegBook
from .model import AgentState, Call, CallKind, CallState
from .queueing import Queueing
from .state import AcdState


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
        kind, target = ("agent", target_agent) if target_agent else ("queue", queue)
        self.acd.emit(CallTransferred(call.id, now, call.agent_id, kind, target))
        out = self._release_agent(call, now)
        if call.consult_leg is not None:
            out += self.legbook.cancel_by_id(call.consult_leg, now)
        self._stop_hold(call, now)
        call.move(CallState.WAITING)
        call.agent_id = call.leg_id = None
        call.ring_legs.clear()
        call.declined.clear()
        call.target_agent = target_agent
        call.visited = []
        self.queueing.enter(call, queue, now)
        return out + self.dispatcher.dispatch(now)

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
        return self.legbook.cancel_by_id(call.consult_leg, now)

    # -- voicemail tasks ------------------------------------------------------------------------

    def task_done(self, task_id: str, now: float) -> list[Command]:
        """The agent finished a voicemail task."""
        call = self.acd.calls.get(task_id)
        if call is None or call.kind is not CallKind.VOICEMAIL or call.state is not CallState.CONNECTED:
            return []
        self.queueing.end_connected(call, now)
        return self.dispatcher.dispatch(now)
