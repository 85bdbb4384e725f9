"""Agents in the ACD: their status (their choice) and their state (what the system does with them).

Every state change goes through `Agent.move` (the transition table) and is reported as a fact; the
router's free list is kept exact after each change: free = available, idle, and no leg still up.
"""

from __future__ import annotations

from ..facts.model import (
    AgentPhoneChanged,
    AgentStateChanged,
    AgentStatusChanged,
    CallWrappedUp,
    WrapupExtended,
)
from .commands import Command
from .model import Agent, AgentState, AgentStatus, Call
from .state import AcdState
from .timers import TimerHandler, TimerKind


class AgentDesk:
    def __init__(self, acd: AcdState) -> None:
        self.acd = acd

    # -- inputs ---------------------------------------------------------------------------------

    def set_status(self, agent_id: str, status: AgentStatus, now: float, reason: str = "") -> None:
        """The agent (or a supervisor) changes the agent's status; the caller dispatches after."""
        agent = self.acd.agents[agent_id]
        agent.resume_at = None
        if status is AgentStatus.AVAILABLE and agent.status is not AgentStatus.AVAILABLE:
            agent.idle_since = now
            agent.no_answers = 0
        self.change_status(agent, status, reason, now)

    def set_endpoint(self, agent_id: str, endpoint: str, *, remote: bool) -> None:
        """Where the agent takes calls now (a remote agent logging in with their home number)."""
        agent = self.acd.agents[agent_id]
        agent.endpoint, agent.remote = endpoint, remote

    def reset_endpoint(self, agent_id: str) -> None:
        """Back to the phone the configuration gives the agent."""
        spec = self.acd.agents[agent_id].spec
        self.set_endpoint(agent_id, spec.endpoint, remote=spec.remote)

    def set_phone_reachable(self, agent_id: str, reachable: bool, now: float) -> bool:
        """The PBX says whether the agent's phone can be reached; True when that changed anything.

        An unreachable phone is not offered calls (the agent keeps their status: it is not their
        choice) and is offered them again as soon as it is reachable; the caller dispatches after.
        """
        agent = self.acd.agents[agent_id]
        if agent.phone_reachable is reachable:
            return False
        agent.phone_reachable = reachable
        self.acd.emit(AgentPhoneChanged(agent.id, now, reachable, agent.endpoint))
        self.refresh(agent)
        return True

    def end_wrapup(self, agent_id: str, now: float) -> bool:
        """The agent is done with wrap-up before its time; False when they are not in wrap-up."""
        agent = self.acd.agents.get(agent_id)
        if agent is None or agent.state is not AgentState.WRAPUP:
            return False
        self._leave_wrapup(agent, now)
        return True

    # -- wrap-up: more time, the form sent, the time running out ---------------------------------
    # (drafts and what is saved when the time runs out: `wrapups.WrapupDrafts`, from the facts)

    def extend_wrapup(self, agent_id: str, seconds: float, now: float) -> float | None:
        """More wrap-up time, up to the queue's maximum; the new end (None: not in wrap-up)."""
        agent = self.acd.agents.get(agent_id)
        if agent is None or agent.state is not AgentState.WRAPUP or agent.state_deadline is None:
            return None
        limit = agent.wrapup_limit if agent.wrapup_limit is not None else agent.state_deadline
        until = min(limit, max(agent.state_deadline, now) + max(0.0, seconds))
        if until != agent.state_deadline:
            agent.state_deadline = until
            self.acd.timers.arm(until, TimerKind.AGENT_DEADLINE, agent.id)
            self.acd.emit(WrapupExtended(agent.id, now, agent.call_id, until))
        return until

    def finish_wrapup(self, agent_id: str, call_id: str, code: str, note: str, by: str, now: float) -> bool:
        """The agent sent the wrap-up form of `call_id`: saved, and the wrap-up ends now, in that order
        (the time cannot run out in between). False (nothing done) when not in that wrap-up."""
        agent = self.acd.agents.get(agent_id)
        if agent is None or agent.state is not AgentState.WRAPUP or agent.call_id != call_id:
            return False
        self.acd.emit(CallWrappedUp(call_id, now, agent.id, code, note, by))
        self._leave_wrapup(agent, now)
        return True

    def wrapup_over(self, agent: Agent, now: float) -> None:
        """The wrap-up time ran out."""
        self._leave_wrapup(agent, now)

    def _leave_wrapup(self, agent: Agent, now: float) -> None:
        agent.state_deadline = None
        agent.wrapup_limit = None
        self.change_state(agent, AgentState.IDLE, now, None)

    # -- what the other parts of the engine do to agents ----------------------------------------

    def change_status(self, agent: Agent, status: AgentStatus, reason: str, now: float) -> None:
        if agent.status is status and agent.reason == reason:
            return
        agent.status, agent.reason = status, reason
        staffed = status is AgentStatus.AVAILABLE
        if agent.logged_in_since is not None and not staffed:
            agent.logged_in_time += now - agent.logged_in_since
            agent.logged_in_since = None
        elif staffed and agent.logged_in_since is None:
            agent.logged_in_since = now
        self.acd.emit(AgentStatusChanged(agent.id, now, status.value, reason))
        self.refresh(agent)

    def change_state(
        self, agent: Agent, new: AgentState, now: float, call_id: str | None, until: float | None = None
    ) -> None:
        old = agent.move(new)
        agent.call_id = call_id
        if new is AgentState.IDLE:
            agent.idle_since = now
            if agent.busy_since is not None:
                agent.busy_time += now - agent.busy_since
                agent.busy_since = None
        elif agent.busy_since is None:
            agent.busy_since = now
        self.acd.emit(AgentStateChanged(agent.id, now, old.value, new.value, call_id, until))
        self.refresh(agent)

    def refresh(self, agent: Agent) -> None:
        """Keep the router's free list exact: free = available, idle, and no leg still up."""
        router = self.acd.router
        if agent.can_take_call and not self.acd.has_legs(agent.id):
            if agent.id not in router.free:
                router.agent_free(agent)
                self.acd.dirty_agents.append(agent.id)
        else:
            router.agent_busy(agent)

    def pause_after_failure(self, agent: Agent, reason: str, now: float, *, threshold: int) -> None:
        """One more offer not answered: paused once `threshold` in a row (resumed later if configured)."""
        agent.no_answers += 1
        if agent.status is not AgentStatus.AVAILABLE or agent.no_answers < threshold:
            return
        self.change_status(agent, AgentStatus.PAUSED, reason, now)
        if self.acd.no_answer_resume is not None:
            agent.resume_at = now + self.acd.no_answer_resume
            self.acd.timers.arm(agent.resume_at, TimerKind.AUTO_RESUME, agent.id)

    def after_call(self, agent: Agent, call: Call, now: float) -> None:
        """The agent's part in a call is over: wrap-up if the queue has one, else idle."""
        spec = self.acd.queues[call.queue]
        if spec.wrapup > 0:
            until = now + spec.wrapup
            agent.state_deadline = until
            agent.wrapup_limit = now + max(spec.wrapup, spec.wrapup_max)
            self.change_state(agent, AgentState.WRAPUP, now, call.id, until)
            self.acd.timers.arm(until, TimerKind.AGENT_DEADLINE, agent.id)
        else:
            self.change_state(agent, AgentState.IDLE, now, None)

    # -- timers ---------------------------------------------------------------------------------

    def auto_resume_timer(self) -> TimerHandler:
        return TimerHandler(self._resume_live, self._resume)

    def _resume_live(self, agent_id: str, at: float) -> bool:
        agent = self.acd.agents.get(agent_id)
        return agent is not None and agent.resume_at == at

    def _resume(self, agent_id: str, now: float) -> list[Command]:
        agent = self.acd.agents[agent_id]
        agent.resume_at = None
        if agent.status is AgentStatus.PAUSED:
            self.change_status(agent, AgentStatus.AVAILABLE, "", now)
        return []
