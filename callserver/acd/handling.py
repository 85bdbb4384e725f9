"""What agents and supervisors do with a connected call: hold, transfers, consultation, wrap-up.

These are engine inputs like any other (sans-I/O, `now` passed in, commands returned); the PBX side
of each (moving channels around) is the call-control adapter's job, which calls these after or
before its own actions as each one requires.
"""

from __future__ import annotations

from ..facts.model import CallHeld, CallResumed, CallTransferred, Outcome
from ..pbx.dialplan import Var
from .commands import Command, OriginateAgentLeg
from .engine import EngineCore
from .model import AgentState, Call, CallKind, CallState


class NotAllowed(Exception):
    """The call or agent is not in a state where that can be done; says why."""


class AcdEngine(EngineCore):
    def _connected(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise NotAllowed(f"call {call_id} is not in progress")
        if call.state is not CallState.CONNECTED:
            raise NotAllowed(f"call {call_id} is {call.state.value}, not connected")
        return call

    def hold(self, call_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if call.on_hold:
            raise NotAllowed(f"call {call_id} is already on hold")
        call.on_hold, call.hold_started = True, now
        self._facts.append(CallHeld(call.id, now, call.agent_id))
        return []

    def resume(self, call_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if not call.on_hold or call.hold_started is None:
            raise NotAllowed(f"call {call_id} is not on hold")
        held = now - call.hold_started
        call.hold_total += held
        call.on_hold, call.hold_started = False, None
        self._facts.append(CallResumed(call.id, now, call.agent_id, held))
        return []

    def _release_agent(self, call: Call, now: float) -> list[Command]:
        """The agent hands the call on: their leg goes, they go to wrap-up."""
        out: list[Command] = []
        leg = self.legs.get(call.leg_id) if call.leg_id else None
        if leg is not None:
            out += self._cancel_leg(leg, now)
        if call.agent_id is not None:
            agent = self.agents[call.agent_id]
            if agent.call_id == call.id and agent.state is AgentState.ON_CALL:
                agent.leg_id = None
                self._agent_after_call(agent, call, now)
        return out

    def transfer_to_queue(self, call_id: str, queue: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        self._queue(queue)
        return self._requeue(call, queue, None, now)

    def transfer_to_agent(self, call_id: str, agent_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if agent_id not in self.agents:
            raise NotAllowed(f"unknown agent {agent_id}")
        if agent_id == call.agent_id:
            raise NotAllowed("a call cannot be transferred to the agent who has it")
        return self._requeue(call, call.queue, agent_id, now)

    def _requeue(self, call: Call, queue: str, target_agent: str | None, now: float) -> list[Command]:
        kind, target = ("agent", target_agent) if target_agent else ("queue", queue)
        self._facts.append(CallTransferred(call.id, now, call.agent_id, kind, target))
        out = self._release_agent(call, now)
        if call.consult_leg is not None:
            out += self._cancel_leg(self.legs.get(call.consult_leg), now)
        if call.on_hold and call.hold_started is not None:
            call.hold_total += now - call.hold_started
        call.on_hold, call.hold_started = False, None
        call.move(CallState.WAITING)
        call.agent_id = call.leg_id = None
        call.ring_legs.clear()
        call.declined.clear()
        call.target_agent = target_agent
        call.visited = []
        self._enter_queue(call, queue, now)
        return out + self._dispatch(now)

    def transfer_out(self, call_id: str, number: str, now: float) -> list[Command]:
        """Blind transfer to an outside number: the call leaves callserver."""
        call = self._connected(call_id)
        self._facts.append(CallTransferred(call.id, now, call.agent_id, "number", number))
        out = self._release_agent(call, now)
        self._end(call, Outcome.TRANSFERRED, now)
        return out + self._dispatch(now)

    def consult_agent(self, call_id: str, agent_id: str, now: float) -> list[Command]:
        """Ring a colleague for the agent to talk to first (the caller waits on hold)."""
        call = self._connected(call_id)
        agent = self.agents.get(agent_id)
        if agent is None:
            raise NotAllowed(f"unknown agent {agent_id}")
        if call.consult_leg is not None:
            raise NotAllowed(f"call {call_id} already has a consultation")
        if agent.id not in self.router.free:
            raise NotAllowed(f"agent {agent_id} is not free")
        leg = self._new_leg(call, agent, "consult", now)
        call.consult_leg = leg.id
        return [
            OriginateAgentLeg(
                call_id=call.id,
                agent_id=agent.id,
                leg_id=leg.id,
                endpoint=agent.endpoint,
                caller_channel="",
                ring_timeout=self.queues[call.queue].ring_timeout,
                caller_id=call.caller_num,
                variables={Var.CALL: call.id, Var.AGENT: agent.id, Var.PEER_LEG: call.leg_id or ""},
                purpose="consult",
            )
        ]

    def consult_complete(self, call_id: str, now: float) -> list[Command]:
        """The colleague takes the call; the first agent goes to wrap-up."""
        call = self._connected(call_id)
        leg = self.legs.get(call.consult_leg) if call.consult_leg else None
        if leg is None or not leg.answered:
            raise NotAllowed(f"call {call_id} has no answered consultation")
        self._facts.append(CallTransferred(call.id, now, call.agent_id, "consult", leg.agent_id))
        out = self._release_agent(call, now)
        leg.purpose = "offer"
        call.consult_leg = None
        call.agent_id, call.leg_id = leg.agent_id, leg.id
        target = self.agents[leg.agent_id]
        target.calls_today += 1
        if call.on_hold and call.hold_started is not None:
            call.hold_total += now - call.hold_started
        call.on_hold, call.hold_started = False, None
        return out

    def consult_cancel(self, call_id: str, now: float) -> list[Command]:
        call = self._connected(call_id)
        if call.consult_leg is None:
            raise NotAllowed(f"call {call_id} has no consultation")
        return self._cancel_leg(self.legs.get(call.consult_leg), now)

    def wrapup_done(self, agent_id: str, now: float) -> list[Command]:
        agent = self.agents.get(agent_id)
        if agent is None or agent.state is not AgentState.WRAPUP:
            return []
        agent.state_deadline = None
        self._agent_state(agent, AgentState.IDLE, now, None)
        return self._dispatch(now)

    def task_done(self, task_id: str, now: float) -> list[Command]:
        """The agent finished a voicemail task."""
        call = self.calls.get(task_id)
        if call is None or call.kind is not CallKind.VOICEMAIL or call.state is not CallState.CONNECTED:
            return []
        self._end_connected(call, now)
        return self._dispatch(now)

    def adopt_connected(
        self,
        call_id: str,
        *,
        channel: str,
        caller_num: str,
        queue: str,
        agent_id: str,
        leg_id: str,
        now: float,
        arrived_at: float,
    ) -> list[Command]:
        """A call found bridged to one of our agent legs after a restart or reconnect."""
        if (
            call_id in self.calls
            or call_id in self._ended
            or agent_id not in self.agents
            or queue not in self.queues
        ):
            return []
        agent = self.agents[agent_id]
        if agent.state is not AgentState.IDLE or self._legs_of.get(agent_id):
            return []
        out = self.call_arrived(
            call_id,
            channel=channel,
            caller_num=caller_num,
            caller_name="",
            dnis="",
            queue=queue,
            now=now,
            arrived_at=arrived_at,
        )
        call = self.calls.get(call_id)
        if call is None:
            return out
        if call.state is CallState.OFFERING:
            # the arrival was just offered to someone: withdraw that and take the adopted leg
            for other in sorted(call.ring_legs):
                out += self._cancel_leg(self.legs[other], now)
            call.state = CallState.WAITING
        self.router.remove_call(call)
        call.state = CallState.OFFERING
        leg = self._new_leg(call, agent, "offer", now)
        self.legs.pop(leg.id)
        self._legs_of[agent.id].discard(leg.id)
        leg.id = leg_id
        self.legs[leg_id] = leg
        self._legs_of[agent.id].add(leg_id)
        agent.leg_id = leg_id
        call.ring_legs = {leg_id}
        call.agent_id, call.leg_id = agent_id, leg_id
        return out + self.leg_answered(leg_id, now)
