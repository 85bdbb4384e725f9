"""The campaign engine's core: run state, agents, leads and pacing, and the launch of each dial.

`engine.py` adds what the PBX reports about each dial (answer, AMD, bridge, hang-up) on top of this
core, as the ACD's handling.py does over its engine core. Sans-I/O: `now` passed in, commands
returned, facts queued, timers as data.
"""

from __future__ import annotations

import heapq
import logging
import math

from .commands import (
    Command,
    Dial,
    HangUp,
    OfferPreview,
    WithdrawPreview,
)
from .compliance import Compliance
from .dnc import DncRegistry
from .facts import (
    AgentSlotChanged,
    AttemptCoded,
    AttemptStarted,
    CallbackBooked,
    CampaignModeChanged,
    CampaignStateChanged,
    DialRefused,
    DncAdded,
    Fact,
    LeadUpdated,
    PreviewOffered,
    PreviewSkipped,
)
from .forecast import AgentView, LineView
from .leads import LeadBook
from .model import (
    DAY,
    IN_FLIGHT,
    MODE_TRANSITIONS,
    RUN_TRANSITIONS,
    AgentSlot,
    AmdDecision,
    Attempt,
    AttemptResult,
    AttemptState,
    Callback,
    Campaign,
    CampaignAgent,
    DialMode,
    EffectiveMode,
    Lead,
    LeadState,
    OutcomeCode,
    RunState,
    checked_move,
    effective_of,
)
from .pacer import Pacer, PacingView, PredictivePacer, PredictiveSettings, ProgressivePacer
from .rules import DialContext, RuleSet
from .stats import PacingStats, Prior
from .trunks import TrunkLimiter

log = logging.getLogger("callserver.campaigns")

PACE_INTERVAL = 1.0
DROP_MARGIN = 0.4  # the information message starts this long before the grace ends
LINE_GRACE = 30.0  # a line the PBX says nothing of past its ring timeout is hung up
AMD_GRACE = 2.0  # past AMD's total analysis time without a decision: treat as a person
MAX_CHECKS_PER_DIAL = 50  # leads refused in a row before the tick gives up (the rest wait)


class NotAllowed(Exception):
    """The campaign, agent or attempt is not in a state where that can be done; says why."""


class EngineCore:
    def __init__(
        self,
        campaign: Campaign,
        leads: LeadBook,
        rules: RuleSet,
        *,
        dnc: DncRegistry | None = None,
        trunks: TrunkLimiter | None = None,
        pacer: Pacer | None = None,
        stats: PacingStats | None = None,
        predictive: PredictiveSettings | None = None,
        pace_interval: float = PACE_INTERVAL,
        id_prefix: str = "",
    ) -> None:
        self.campaign = campaign
        self.name = campaign.name
        self.leads = leads
        self.compliance = Compliance(campaign, rules)
        self.dnc = dnc if dnc is not None else DncRegistry()
        self.trunks = (
            trunks if trunks is not None else TrunkLimiter({campaign.trunk: campaign.dials_per_second})
        )
        self.stats = stats if stats is not None else PacingStats(Prior.for_campaign(campaign.amd.enabled))
        settings = predictive or PredictiveSettings(
            target=campaign.abandon_target, min_agents=campaign.min_predictive_agents
        )
        self.custom_pacer = pacer
        self.predictive = PredictivePacer(
            self.stats, settings, grace=max(0.0, self.compliance.connect_within - DROP_MARGIN)
        )
        self.progressive = ProgressivePacer()
        self.pace_interval = pace_interval
        # attempt ids are also the customer channels' ChannelIds: give a prefix unique to this run
        # of the server (e.g. its start time) so ids never repeat across restarts
        self.id_prefix = id_prefix
        self.run_state = RunState.STOPPED
        self.mode = effective_of(campaign.mode)
        self.mode_reason = ""
        self.agents: dict[str, CampaignAgent] = {}
        self.attempts: dict[str, Attempt] = {}  # live, or ended and waiting for the agent's outcome
        self.refusals = 0
        self.dials = 0
        self.last_alpha: float | None = None
        self.peak_lines_per_agent = 0.0  # customer lines over usable agents, right after a dial
        self._facts: list[Fact] = []
        self._timers: list[tuple[float, int, str, str]] = []
        self._seq = 0
        self._attempt_seq = 0
        self._next_tick: float | None = None
        self._callbacks: list[Lead] = []  # due, waiting for an agent
        self._waiting: dict[str, Attempt] = {}  # people answered, no agent yet (the grace runs)
        self._preview_deadline: dict[str, float] = {}

    # -- facts and timers -------------------------------------------------------------------

    def pop_facts(self) -> list[Fact]:
        facts, self._facts = self._facts, []
        return facts

    def _arm(self, at: float, kind: str, ident: str) -> None:
        if math.isfinite(at):
            self._seq += 1
            heapq.heappush(self._timers, (at, self._seq, kind, ident))

    def _live(self, kind: str, ident: str, at: float) -> bool:
        if kind == "tick":
            return self._next_tick == at
        if kind == "preview":
            return self._preview_deadline.get(ident) == at
        attempt = self.attempts.get(ident)
        if attempt is None:
            return False
        if kind == "grace":
            return attempt.state is AttemptState.WAITING_AGENT
        if kind == "amd":
            return attempt.state is AttemptState.ANSWERED
        return attempt.state in (AttemptState.DIALING, AttemptState.RINGING)  # "line"

    def next_deadline(self) -> float | None:
        while self._timers and not self._live(self._timers[0][2], self._timers[0][3], self._timers[0][0]):
            heapq.heappop(self._timers)
        # while running the tick comes every `pace_interval`: leads and callbacks falling due are
        # picked up by it, so their times need no timer of their own
        return self._timers[0][0] if self._timers else None

    def on_timer(self, now: float) -> list[Command]:
        out: list[Command] = []
        tick = False
        while self._timers and self._timers[0][0] <= now:
            at, _, kind, ident = heapq.heappop(self._timers)
            if not self._live(kind, ident, at):
                continue
            if kind == "tick":
                self._next_tick = None
                tick = True
            elif kind == "grace":
                out += self._drop(self.attempts[ident], now)
            elif kind == "amd":
                log.warning("attempt %s: no AMD decision in time, taken as a person", ident)
                out += self.amd_result(ident, AmdDecision.NOT_SURE, now)
            elif kind == "preview":
                del self._preview_deadline[ident]
                out += self.preview_dial(ident, now)
            else:
                attempt = self.attempts[ident]
                log.warning("attempt %s: the PBX said nothing past the ring timeout; hanging up", ident)
                out.append(HangUp(attempt.id, "no progress from the PBX"))
                out += self._end(attempt, AttemptResult.CANCELLED, now, by="us")
        return out + self._pace(now, tick=tick)

    def _schedule_tick(self, now: float) -> None:
        if self.run_state is RunState.RUNNING and self._next_tick is None:
            self._next_tick = now + self.pace_interval
            self._arm(self._next_tick, "tick", "")

    # -- the campaign as a whole ------------------------------------------------------------

    def _set_run(self, new: RunState, now: float) -> None:
        old = self.run_state
        self.run_state = checked_move(RUN_TRANSITIONS, "campaign", self.name, old, new)
        self._facts.append(CampaignStateChanged(self.name, now, old.value, new.value))

    def start(self, now: float) -> list[Command]:
        problems = self.compliance.rules.check_campaign(self.campaign)
        if problems:
            raise NotAllowed(f"campaign {self.name} may not run: " + "; ".join(problems))
        self._set_run(RunState.RUNNING, now)
        return self._pace(now, tick=True)

    def pause(self, now: float) -> list[Command]:
        self._set_run(RunState.PAUSED, now)
        return self._withdraw_previews(now)

    def stop(self, now: float) -> list[Command]:
        """Stop dialling: lines not answered yet are hung up; conversations go on."""
        self._set_run(RunState.STOPPED, now)
        out = self._withdraw_previews(now)
        for attempt in list(self.attempts.values()):
            if attempt.state in (AttemptState.DIALING, AttemptState.RINGING):
                out.append(HangUp(attempt.id, "campaign stopped"))
                out += self._end(attempt, AttemptResult.CANCELLED, now, by="us")
        return out

    def set_mode(self, mode: DialMode, now: float, reason: str = "supervisor") -> list[Command]:
        out = self._withdraw_previews(now) if self.mode is EffectiveMode.PREVIEW else []
        self._set_mode(effective_of(mode), now, reason)
        return out + self._pace(now)

    def _set_mode(self, new: EffectiveMode, now: float, reason: str) -> None:
        if new is self.mode:
            self.mode_reason = reason  # the monitor shows the current reason
            return
        old = self.mode
        self.mode = checked_move(MODE_TRANSITIONS, "campaign mode", self.name, old, new)
        self.mode_reason = reason
        self._facts.append(CampaignModeChanged(self.name, now, old.value, new.value, reason))

    def _withdraw_previews(self, now: float) -> list[Command]:
        out: list[Command] = []
        for agent in self.agents.values():
            if agent.preview_lead is not None:
                lead = self.leads.get(agent.preview_lead)
                out.append(WithdrawPreview(agent.id, lead.id))
                self._release_preview(agent, lead, now)
                self._agent_to(agent, AgentSlot.READY, now)
        return out

    # -- agents -----------------------------------------------------------------------------

    def _agent(self, agent_id: str) -> CampaignAgent:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = self.agents[agent_id] = CampaignAgent(agent_id)
        return agent

    def _agent_to(self, agent: CampaignAgent, new: AgentSlot, now: float) -> None:
        old = agent.move(new, now)
        self._facts.append(AgentSlotChanged(agent.id, self.name, now, old.value, new.value))

    def agent_ready(self, agent_id: str, now: float) -> list[Command]:
        """The ACD lets the campaign use this agent now (logged in, free, not needed by inbound)."""
        agent = self._agent(agent_id)
        if agent.slot is AgentSlot.READY:
            return []
        if agent.slot is not AgentSlot.OFF:
            raise NotAllowed(f"agent {agent_id} is {agent.slot.value} in campaign {self.name}")
        self._agent_to(agent, AgentSlot.READY, now)
        return self._dispatch(now)

    def agent_unavailable(self, agent_id: str, now: float) -> list[Command]:
        """The agent is no longer the campaign's: taken by inbound, paused or logged out."""
        agent = self._agent(agent_id)
        out: list[Command] = []
        if agent.slot is AgentSlot.OFF:
            return out
        if agent.slot is AgentSlot.ON_CALL:
            raise NotAllowed(f"agent {agent_id} is on a campaign call; the call must end first")
        if agent.slot is AgentSlot.WRAPUP:
            raise NotAllowed(f"agent {agent_id} is in wrap-up; it must be finished first")
        if agent.preview_lead is not None:
            lead = self.leads.get(agent.preview_lead)
            out.append(WithdrawPreview(agent.id, lead.id))
            self._release_preview(agent, lead, now)
        if agent.attempt_id is not None:  # the line dialled for them is nobody's now
            attempt = self.attempts.get(agent.attempt_id)
            if attempt is not None:
                attempt.reserved_for = None
            agent.attempt_id = None
        self._agent_to(agent, AgentSlot.OFF, now)
        return out + self._pace(now)

    def _dispatch(self, now: float) -> list[Command]:
        """Agents became ready: people waiting get them first (the longest waiting), then pacing."""
        out: list[Command] = []
        for attempt in sorted(self._waiting.values(), key=lambda a: a.person_at or 0.0):
            free = view_free(self.agents)
            if not free:
                break
            out += self._connect(attempt, free[0], now)
        return out + self._pace(now)

    def agent_wrapup_done(
        self,
        agent_id: str,
        now: float,
        *,
        outcome: str | None = None,
        callback: Callback | None = None,
        ready: bool = True,
    ) -> list[Command]:
        """The agent closes the call: its outcome code (and callback) settle the lead."""
        agent = self._agent(agent_id)
        if agent.slot is not AgentSlot.WRAPUP or agent.attempt_id is None:
            raise NotAllowed(f"agent {agent_id} is not in wrap-up of a campaign call")
        attempt = self.attempts.pop(agent.attempt_id)
        agent.attempt_id = None
        code: OutcomeCode | None = None
        if outcome is not None:
            try:
                code = self.campaign.outcome(outcome)
            except KeyError as e:
                self.attempts[attempt.id] = attempt
                agent.attempt_id = attempt.id
                raise NotAllowed(str(e)) from None
            attempt.outcome = outcome
            self._facts.append(AttemptCoded(attempt.id, self.name, now, agent_id, outcome))
        if attempt.connected_at is not None and attempt.ended_at is not None:
            self.stats.call_handled(attempt.ended_at - attempt.connected_at, now - attempt.ended_at)
        lead = self.leads.get(attempt.lead_id)
        if code is not None and code.dnc:
            self.add_dnc(attempt.number, now, source=f"outcome:{code.code}", campaign=self.name)
        if callback is not None and (code is None or not (code.final or code.dnc)):
            self.leads.record(lead, attempt, code)
            self._book(lead, callback, now)
        else:
            self.leads.settle(lead, attempt, code, now)
            self._lead_fact(lead, now)
        self._agent_to(agent, AgentSlot.READY if ready else AgentSlot.OFF, now)
        return self._dispatch(now)

    # -- leads: DNC, callbacks, preview -----------------------------------------------------

    def _lead_fact(self, lead: Lead, now: float) -> None:
        self._facts.append(
            LeadUpdated(
                lead.id,
                self.name,
                now,
                lead.state.value,
                lead.next_at,
                lead.attempts,
                lead.last_result.value if lead.last_result else None,
            )
        )

    def add_dnc(self, number: str, now: float, *, source: str, campaign: str | None = None) -> None:
        """Add a number (e.g. the one an agent is talking to) to this campaign's DNC list, or the
        global one with `campaign=""`; it is checked at every dial from now on."""
        scope = self.name if campaign is None else campaign
        self.dnc.add(number, now=now, source=source, campaign=scope)
        self._facts.append(DncAdded(number, scope, now, source))

    def book_callback(self, lead_id: str, callback: Callback, now: float) -> None:
        """Book a callback for a lead that is not being dialled (from a customer record)."""
        lead = self.leads.get(lead_id)
        if lead.state not in (LeadState.NEW, LeadState.QUEUED, LeadState.CALLBACK):
            raise NotAllowed(f"lead {lead_id} is {lead.state.value}; a callback cannot be booked now")
        self._book(lead, callback, now)

    def _book(self, lead: Lead, callback: Callback, now: float) -> None:
        if lead.state is LeadState.DIALING:
            lead.move(LeadState.CALLBACK)
        self.leads.book_callback(lead, callback)
        self._facts.append(CallbackBooked(lead.id, self.name, now, callback.at, callback.agent_id))
        self._lead_fact(lead, now)

    def preview_dial(self, agent_id: str, now: float) -> list[Command]:
        agent = self._agent(agent_id)
        if agent.preview_lead is None:
            raise NotAllowed(f"agent {agent_id} has no lead on preview")
        lead = self.leads.get(agent.preview_lead)
        agent.preview_lead = None
        self._preview_deadline.pop(agent_id, None)
        number = self._number(lead)
        if number is None:
            self._lead_fact(lead, now)
            self._agent_to(agent, AgentSlot.READY, now)
            return self._pace(now)
        return self._dial(lead, number, agent, now)

    def preview_skip(self, agent_id: str, reason: str, now: float, *, final: bool = False) -> list[Command]:
        agent = self._agent(agent_id)
        if agent.preview_lead is None:
            raise NotAllowed(f"agent {agent_id} has no lead on preview")
        lead = self.leads.get(agent.preview_lead)
        self._facts.append(PreviewSkipped(agent_id, self.name, now, lead.id, reason))
        if final:
            agent.preview_lead = None
            self._preview_deadline.pop(agent_id, None)
            lead.move(LeadState.DONE)
            lead.last_outcome = f"skipped: {reason}"
            self._lead_fact(lead, now)
        else:
            self._release_preview(agent, lead, now, delay=self.campaign.retry.default_retry_after)
        self._agent_to(agent, AgentSlot.READY, now)
        return self._pace(now)

    def _release_preview(self, agent: CampaignAgent, lead: Lead, now: float, delay: float = 0.0) -> None:
        agent.preview_lead = None
        self._preview_deadline.pop(agent.id, None)
        self.leads.defer(lead, now + delay)
        self._lead_fact(lead, now)

    # -- choosing what to dial --------------------------------------------------------------

    def _number(self, lead: Lead) -> str | None:
        """The number to dial for a lead now, skipping DNC-listed ones (all listed: the lead is DNC)."""
        n = len(lead.numbers)
        for i in range(n):
            number = lead.numbers[(lead.number_index + i) % n]
            if self.dnc.blocked(number, self.name) is None:
                lead.number_index = (lead.number_index + i) % n
                return number
        lead.move(LeadState.DNC)
        return None

    def _allowed(self, lead: Lead, number: str, now: float, guaranteed: bool) -> bool:
        ctx = DialContext(now, lead.id, number, lead.time_zones, lead.history, guaranteed)
        verdict = self.compliance.verdict(ctx)
        if verdict.allowed:
            return True
        self.refusals += 1
        rules = tuple(r.rule for r in verdict.refusals)
        self._facts.append(
            DialRefused(self.name, now, lead.id, number, rules, verdict.reason, verdict.next_at)
        )
        # never: look again in a day (a rule set may change; the lead is not lost)
        self.leads.defer(lead, verdict.next_at if verdict.next_at is not None else now + DAY)
        self._lead_fact(lead, now)
        return False

    def _next_lead(self, now: float, guaranteed: bool) -> tuple[Lead, str] | None:
        for _ in range(MAX_CHECKS_PER_DIAL):
            lead = self.leads.pop_next(now)
            if lead is None:
                return None
            number = self._number(lead)
            if number is None:
                self._lead_fact(lead, now)
                continue
            if self._allowed(lead, number, now, guaranteed):
                return lead, number
        return None

    # -- pacing -----------------------------------------------------------------------------

    def _usable(self) -> list[CampaignAgent]:
        return [a for a in self.agents.values() if a.slot is not AgentSlot.OFF]

    def view(self, now: float, *, light: bool = False) -> PacingView:
        """What a pacer sees now; `light` leaves out the busy agents and the stats (progressive)."""
        usable = self._usable()
        busy = tuple(
            AgentView(a.slot is AgentSlot.WRAPUP, now - a.since, self._talk_of(a))
            for a in usable
            if not light and a.slot in (AgentSlot.ON_CALL, AgentSlot.WRAPUP)
        )
        lines, reserved, waiting, connected = [], 0, 0, 0
        for att in self.attempts.values():
            if att.state in IN_FLIGHT:
                if att.reserved_for is not None:
                    reserved += 1
                elif att.state is AttemptState.ANSWERED and att.answered_at is not None:
                    lines.append(LineView(True, now - att.answered_at))
                else:
                    lines.append(LineView(False, now - att.dialed_at))
            elif att.state is AttemptState.WAITING_AGENT:
                waiting += 1
            elif att.state in (AttemptState.CONNECTING, AttemptState.CONNECTED):
                connected += 1
        c = self.compliance
        fp = self.campaign.amd.false_positive_estimate if c.count_false_positives else 0.0
        return PacingView(
            now=now,
            agents=len(usable),
            free=sum(1 for a in usable if a.slot is AgentSlot.READY),
            busy=busy,
            lines=tuple(lines),
            reserved_lines=reserved,
            waiting=waiting,
            connected=connected,
            window=c.window_counts(now),
            cap=c.cap,
            connect_within=c.connect_within,
            amd=self.campaign.amd.enabled,
            false_positive_estimate=fp,
            stats=self.stats,
        )

    def _talk_of(self, agent: CampaignAgent) -> float:
        attempt = self.attempts.get(agent.attempt_id or "")
        if attempt is None or attempt.connected_at is None or attempt.ended_at is None:
            return 0.0
        return attempt.ended_at - attempt.connected_at

    def _pace(self, now: float, *, tick: bool = False) -> list[Command]:
        """Dial what the mode says. Predictive pacing runs on the tick only (it is the costly part);
        preview, progressive and callbacks answer at once, an agent is never left waiting."""
        if self.run_state is not RunState.RUNNING:
            return []
        self._schedule_tick(now)
        self._callbacks += self.leads.pop_due_callbacks(now)
        out = self._serve_callbacks(now)
        if self.mode is EffectiveMode.PREVIEW:
            return out + self._offer_previews(now)
        if self.mode is not EffectiveMode.PROGRESSIVE and not tick:
            return out
        if self.mode is EffectiveMode.PROGRESSIVE:
            # cheap: progressive needs counts, not the near-future model
            view = self.view(now, light=True)
            decision = self.progressive.decide(view)
        else:
            view = self.view(now)
            decision = (self.custom_pacer or self.predictive).decide(view)
            if decision.mode is not None:
                self._set_mode(decision.mode, now, decision.reason or "pacer")
        self.last_alpha = decision.alpha
        room = math.floor(self.campaign.max_lines_per_agent * view.agents + 1e-9) - view.total_lines
        k = min(decision.lines, room)
        if k <= 0:
            return out
        k = min(k, self.trunks.available(self.campaign.trunk, now))
        free = [a for a in view_free(self.agents)] if decision.reserve else []
        if decision.reserve:
            k = min(k, len(free))
        launched = 0
        for i in range(k):
            picked = self._next_lead(now, decision.reserve)
            if picked is None:
                break
            lead, number = picked
            out += self._dial(lead, number, free[i] if decision.reserve else None, now)
            launched += 1
        if view.agents:
            ratio = (view.total_lines + launched) / view.agents
            self.peak_lines_per_agent = max(self.peak_lines_per_agent, ratio)
        if k > 0 and self.trunks.available(self.campaign.trunk, now) == 0:
            # the trunk limit cut this tick short: come back as soon as a dial may start
            self._arm(self.trunks.next_token_at(self.campaign.trunk, now), "tick", "")
        return out

    def _serve_callbacks(self, now: float) -> list[Command]:
        out: list[Command] = []
        for lead in list(self._callbacks):
            cb = lead.callback
            assert cb is not None
            agent: CampaignAgent | None = None
            if cb.agent_id is not None:
                owner = self.agents.get(cb.agent_id)
                if owner is not None and owner.slot is AgentSlot.READY:
                    agent = owner
            else:
                free = view_free(self.agents)
                agent = free[0] if free else None
            if agent is None:
                continue
            self._callbacks.remove(lead)
            number = self._number(lead)
            if number is None:
                self._lead_fact(lead, now)
                continue
            if not self._allowed(lead, number, now, guaranteed=True):
                continue
            if self.trunks.take(self.campaign.trunk, now) == 0:
                self._callbacks.insert(0, lead)
                break
            out += self._launch(lead, number, agent, now)
        return out

    def _offer_previews(self, now: float) -> list[Command]:
        out: list[Command] = []
        for agent in view_free(self.agents):
            picked = self._next_lead(now, guaranteed=True)
            if picked is None:
                break
            lead, number = picked
            lead.move(LeadState.PREVIEWING)
            agent.preview_lead = lead.id
            self._agent_to(agent, AgentSlot.RESERVED, now)
            auto = self.campaign.preview_auto_dial
            at = now + auto if auto is not None else None
            if at is not None:
                self._preview_deadline[agent.id] = at
                self._arm(at, "preview", agent.id)
            out.append(OfferPreview(agent.id, lead.id, number, dict(lead.fields), at))
            self._facts.append(PreviewOffered(agent.id, self.name, now, lead.id))
            self._lead_fact(lead, now)
        return out

    def _dial(self, lead: Lead, number: str, agent: CampaignAgent | None, now: float) -> list[Command]:
        if agent is not None and agent.slot is AgentSlot.RESERVED:  # preview: already reserved
            return self._launch(lead, number, agent, now, reserved=True)
        if self.trunks.take(self.campaign.trunk, now) == 0:
            self.leads.defer(lead, now)
            return []
        return self._launch(lead, number, agent, now)

    def _launch(
        self, lead: Lead, number: str, agent: CampaignAgent | None, now: float, reserved: bool = False
    ) -> list[Command]:
        if reserved and self.trunks.take(self.campaign.trunk, now) == 0:
            # a previewed lead waits for the trunk: keep the card, try again at the next tick
            agent_id = agent.id if agent else ""
            self._preview_deadline[agent_id] = self.trunks.next_token_at(self.campaign.trunk, now)
            self._arm(self._preview_deadline[agent_id], "preview", agent_id)
            if agent is not None:
                agent.preview_lead = lead.id
            return []
        self._attempt_seq += 1
        attempt = Attempt(
            id=f"{self.name}-{self.id_prefix}{self._attempt_seq}",
            campaign=self.name,
            lead_id=lead.id,
            number=number,
            dialed_at=now,
            reserved_for=agent.id if agent else None,
        )
        self.attempts[attempt.id] = attempt
        self.dials += 1
        lead.move(LeadState.DIALING)
        if agent is not None:
            if agent.slot is AgentSlot.READY:
                self._agent_to(agent, AgentSlot.RESERVED, now)
            agent.attempt_id = attempt.id
        ring = self.compliance.ring_timeout
        self._arm(now + ring + LINE_GRACE, "line", attempt.id)
        self._facts.append(AttemptStarted(attempt.id, self.name, now, lead.id, number, attempt.reserved_for))
        self._lead_fact(lead, now)
        c = self.campaign
        return [
            Dial(
                attempt_id=attempt.id,
                campaign=self.name,
                lead_id=lead.id,
                number=number,
                caller_id=c.caller_id,
                caller_name=c.caller_name,
                ring_timeout=ring,
                amd_args=c.amd.application_args() if c.amd.enabled else None,
                trunk=c.trunk,
                agent_id=attempt.reserved_for,
            )
        ]

    # -- what the PBX side of the engine (engine.py) provides ---------------------------------

    def amd_result(self, attempt_id: str, decision: AmdDecision, now: float) -> list[Command]:
        raise NotImplementedError

    def _connect(self, attempt: Attempt, agent: CampaignAgent, now: float) -> list[Command]:
        raise NotImplementedError

    def _drop(self, attempt: Attempt, now: float) -> list[Command]:
        raise NotImplementedError

    def _end(self, attempt: Attempt, result: AttemptResult, now: float, *, by: str) -> list[Command]:
        raise NotImplementedError


def view_free(agents: dict[str, CampaignAgent]) -> list[CampaignAgent]:
    """Ready agents not reserved, the longest idle first."""
    return sorted((a for a in agents.values() if a.slot is AgentSlot.READY), key=lambda a: a.since)
