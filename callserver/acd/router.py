"""Indexes that make routing decisions cheap at thousands of agents and waiting calls.

Waiting calls sit in buckets: one per (queue, bound requirement, reserved agent). A bucket is a heap
ordered by a key that does not change while calls wait (see `order_key`), and knows the set of
agents whose skills satisfy its requirement (computed once per distinct requirement and shared).
Free agents are kept in the order they became free, which is the longest-idle order.

- a call becomes waiting: scan free agents in idle order, stop at the first match (strategy aside);
- an agent becomes free: look at the head of each bucket the agent is eligible for (an index by
  agent), take the best.
Cost: O(position of the first eligible free agent) and O(buckets the agent is eligible for);
never O(calls).

A call that leaves a bucket (offered, gone, moved to its next routing step) leaves its heap entry
behind; entries at the head are dropped at once and a heap with more dead entries than live ones is
rebuilt, so the head of every heap is a waiting call and a release never wades through dead
entries. An empty bucket is kept (the next call like it reuses it and the agent index) until empty
ones are as many as the others, then they are all dropped.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .expr import BoundRequirement, SkillCmp
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
    # (order key, arrival, entry number, call id); an entry is live while the call's entry number
    # in the router is this one
    heap: list[tuple[float, float, int, str]] = field(default_factory=list)
    size: int = 0


class Router:
    def __init__(self, agents: dict[str, Agent], *, ageing: float = DEFAULT_AGEING, seed: int = 0) -> None:
        self.agents = agents
        self.ageing = ageing
        self.free: dict[str, None] = {}  # insertion order == longest idle first
        self._free_order: dict[str, int] = {}
        self._free_seq = 0
        self.buckets: dict[tuple[str, str, str], Bucket] = {}
        self._bucket_of: dict[str, Bucket] = {}
        self._entry_of: dict[str, int] = {}  # call id -> its live heap entry's number
        self._by_agent: dict[str, dict[tuple[str, str, str], Bucket]] = {}
        self._empty = 0
        self._eligible_cache: dict[str, frozenset[str]] = {}
        self._skill_index: dict[str, frozenset[str]] | None = None
        self._seq = 0
        self._rr_last: dict[str, str] = {}
        self._rng = random.Random(seed)

    # -- agents ---------------------------------------------------------------------------

    def agent_free(self, agent: Agent) -> None:
        self.free.pop(agent.id, None)
        self.free[agent.id] = None
        self._free_seq += 1
        self._free_order[agent.id] = self._free_seq

    def _free_rank(self, agent_id: str) -> int:
        """Position in longest-idle order (smaller: free for longer)."""
        return self._free_order.get(agent_id, 0)

    def agent_busy(self, agent: Agent) -> None:
        self.free.pop(agent.id, None)

    def eligible(self, bound: BoundRequirement) -> frozenset[str]:
        """Agents whose skills meet `bound`, computed once per distinct requirement.

        A top-level term like `billing >= 3` narrows the agents to test to those holding `billing`
        (a skill index), so a new requirement costs tens of tests, not one per agent.
        """
        cached = self._eligible_cache.get(bound.key)
        if cached is None:
            test = bound.test
            candidates: Iterable[str] = self.agents
            for term in bound.conjuncts():
                if isinstance(term, SkillCmp) and term.op in (">=", "==") and term.level >= 1:
                    holders = self._by_skill().get(term.skill, frozenset())
                    if isinstance(candidates, dict) or len(holders) < len(candidates):  # type: ignore[arg-type]
                        candidates = holders
            agents = self.agents
            cached = frozenset(a for a in candidates if test(agents[a].spec.skills))
            self._eligible_cache[bound.key] = cached
        return cached

    def _by_skill(self) -> dict[str, frozenset[str]]:
        if self._skill_index is None:
            index: dict[str, set[str]] = {}
            for agent in self.agents.values():
                for skill, level in agent.spec.skills.items():
                    if level >= 1:
                        index.setdefault(skill, set()).add(agent.id)
            self._skill_index = {k: frozenset(v) for k, v in index.items()}
        return self._skill_index

    def forget_skills(self) -> None:
        """Agents' skills changed: recompute eligibility lazily."""
        self._eligible_cache.clear()
        self._skill_index = None
        self._by_agent.clear()
        for bucket in self.buckets.values():
            bucket.eligible = self._bucket_eligible(bucket.bound, bucket.key[2])
            self._index(bucket)

    def _index(self, bucket: Bucket) -> None:
        for agent_id in bucket.eligible:
            self._by_agent.setdefault(agent_id, {})[bucket.key] = bucket

    def _drop_empty_buckets(self) -> None:
        for bucket in [b for b in self.buckets.values() if b.size == 0]:
            del self.buckets[bucket.key]
            for agent_id in bucket.eligible:
                mine = self._by_agent.get(agent_id)
                if mine is not None:
                    mine.pop(bucket.key, None)
        self._empty = 0

    def _bucket_eligible(self, bound: BoundRequirement, reserved: str) -> frozenset[str]:
        if not reserved:
            return self.eligible(bound)
        if reserved.startswith("-"):
            return self.eligible(bound) - {reserved[1:]}
        return frozenset({reserved})

    # -- calls ----------------------------------------------------------------------------

    def add_call(self, call: Call) -> None:
        assert call.bound is not None
        if call.id in self._bucket_of:  # already waiting somewhere: one entry per call
            self.remove_call(call)
        # the third part of the key reserves the call: "agent" for that agent only, "-agent" for
        # everyone eligible but that agent (the one who transferred it away)
        if call.target_agent:
            reserved = call.target_agent
        elif call.excluded:
            reserved = f"-{call.excluded}"
        else:
            reserved = ""
        key = (call.queue, call.bound.key, reserved)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = Bucket(key, call.queue, call.bound, self._bucket_eligible(call.bound, reserved))
            self.buckets[key] = bucket
            self._index(bucket)
        elif bucket.size == 0:
            self._empty -= 1
        self._seq += 1
        heapq.heappush(bucket.heap, (order_key(call, self.ageing), call.arrived_at, self._seq, call.id))
        bucket.size += 1
        self._bucket_of[call.id] = bucket
        self._entry_of[call.id] = self._seq

    def remove_call(self, call: Call) -> None:
        bucket = self._bucket_of.pop(call.id, None)
        self._entry_of.pop(call.id, None)
        if bucket is None:
            return
        bucket.size -= 1
        if bucket.size == 0:
            bucket.heap.clear()
            self._empty += 1
            if self._empty > max(64, len(self.buckets) // 2):
                self._drop_empty_buckets()
            return
        heap = bucket.heap
        live = self._entry_of
        while heap and live.get(heap[0][3]) != heap[0][2]:
            heapq.heappop(heap)
        if len(heap) > 2 * bucket.size + 8:
            bucket.heap = [e for e in heap if live.get(e[3]) == e[2]]
            heapq.heapify(bucket.heap)

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
        live = self._entry_of
        for _, _, seq, cid in bucket.heap:
            if live.get(cid) == seq:
                yield cid

    def _head(self, bucket: Bucket, calls: dict[str, Call]) -> Call | None:
        heap = bucket.heap
        while heap:
            _, _, seq, cid = heap[0]
            call = calls.get(cid)
            if call is not None and call.state is CallState.WAITING and self._entry_of.get(cid) == seq:
                return call
            heapq.heappop(heap)
        return None

    # -- decisions ------------------------------------------------------------------------

    def best_call(self, agent: Agent, calls: dict[str, Call], now: float) -> Call | None:
        """The call this newly free agent should take: highest effective priority, then longest wait."""
        best: Call | None = None
        best_rank: tuple[float, float] = (0.0, 0.0)
        # _head only drops dead heap entries, never buckets, so iterating the index itself is safe
        for bucket in self._by_agent.get(agent.id, {}).values():
            if not bucket.size:
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
        if strategy is Strategy.LONGEST_IDLE and len(eligible) * 4 < len(self.free):
            # few agents can take it: look at them rather than walk the whole free list
            free_eligible = [a for a in eligible if a in self.free]
            if not free_eligible:
                return []
            fresh_ids = [a for a in free_eligible if a not in call.declined] or free_eligible
            return [self.agents[min(fresh_ids, key=self._free_rank)]]
        if strategy is Strategy.LONGEST_IDLE:
            fallback: Agent | None = None
            for aid in self.free:
                if aid in eligible:
                    if aid not in call.declined:
                        return [self.agents[aid]]
                    fallback = fallback or self.agents[aid]
            return [fallback] if fallback is not None else []
        candidates = (
            [self.agents[a] for a in self.free if a in eligible]
            if len(eligible) > 64
            else [self.agents[a] for a in sorted(eligible, key=self._free_rank) if a in self.free]
        )
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
