"""What every part of the ACD engine shares: queues, agents, calls, legs, the router's indexes, the
facts not yet collected, the timers, and the calls and agents that changed since the last dispatch.

Plain data with a few helpers; the parts that change it (agents.py, legs.py, queueing.py,
arrivals.py, dispatch.py, offers.py, handling.py, adoption.py) are composed by `engine.AcdEngine`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from ..facts.model import Fact
from .model import Agent, AgentSpec, Call, Leg, QueueSpec
from .router import DEFAULT_AGEING, Router
from .timers import Timers

# ids of recently ended calls, so a replayed arrival (late AGI, resync race) cannot revive one
ENDED_MEMORY = 10_000


class UnknownQueue(KeyError):
    pass


class AcdState:
    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        no_answer_resume: float | None,
        ageing: float = DEFAULT_AGEING,
        seed: int = 0,
        accept_timeout: float,
        transfer_timeout: float | None = None,
        transfer_return: str = "queue",
        transfer_self_delay: float = 10.0,
    ) -> None:
        self.queues: dict[str, QueueSpec] = {q.name: q for q in queues}
        self.agents: dict[str, Agent] = {}
        # the queues an agent serves (for views): any routing step it meets with no call data known
        tests = [
            (q.name, [step.requirement.bind({}).test for step in q.routing_steps()])
            for q in self.queues.values()
        ]
        for spec in agents:
            served = frozenset(name for name, step_tests in tests if any(t(spec.skills) for t in step_tests))
            self.agents[spec.id] = Agent(spec=spec, queues=served)
        self.calls: dict[str, Call] = {}
        self.legs: dict[str, Leg] = {}
        self.legs_of: dict[str, set[str]] = {}  # agent id -> its legs still up (cancelled ones too)
        self.router = Router(self.agents, ageing=ageing, seed=seed)
        self.no_answer_resume = no_answer_resume
        self.accept_timeout = accept_timeout
        # a transfer to an agent not taken within `transfer_timeout` (None: no limit) goes back to
        # its queue, or to the transferring agent (`transfer_return` "agent"); a call transferred
        # to a queue reaches the transferring agent only if nobody else can take it,
        # `transfer_self_delay` after the queue's last routing step
        self.transfer_timeout = transfer_timeout
        self.transfer_return = transfer_return
        self.transfer_self_delay = transfer_self_delay
        self.pbx_ready = True
        self.aht: dict[str, float] = {}  # queue -> smoothed live handle time (wait estimates)
        self.timers = Timers()
        # what changed since the last dispatch: these are the only ones it looks at
        self.dirty_calls: list[str] = []
        self.dirty_agents: list[str] = []
        self._facts: list[Fact] = []
        self._ended: OrderedDict[str, None] = OrderedDict()

    def emit(self, fact: Fact) -> None:
        self._facts.append(fact)

    def pop_facts(self) -> list[Fact]:
        facts, self._facts = self._facts, []
        return facts

    def queue(self, name: str) -> QueueSpec:
        try:
            return self.queues[name]
        except KeyError:
            raise UnknownQueue(name) from None

    def known(self, call_id: str) -> bool:
        """Live, or ended recently: an arrival with this id is a replay."""
        return call_id in self.calls or call_id in self._ended

    def forget(self, call: Call) -> None:
        """The call ended: no longer live, remembered for a while as ended."""
        del self.calls[call.id]
        self._ended[call.id] = None
        if len(self._ended) > ENDED_MEMORY:
            self._ended.popitem(last=False)

    def waiting_in(self, queue: str) -> int:
        return sum(b.size for b in self.router.buckets.values() if b.queue == queue)

    def has_legs(self, agent_id: str) -> bool:
        return bool(self.legs_of.get(agent_id))
