"""Indexes that make routing decisions cheap at thousands of agents and waiting calls.

Waiting calls sit in buckets: one per (queue, bound requirement, reserved agent). A bucket is a heap
ordered by a key that does not change while calls wait (see `order_key`), and knows the set of
agents whose skills satisfy its requirement (computed once per distinct requirement and shared).
Free agents are kept in the order they became free, which is the longest-idle order.

- a call becomes waiting: scan free agents in idle order, stop at the first match (strategy aside);
- an agent becomes free: look at the head of each bucket the agent is eligible for, take the best.
Cost: O(position of the first eligible free agent) and O(number of buckets); never O(calls).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from .expr import BoundRequirement
from .model import Agent, Call, CallState, Strategy

# priority points gained per second of waiting: 1 point a minute, so nothing starves
DEFAULT_AGEING = 1.0 / 60.0


def effective_priority(call: Call, now: float, ageing: float) -> float:
    return call.priority + ageing * (now - call.arrived_at)


def order_key(call: Call, ageing: float) -> float:
    """Smaller is served first. priority + ageing*(now - arrived) ranks calls the same at any `now`
    as -(priority - ageing*arrived) does, so the heap needs no re-sorting as time passes."""
    return ageing * call.arrived_at - call.priority


@dataclass(slots=True)
class Bucket:
    key: tuple[str, str, str]
    queue: str
    bound: BoundRequirement
    eligible: frozenset[str]
    heap: list[tuple[float, float, int, str]] = field(default_factory=list)
    size: int = 0


class Router:
    def __init__(self, agents: dict[str, Agent], *, ageing: float = DEFAULT_AGEING, seed: int = 0) -> None:
        self.agents = agents
        self.ageing = ageing
        self.free: dict[str, None] = {}  # insertion order == longest idle first
        self.buckets: dict[tuple[str, str, str], Bucket] = {}
        self._bucket_of: dict[str, Bucket] = {}
        self._eligible_cache: dict[str, frozenset[str]] = {}
        self._seq = 0
        self._rr_last: dict[str, str] = {}
        self._rng = random.Random(seed)

    # -- agents ---------------------------------------------------------------------------

    def agent_free(self, agent: Agent) -> None:
        self.free.pop(agent.id, None)
        self.free[agent.id] = None

    def agent_busy(self, agent: Agent) -> None:
        self.free.pop(agent.id, None)

    def eligible(self, bound: BoundRequirement) -> frozenset[str]:
        cached = self._eligible_cache.get(bound.key)
        if cached is None:
            test = bound.test
            cached = frozenset(a.id for a in self.agents.values() if test(a.spec.skills))
            self._eligible_cache[bound.key] = cached
        return cached

    def forget_skills(self) -> None:
        """Agents' skills changed: recompute eligibility lazily."""
        self._eligible_cache.clear()
        for bucket in self.buckets.values():
            bucket.eligible = self.eligible(bucket.bound) if not bucket.key[2] else bucket.eligible

    # -- calls ----------------------------------------------------------------------------

    def add_call(self, call: Call) -> None:
        assert call.bound is not None
        target = call.target_agent or ""
        key = (call.queue, call.bound.key, target)
        bucket = self.buckets.get(key)
        if bucket is None:
            eligible = frozenset({target}) if target else self.eligible(call.bound)
            bucket = Bucket(key, call.queue, call.bound, eligible)
            self.buckets[key] = bucket
        self._seq += 1
        heapq.heappush(bucket.heap, (order_key(call, self.ageing), call.arrived_at, self._seq, call.id))
        bucket.size += 1
        self._bucket_of[call.id] = bucket

    def remove_call(self, call: Call) -> None:
        bucket = self._bucket_of.pop(call.id, None)
        if bucket is not None:
            bucket.size -= 1
            if bucket.size == 0:
                del self.buckets[bucket.key]

    def waiting_in(self, call: Call) -> bool:
        return call.id in self._bucket_of

    def position(self, call: Call, calls: dict[str, Call]) -> int:
        """1-based rank among the calls waiting for the same agents (its bucket)."""
        bucket = self._bucket_of.get(call.id)
        if bucket is None:
            return 0
        mine = order_key(call, self.ageing)
        return 1 + sum(
            1 for cid in self._live_ids(bucket, calls) if order_key(calls[cid], self.ageing) < mine
        )

    def _live_ids(self, bucket: Bucket, calls: dict[str, Call]) -> Iterator[str]:
        for _, _, _, cid in bucket.heap:
            if self._bucket_of.get(cid) is bucket:
                yield cid

    def _head(self, bucket: Bucket, calls: dict[str, Call]) -> Call | None:
        heap = bucket.heap
        while heap:
            cid = heap[0][3]
            call = calls.get(cid)
            if call is not None and call.state is CallState.WAITING and self._bucket_of.get(cid) is bucket:
                return call
            heapq.heappop(heap)
        return None

    # -- decisions ------------------------------------------------------------------------

    def best_call(self, agent: Agent, calls: dict[str, Call], now: float) -> Call | None:
        """The call this newly free agent should take: highest effective priority, then longest wait."""
        best: Call | None = None
        best_rank: tuple[float, float] = (0.0, 0.0)
        for bucket in list(self.buckets.values()):
            if agent.id not in bucket.eligible:
                continue
            head = self._head(bucket, calls)
            if head is None:
                continue
            rank = (-effective_priority(head, now, self.ageing), head.arrived_at)
            if best is None or rank < best_rank:
                best, best_rank = head, rank
        return best

    def best_agents(self, call: Call, strategy: Strategy, now: float) -> list[Agent]:
        """The free agent(s) to offer `call` to; several only for ring-all."""
        bucket = self._bucket_of.get(call.id)
        if bucket is None or not self.free:
            return []
        eligible = bucket.eligible
        if strategy is Strategy.LONGEST_IDLE:
            fallback: Agent | None = None
            for aid in self.free:
                if aid in eligible:
                    if aid not in call.declined:
                        return [self.agents[aid]]
                    fallback = fallback or self.agents[aid]
            return [fallback] if fallback is not None else []
        candidates = [self.agents[a] for a in self.free if a in eligible]
        fresh = [a for a in candidates if a.id not in call.declined]
        candidates = fresh or candidates
        if not candidates:
            return []
        if strategy is Strategy.RING_ALL:
            return candidates
        if strategy is Strategy.RANDOM:
            return [self._rng.choice(candidates)]
        if strategy is Strategy.ROUND_ROBIN:
            last = self._rr_last.get(call.queue, "")
            ordered = sorted(candidates, key=lambda a: a.id)
            pick = next((a for a in ordered if a.id > last), ordered[0])
            self._rr_last[call.queue] = pick.id
            return [pick]
        # candidates are in longest-idle order, so min()/max() keep that order for ties
        if strategy is Strategy.FEWEST_CALLS:
            return [min(candidates, key=lambda a: a.calls_today)]
        if strategy is Strategy.LEAST_OCCUPIED:
            return [min(candidates, key=lambda a: a.occupancy(now))]
        assert call.bound is not None
        best_level = call.bound.best_level
        return [max(candidates, key=lambda a: best_level(a.spec.skills))]
