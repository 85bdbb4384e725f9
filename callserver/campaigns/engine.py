"""The campaign engine: leads, compliance, pacer, attempts and agents of one campaign, on a clock
passed in.

Sans-I/O like the ACD engine: every input takes `now` (epoch seconds) and returns the commands the
PBX adapter must carry out; what happened is queued as facts (`pop_facts`). Timers are data: ask
`next_deadline()`, call `on_timer(now)` when it passes. The ACD says which agents the campaign may
use now (`agent_ready` / `agent_unavailable`): inbound keeps priority over blended agents, and the
pacer counts only agents the campaign really has.
Invariants: a reserved agent waits for one line only; a person is connected within the
jurisdiction's grace or hears the information message and is counted abandoned; every dial ends in
exactly one AttemptEnded; lines never exceed `max_lines_per_agent` times the usable agents.
"""

from __future__ import annotations

from enum import StrEnum

from .commands import (
    Command,
    ConnectToAgent,
    HangUp,
    LeaveMachineMessage,
    PlayInfoMessageAndHangup,
)
from .dialing import AMD_GRACE, DROP_MARGIN, EngineCore, NotAllowed, view_free
from .facts import (
    AttemptAmd,
    AttemptAnswered,
    AttemptConnected,
    AttemptEnded,
    AttemptRinging,
)
from .model import (
    AgentSlot,
    AmdDecision,
    Attempt,
    AttemptResult,
    AttemptState,
    CampaignAgent,
    MachineHandling,
)
from .stats import Fate

__all__ = ["CampaignEngine", "DialProgress", "NotAllowed", "view_free"]


class DialProgress(StrEnum):
    """What the PBX says about a dial."""

    RINGING = "ringing"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    INVALID = "invalid"


_END_OF = {
    DialProgress.BUSY: AttemptResult.BUSY,
    DialProgress.NO_ANSWER: AttemptResult.NO_ANSWER,
    DialProgress.FAILED: AttemptResult.FAILED,
    DialProgress.INVALID: AttemptResult.INVALID,
}


class CampaignEngine(EngineCore):
    """The campaign engine: the core (dialing.py) plus what the PBX reports about each dial."""

    # -- what the PBX reports ---------------------------------------------------------------

    def _attempt(self, attempt_id: str) -> Attempt:
        attempt = self.attempts.get(attempt_id)
        if attempt is None or attempt.state is AttemptState.ENDED:
            raise NotAllowed(f"attempt {attempt_id} is not in progress in campaign {self.name}")
        return attempt

    def dial_result(self, attempt_id: str, progress: DialProgress, now: float) -> list[Command]:
        attempt = self._attempt(attempt_id)
        if progress is DialProgress.RINGING:
            if attempt.state is AttemptState.DIALING:
                attempt.move(AttemptState.RINGING)
                attempt.ringing_at = now
                self._facts.append(AttemptRinging(attempt.id, self.name, now))
            return []
        if progress is DialProgress.ANSWERED:
            attempt.move(AttemptState.ANSWERED)
            attempt.answered_at = now
            self._facts.append(AttemptAnswered(attempt.id, self.name, now))
            if self.campaign.amd.enabled:
                self._arm(now + self.campaign.amd.total_analysis_time / 1000 + AMD_GRACE, "amd", attempt.id)
                return []
            return self._person(attempt, now)
        result = _END_OF[progress]
        fate = Fate.NO_ANSWER if result is AttemptResult.NO_ANSWER else Fate.FAILED
        self.stats.dial_fate(fate, now - attempt.dialed_at)
        return self._end(attempt, result, now, by="network")

    def amd_result(self, attempt_id: str, decision: AmdDecision, now: float) -> list[Command]:
        attempt = self._attempt(attempt_id)
        if attempt.state is not AttemptState.ANSWERED or attempt.answered_at is None:
            raise NotAllowed(f"attempt {attempt_id} is {attempt.state.value}: no AMD decision expected")
        attempt.amd, attempt.amd_at = decision, now
        attempt.amd_duration = now - attempt.answered_at
        self._facts.append(AttemptAmd(attempt.id, self.name, now, decision.value, attempt.amd_duration))
        person = decision is not AmdDecision.MACHINE
        self.stats.amd_decision(person, attempt.amd_duration)
        if person:
            c = self.compliance
            fp = self.campaign.amd.false_positive_estimate
            if c.count_false_positives and 0.0 < fp < 1.0:
                c.meter.false_positives(now, fp / (1.0 - fp))
            return self._person(attempt, now)
        self.stats.dial_fate(Fate.MACHINE, now - attempt.dialed_at)
        handling = self.campaign.machine_handling
        if handling is MachineHandling.CONNECT:
            agent = self._agent_for(attempt)
            if agent is not None:
                attempt.move(AttemptState.CONNECTING)
                return self._to_agent(attempt, agent, now)
        attempt.move(AttemptState.MACHINE)
        out: list[Command] = self._unreserve(attempt, now)
        if handling is MachineHandling.LEAVE_MESSAGE:
            return [LeaveMachineMessage(attempt.id, self.campaign.machine_message), *out]
        return [HangUp(attempt.id, "answering machine"), *out]

    def _agent_for(self, attempt: Attempt) -> CampaignAgent | None:
        if attempt.reserved_for is not None:
            agent = self.agents.get(attempt.reserved_for)
            if agent is not None and agent.slot is AgentSlot.RESERVED and agent.attempt_id == attempt.id:
                return agent
        free = view_free(self.agents)
        return free[0] if free else None

    def _person(self, attempt: Attempt, now: float) -> list[Command]:
        """Someone is there (AMD said a person, or no AMD): an agent now, or within the grace."""
        attempt.person_at = now
        self.compliance.meter.live_answer(now)
        self.stats.dial_fate(Fate.NEED, now - attempt.dialed_at)
        agent = self._agent_for(attempt)
        if agent is not None:
            return self._connect(attempt, agent, now)
        attempt.move(AttemptState.WAITING_AGENT)
        self._waiting[attempt.id] = attempt
        person_at = attempt.person_at
        self._arm(person_at + max(0.0, self.compliance.connect_within - DROP_MARGIN), "grace", attempt.id)
        return []

    def _connect(self, attempt: Attempt, agent: CampaignAgent, now: float) -> list[Command]:
        if attempt.reserved_for is not None and attempt.reserved_for != agent.id:
            # the reserved agent is gone or busy: whoever takes it, the other is released
            other = self.agents.get(attempt.reserved_for)
            if other is not None and other.attempt_id == attempt.id and other.slot is AgentSlot.RESERVED:
                other.attempt_id = None
                self._agent_to(other, AgentSlot.READY, now)
        self._waiting.pop(attempt.id, None)
        attempt.move(AttemptState.CONNECTING)
        return self._to_agent(attempt, agent, now)

    def _to_agent(self, attempt: Attempt, agent: CampaignAgent, now: float) -> list[Command]:
        if agent.attempt_id is not None and agent.attempt_id != attempt.id:
            # the agent was waiting for another line: that line is nobody's now
            other = self.attempts.get(agent.attempt_id)
            if other is not None:
                other.reserved_for = None
        agent.attempt_id = attempt.id
        attempt.agent_id = agent.id
        self._agent_to(agent, AgentSlot.ON_CALL, now)
        return [ConnectToAgent(attempt.id, agent.id)]

    def connected_to_agent(self, attempt_id: str, now: float) -> list[Command]:
        """The PBX bridged the customer into the agent's line."""
        attempt = self._attempt(attempt_id)
        attempt.move(AttemptState.CONNECTED)
        attempt.connected_at = now
        start = attempt.person_at if attempt.person_at is not None else now
        if attempt.person_at is not None and now - start > self.compliance.connect_within:
            # too late to count as connected under the rules: it is an abandoned call all the same
            attempt.abandoned = True
            self.compliance.meter.abandoned(now)
        if attempt.agent_id is not None:
            self.agents[attempt.agent_id].contacts += 1
        lead_id = attempt.lead_id
        self._facts.append(
            AttemptConnected(attempt.id, self.name, now, attempt.agent_id or "", lead_id, now - start)
        )
        return []

    def _drop(self, attempt: Attempt, now: float) -> list[Command]:
        """The grace ran out with no agent: information message (where the law wants it), hang-up."""
        self._waiting.pop(attempt.id, None)
        attempt.move(AttemptState.DROPPING)
        attempt.abandoned = True
        self.compliance.meter.abandoned(now)
        out = self._unreserve(attempt, now)
        if self.compliance.info_message:
            attempt.info_message = True
            c = self.campaign
            return [PlayInfoMessageAndHangup(attempt.id, c.info_message, c.caller_name, c.caller_id), *out]
        return [HangUp(attempt.id, "no agent free"), *out]

    def _unreserve(self, attempt: Attempt, now: float) -> list[Command]:
        if attempt.reserved_for is None:
            return []
        agent = self.agents.get(attempt.reserved_for)
        attempt.reserved_for = None
        if agent is not None and agent.attempt_id == attempt.id and agent.slot is AgentSlot.RESERVED:
            agent.attempt_id = None
            self._agent_to(agent, AgentSlot.READY, now)
            return self._dispatch(now)
        return []

    def hangup(self, attempt_id: str, now: float, *, by: str = "customer") -> list[Command]:
        """The customer's channel is gone (whoever hung up)."""
        attempt = self.attempts.get(attempt_id)
        if attempt is None or attempt.state is AttemptState.ENDED:
            return []  # already ended (a failed dial is reported, then its channel goes)
        state = attempt.state
        if state in (AttemptState.DIALING, AttemptState.RINGING):
            rang = attempt.ringing_at is not None and now - attempt.dialed_at >= self.compliance.ring_timeout
            result = AttemptResult.NO_ANSWER if rang else AttemptResult.FAILED
            self.stats.dial_fate(Fate.NO_ANSWER if rang else Fate.FAILED, now - attempt.dialed_at)
        elif state is AttemptState.CONNECTED:
            result = AttemptResult.CONNECTED
        elif state is AttemptState.MACHINE:
            handling = self.campaign.machine_handling
            leave = handling is MachineHandling.LEAVE_MESSAGE
            result = AttemptResult.MACHINE_MESSAGE if leave else AttemptResult.MACHINE
        elif state is AttemptState.DROPPING:
            result = AttemptResult.ABANDONED
        else:  # ANSWERED, WAITING_AGENT, CONNECTING: gone before talking to anyone
            result = AttemptResult.HUNG_UP_EARLY
        return self._end(attempt, result, now, by=by)

    def _end(self, attempt: Attempt, result: AttemptResult, now: float, *, by: str) -> list[Command]:
        was = attempt.state
        self._waiting.pop(attempt.id, None)
        attempt.move(AttemptState.ENDED)
        attempt.ended_at, attempt.result, attempt.hangup_by = now, result, by
        self._facts.append(
            AttemptEnded(
                attempt.id,
                self.name,
                now,
                attempt.lead_id,
                attempt.number,
                result.value,
                attempt.dialed_at,
                attempt.ringing_at,
                attempt.answered_at,
                attempt.amd.value if attempt.amd else None,
                attempt.amd_duration,
                attempt.person_at,
                attempt.connected_at,
                attempt.agent_id,
                attempt.abandoned,
                attempt.info_message,
                by,
            )
        )
        out: list[Command] = []
        if was in (AttemptState.CONNECTING, AttemptState.CONNECTED) and attempt.agent_id is not None:
            # the agent codes the call in wrap-up; the lead waits for that outcome
            self._agent_to(self.agents[attempt.agent_id], AgentSlot.WRAPUP, now)
            return out
        del self.attempts[attempt.id]
        lead = self.leads.get(attempt.lead_id)
        self.leads.settle(lead, attempt, None, now)
        self._lead_fact(lead, now)
        # a reserved agent freed here is paced for by `_unreserve`; other lines wait for the tick
        return out + self._unreserve(attempt, now)
