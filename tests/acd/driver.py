"""A virtual clock and a fake PBX around the ACD engine, for tests.

`Sim` holds `now`, moves it to the engine's deadlines and carries out the engine's commands the way the
PBX adapter would: it only ever feeds the engine events a PBX could send. What the PBX will report
later (the hangup of a leg the engine cancelled, of a caller sent to the goodbye message) is kept in
`pending`, so a test decides when, or whether, it arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callserver.acd.commands import CancelAgentLeg, Command, OriginateAgentLeg, PlayMessageAndHangup
from callserver.acd.engine import AcdEngine
from callserver.acd.model import AgentSpec, AgentState, AgentStatus, QueueSpec
from callserver.facts.model import CallEnded, Fact


@dataclass(frozen=True, slots=True)
class Pending:
    """An event the PBX owes the engine: ("leg_hung_up", leg_id) or ("caller_hung_up", call_id)."""

    kind: str
    ident: str


@dataclass(slots=True)
class PbxLeg:
    """An agent leg as the PBX sees it: ringing, then up once answered, then gone."""

    cmd: OriginateAgentLeg
    at: float
    up: bool = False
    cancel_requested: bool = False


@dataclass
class Sim:
    engine: AcdEngine
    now: float = 0.0
    pbx_up: bool = True
    facts: list[Fact] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    legs: dict[str, PbxLeg] = field(default_factory=dict)  # live on the PBX
    callers: set[str] = field(default_factory=set)  # caller channels still up on the PBX
    pending: list[Pending] = field(default_factory=list)
    given_up: set[str] = field(default_factory=set)  # legs the engine cancelled and forgot
    parallel_legs: bool = False  # ring-all: several legs may ring for one call

    @classmethod
    def build(
        cls,
        queues: list[QueueSpec],
        agents: list[AgentSpec],
        *,
        available: bool = True,
        no_answer_resume: float | None = None,
        seed: int = 0,
    ) -> Sim:
        sim = cls(AcdEngine(queues, agents, no_answer_resume=no_answer_resume, seed=seed))
        if available:
            for spec in agents:
                sim.status(spec.id, AgentStatus.AVAILABLE)
        sim.take_facts()
        return sim

    # -- plumbing ---------------------------------------------------------------------------

    def feed(self, commands: list[Command]) -> list[Command]:
        """Carry out the engine's commands as the PBX adapter would; returns them for asserts."""
        for cmd in commands:
            self.commands.append(cmd)
            if isinstance(cmd, OriginateAgentLeg):
                self._check_agent_free_on_pbx(cmd)
                if not self.pbx_up:
                    # the adapter could not even send it: the engine hears so at once
                    self.feed(self.engine.pbx_error(cmd.leg_id, self.now))
                else:
                    self.legs[cmd.leg_id] = PbxLeg(cmd, self.now)
            elif isinstance(cmd, CancelAgentLeg):
                leg = self.legs.get(cmd.leg_id)
                if leg is not None and not leg.cancel_requested:
                    leg.cancel_requested = True
                    self.pending.append(Pending("leg_hung_up", cmd.leg_id))
                if cmd.leg_id not in self.engine.legs:
                    self.given_up.add(cmd.leg_id)
            elif isinstance(cmd, PlayMessageAndHangup) and cmd.call_id in self.callers:
                self.pending.append(Pending("caller_hung_up", cmd.call_id))
        self.facts += self.engine.pop_facts()
        return commands

    def _check_agent_free_on_pbx(self, cmd: OriginateAgentLeg) -> None:
        for leg_id, leg in self.legs.items():
            if leg.cmd.agent_id == cmd.agent_id and leg_id not in self.given_up:
                raise AssertionError(f"{cmd.agent_id} offered {cmd.leg_id} while {leg_id} is live")
        for leg_id, leg in self.legs.items():
            if self.parallel_legs:
                break
            if leg.cmd.call_id == cmd.call_id and leg_id not in self.given_up:
                raise AssertionError(f"{cmd.call_id} offered on {cmd.leg_id} while {leg_id} is live")

    def take_facts(self) -> list[Fact]:
        self.facts += self.engine.pop_facts()
        facts, self.facts = self.facts, []
        return facts

    def next_leg_id(self) -> str:
        return self.originates()[-1].leg_id

    def originates(self, agent_id: str | None = None) -> list[OriginateAgentLeg]:
        return [
            c
            for c in self.commands
            if isinstance(c, OriginateAgentLeg) and (agent_id is None or c.agent_id == agent_id)
        ]

    def ringing_leg(self, agent_id: str) -> str:
        leg_id = self.engine.agents[agent_id].leg_id
        assert leg_id is not None, f"{agent_id} has no leg"
        return leg_id

    def agent(self, agent_id: str) -> tuple[AgentStatus, AgentState]:
        a = self.engine.agents[agent_id]
        return a.status, a.state

    # -- the clock --------------------------------------------------------------------------

    def advance(self, seconds: float) -> list[Command]:
        return self.advance_to(self.now + seconds)

    def advance_to(self, t: float) -> list[Command]:
        """Move the clock to `t`, firing every deadline on the way at its own time."""
        out: list[Command] = []
        while (d := self.engine.next_deadline()) is not None and d <= t:
            self.now = max(self.now, d)
            out += self.feed(self.engine.on_timer(self.now))
        self.now = max(self.now, t)
        return out

    def run_next_deadline(self) -> list[Command]:
        d = self.engine.next_deadline()
        assert d is not None, "no deadline armed"
        return self.advance_to(d)

    # -- what a PBX reports -----------------------------------------------------------------

    def arrive(
        self, call_id: str, queue: str, *, caller_num: str = "100", caller_name: str = ""
    ) -> list[Command]:
        self.callers.add(call_id)
        return self.feed(
            self.engine.call_arrived(
                call_id,
                channel=f"PJSIP/trunk-{call_id}",
                caller_num=caller_num,
                caller_name=caller_name,
                dnis="5000",
                queue=queue,
                now=self.now,
            )
        )

    def arrive_with(
        self,
        call_id: str,
        queue: str,
        *,
        data: dict[str, object] | None = None,
        caller_num: str = "100",
    ) -> list[Command]:
        """A caller arrives with data (`call.language`, `customer.vip`...) known about the call."""
        self.callers.add(call_id)
        return self.feed(
            self.engine.call_arrived(
                call_id,
                channel=f"PJSIP/trunk-{call_id}",
                caller_num=caller_num,
                caller_name="",
                dnis="5000",
                queue=queue,
                now=self.now,
                data=data,
            )
        )

    def task(self, task_id: str, queue: str, data: dict[str, object] | None = None) -> list[Command]:
        """A voicemail task to route: no caller line."""
        return self.feed(self.engine.task_arrived(task_id, queue=queue, data=data, now=self.now))

    def answer(self, leg_id: str) -> list[Command]:
        leg = self.legs[leg_id]
        assert not leg.up, f"{leg_id} already up"
        leg.up = True
        return self.feed(self.engine.leg_answered(leg_id, self.now))

    def ring_out(self, leg_id: str, *, unreachable: bool = False) -> list[Command]:
        """The leg ended unanswered (OriginateResponse Failure); the channel is gone."""
        leg = self.legs.pop(leg_id)
        assert not leg.up, f"{leg_id} is up: a PBX reports its hangup, not a failure"
        self._drop_pending("leg_hung_up", leg_id)
        return self.feed(self.engine.leg_failed(leg_id, self.now, unreachable=unreachable))

    def hang_up_leg(self, leg_id: str) -> list[Command]:
        self.legs.pop(leg_id)
        self._drop_pending("leg_hung_up", leg_id)
        return self.feed(self.engine.leg_hung_up(leg_id, self.now))

    def caller_hangs_up(self, call_id: str) -> list[Command]:
        self.callers.discard(call_id)
        self._drop_pending("caller_hung_up", call_id)
        return self.feed(self.engine.caller_hung_up(call_id, self.now))

    def deliver(self, p: Pending) -> list[Command]:
        """Deliver an event the PBX owed the engine."""
        if p.kind == "leg_hung_up":
            return self.hang_up_leg(p.ident) if p.ident in self.legs else []
        return self.caller_hangs_up(p.ident) if p.ident in self.callers else []

    def deliver_all(self) -> None:
        while self.pending:
            self.deliver(self.pending[0])

    def _drop_pending(self, kind: str, ident: str) -> None:
        self.pending = [p for p in self.pending if (p.kind, p.ident) != (kind, ident)]

    def link(self, up: bool) -> list[Command]:
        self.pbx_up = up
        return self.feed(self.engine.set_pbx_ready(up, self.now))

    def status(self, agent_id: str, status: AgentStatus, reason: str = "") -> list[Command]:
        return self.feed(self.engine.set_status(agent_id, status, self.now, reason))

    # -- reading the outcome ----------------------------------------------------------------

    def ended(self, facts: list[Fact]) -> dict[str, CallEnded]:
        return {f.call_id: f for f in facts if isinstance(f, CallEnded)}


def agent(ident: str, *skills: str) -> AgentSpec:
    return AgentSpec(id=ident, name=ident.title(), endpoint=f"PJSIP/{ident}", skills=dict.fromkeys(skills, 1))
