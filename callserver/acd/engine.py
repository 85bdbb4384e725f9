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
from .dispatch import Dispatcher
from .engagement import Engagements
from .handling import CallHandling
from .legs import LegBook
from .lines import LineDesk
from .model import Agent, AgentSpec, AgentStatus, Call, Leg, QueueSpec
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
    ) -> None:
        acd = AcdState(
            queues,
            agents,
            no_answer_resume=no_answer_resume,
            ageing=ageing,
            seed=seed,
            accept_timeout=accept_timeout,
        )
        self.acd = acd
        self.desk = AgentDesk(acd)
        self.legbook = LegBook(acd, self.desk)
        self.queueing = Queueing(acd, self.desk)
        self.dispatcher = Dispatcher(acd, self.desk, self.legbook)
        self.arrivals = Arrivals(acd, self.legbook, self.queueing, self.dispatcher)
        self.offers = Offers(acd, self.desk, self.legbook, self.queueing, self.dispatcher)
        self.handling = CallHandling(acd, self.desk, self.legbook, self.queueing, self.dispatcher)
        self.adoption = Adoption(acd, self.legbook, self.arrivals, self.offers, self.dispatcher)
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
        self.leg_failed = self.offers.leg_failed
        self.leg_hung_up = self.offers.leg_hung_up
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
        self.set_pbx_ready = self.adoption.set_pbx_ready
        self.adopt_connected = self.adoption.adopt_connected
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

    def wrapup_done(self, agent_id: str, now: float) -> list[Command]:
        """The agent ends wrap-up early (no-op when they are not in wrap-up)."""
        if not self.desk.end_wrapup(agent_id, now):
            return []
        return self.dispatcher.dispatch(now)

    # -- read-only state (views, adapters and tests read it; only the parts change it) ---------

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
