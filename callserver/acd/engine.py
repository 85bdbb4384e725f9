"""The ACD engine: waiting calls, agents and the offers between them, on a clock passed in.

Sans-I/O: every input takes `now` (seconds) and returns the commands the PBX adapter must carry out;
what happened is queued as facts (`pop_facts`). Timers are data: ask `next_deadline()`, call
`on_timer(now)` when it passes. Invariants: an agent has at most one live leg; a call is offered to
one agent at a time (ring-all queues excepted, where the first to accept wins and the others are
cancelled).

The engine is composed of parts, one per concern, sharing one `AcdState`:

- `agents.AgentDesk`: agent status and state, the router's free list, wrap-up, pauses;
- `legs.LegBook`: agent legs opened, cancelled and dropped;
- `queueing.Queueing`: calls entering queues, routing steps, announcements, and every ending;
- `dispatch.Dispatcher`: matching what changed, and the offers that follow;
- `arrivals.Arrivals`: callers arriving, pressing the callback key, hanging up;
- `offers.Offers`: what becomes of an offer's leg (claimed, answered, failed, gone);
- `handling.CallHandling`: hold, transfers, consultation, end of a voicemail task;
- `adoption.Adoption`: the PBX link going down and back, calls adopted after a restart;
- `lines.LineDesk`: offers taken on an agent's persistent line (a bridge, not a new leg);
- `engagement.Engagements`: agents busy with outside work (a campaign call) take no offer.

This class wires them, owns the timer handler table and is the one entry point for inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .adoption import Adoption
from .agents import AgentDesk
from .arrivals import Arrivals
from .commands import Command
from .dispatch import DecisionWatch, Dispatcher
from .engagement import Engagements
from .handling import CallHandling
from .legs import LegBook
from .lines import LineDesk
from .model import Agent, AgentSpec, AgentStatus, Call, Ending, Leg, QueueSpec
from .offers import Offers
from .queueing import Queueing
from .router import DEFAULT_AGEING, Router
from .state import AcdState
from .timers import TimerKind


class AcdEngine:
    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        no_answer_resume: float | None = None,
        ageing: float = DEFAULT_AGEING,
        seed: int = 0,
        accept_timeout: float = 15.0,
        transfer_timeout: float | None = None,
        transfer_return: str = "queue",
        transfer_self_delay: float = 10.0,
        decision_watch: DecisionWatch | None = None,
    ) -> None:
        acd = AcdState(
            queues,
            agents,
            no_answer_resume=no_answer_resume,
            ageing=ageing,
            seed=seed,
            accept_timeout=accept_timeout,
            transfer_timeout=transfer_timeout,
            transfer_return=transfer_return,
            transfer_self_delay=transfer_self_delay,
        )
        self.acd = acd
        self.desk = AgentDesk(acd)
        self.legbook = LegBook(acd, self.desk)
        self.queueing = Queueing(acd, self.desk)
        self.dispatcher = Dispatcher(acd, self.desk, self.legbook, decision_watch)
        self.arrivals = Arrivals(acd, self.legbook, self.queueing, self.dispatcher)
        self.offers = Offers(acd, self.desk, self.legbook, self.queueing, self.dispatcher)
        self.handling = CallHandling(acd, self.desk, self.legbook, self.queueing, self.dispatcher)
        self.adoption = Adoption(acd, self.desk, self.legbook, self.arrivals, self.dispatcher)
        self.lines = LineDesk(acd, self.desk, self.offers, self.queueing, self.dispatcher)
        self.engagements = Engagements(acd, self.desk, self.dispatcher)
        acd.timers.install(
            {
                TimerKind.MAX_WAIT: self.queueing.max_wait_timer(),
                TimerKind.ROUTING_STEP: self.queueing.routing_step_timer(),
                TimerKind.ANNOUNCE: self.queueing.announce_timer(),
                TimerKind.LEG_GRACE: self.legbook.grace_timer(),
                TimerKind.AGENT_DEADLINE: self.offers.agent_deadline_timer(),
                TimerKind.AUTO_RESUME: self.desk.auto_resume_timer(),
                TimerKind.TRANSFER_TIMEOUT: self.handling.transfer_timeout_timer(),
                TimerKind.TRANSFER_EXCLUSION: self.handling.exclusion_timer(),
            }
        )
        # the bound inputs: the engine's public surface, each one a part's method
        self.call_arrived = self.arrivals.call_arrived
        self.task_arrived = self.arrivals.task_arrived
        self.caller_hung_up = self.arrivals.caller_hung_up
        self.dtmf = self.arrivals.dtmf
        self.leg_picked_up = self.offers.leg_picked_up
        self.leg_claim = self.offers.leg_claim
        self.leg_answered = self.offers.leg_answered
        self.leg_needs_accept = self.offers.leg_needs_accept
        self.pbx_error = self.offers.pbx_error
        self.hold = self.handling.hold
        self.resume = self.handling.resume
        self.transfer_to_queue = self.handling.transfer_to_queue
        self.transfer_to_agent = self.handling.transfer_to_agent
        self.transfer_out = self.handling.transfer_out
        self.consult_agent = self.handling.consult_agent
        self.consult_complete = self.handling.consult_complete
        self.consult_cancel = self.handling.consult_cancel
        self.task_done = self.handling.task_done
        self.callback_started = self.handling.callback_started
        self.set_pbx_ready = self.adoption.set_pbx_ready
        self.adopt_connected = self.adoption.adopt_connected
        self.adopt_offer = self.adoption.adopt_offer
        self.adopt_consult = self.adoption.adopt_consult
        self.adopt_stray_leg = self.adoption.adopt_stray_leg
        self.set_endpoint = self.desk.set_endpoint
        self.reset_endpoint = self.desk.reset_endpoint
        self.estimate = self.queueing.estimate
        self.set_line = self.lines.set_line
        self.line_leg_done = self.lines.line_leg_done
        self.engage = self.engagements.engage
        self.release = self.engagements.release
        self.pop_facts = acd.pop_facts
        self.next_deadline = acd.timers.next_deadline

    # -- inputs that span parts ------------------------------------------------------------------

    def on_timer(self, now: float) -> list[Command]:
        """Every timer due at `now` fired, then whatever changed dispatched."""
        return self.acd.timers.fire(now) + self.dispatcher.dispatch(now)

    def set_status(self, agent_id: str, status: AgentStatus, now: float, reason: str = "") -> list[Command]:
        self.desk.set_status(agent_id, status, now, reason)
        return self.dispatcher.dispatch(now)

    def leg_hung_up(self, leg_id: str, now: float, ending: Ending | None = None) -> list[Command]:
        """An agent leg's channel is gone (a callback leg: the end of the callback); `ending` when
        it went unseen (link or server down) or was cut by the PBX."""
        leg = self.acd.legs.get(leg_id)
        if leg is not None and leg.purpose == "callback":
            return self.handling.callback_over(leg, now)
        return self.offers.leg_hung_up(leg_id, now, ending)

    def leg_failed(self, leg_id: str, now: float, *, unreachable: bool = False) -> list[Command]:
        """An agent leg ended without being bridged (a callback leg: the agent never answered)."""
        leg = self.acd.legs.get(leg_id)
        if leg is not None and leg.purpose == "callback":
            return self.handling.callback_over(leg, now)
        return self.offers.leg_failed(leg_id, now, unreachable=unreachable)

    def extend_wrapup(self, agent_id: str, seconds: float, now: float) -> float | None:
        """More wrap-up time (up to the queue's maximum): the new end, None when not in wrap-up."""
        return self.desk.extend_wrapup(agent_id, seconds, now)

    def finish_wrapup(
        self, agent_id: str, call_id: str, code: str, note: str, by: str, now: float
    ) -> tuple[bool, list[Command]]:
        """The wrap-up form of `call_id` sent: saved and wrap-up over; False when not in that wrap-up."""
        if not self.desk.finish_wrapup(agent_id, call_id, code, note, by, now):
            return False, []
        return True, self.dispatcher.dispatch(now)

    def seed_calls_today(self, agent_id: str, count: int) -> None:
        """Calls the agent answered today before this engine started (counted by the store)."""
        agent = self.acd.agents.get(agent_id)
        if agent is not None:
            agent.calls_today = max(agent.calls_today, count)

    def phone_reachable(self, agent_id: str, reachable: bool, now: float) -> list[Command]:
        """The PBX says the agent's phone can (or cannot) be reached; no offer goes to one it cannot."""
        if not self.desk.set_phone_reachable(agent_id, reachable, now):
            return []
        return self.dispatcher.dispatch(now)

    def wrapup_done(self, agent_id: str, now: float) -> list[Command]:
        """The agent ends wrap-up early (no-op when they are not in wrap-up)."""
        if not self.desk.end_wrapup(agent_id, now):
            return []
        return self.dispatcher.dispatch(now)

    # -- read-only state (views, adapters and tests read it; only the parts change it) ---------

    def knows(self, call_id: str) -> bool:
        """The call is live, or ended a short while ago (an adopted call that ended since)."""
        return self.acd.known(call_id)

    @property
    def queues(self) -> Mapping[str, QueueSpec]:
        return self.acd.queues

    @property
    def agents(self) -> Mapping[str, Agent]:
        return self.acd.agents

    @property
    def calls(self) -> Mapping[str, Call]:
        return self.acd.calls

    @property
    def legs(self) -> Mapping[str, Leg]:
        return self.acd.legs

    @property
    def router(self) -> Router:
        return self.acd.router

    @property
    def aht(self) -> Mapping[str, float]:
        return self.acd.aht

    @property
    def pbx_ready(self) -> bool:
        return self.acd.pbx_ready
