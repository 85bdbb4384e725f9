"""Calls in queues: entering one (again), widening their requirement step by step, hearing their
position, and leaving: answered and done, abandoned, overflowed, or timed out.

A waiting call is indexed by the router and marked for the next dispatch; its timers (maximum
wait, next routing step, next announcement) are armed when it (re-)enters waiting.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from ..facts.model import CallEnded, CallEndedWithReason, CallRequeued, Outcome
from .agents import AgentDesk
from .commands import Announce, Command, PlayMessageAndHangup, SendCallerTo
from .expr import BoundRequirement
from .model import AgentStatus, Call, CallKind, CallState, Destination, Ending
from .queue_options import TIMEOUT_MESSAGE
from .state import AcdState
from .timers import TimerHandler, TimerKind

log = logging.getLogger("callserver.acd")

DEFAULT_TIMEOUT_MESSAGE = TIMEOUT_MESSAGE
DEFAULT_AHT = 180.0  # seconds, until the queue has handled calls of its own
AHT_WEIGHT = 0.1  # exponential smoothing of the live handle time used for wait estimates


class Queueing:
    def __init__(self, acd: AcdState, desk: AgentDesk) -> None:
        self.acd = acd
        self.desk = desk
        # binding a requirement to call data compiles it: calls with the same relevant data share one
        self._bound_cache: dict[tuple[str, tuple[tuple[str, str], ...]], BoundRequirement] = {}

    # -- entering and waiting -------------------------------------------------------------------

    def enter(self, call: Call, queue: str, now: float, since: float | None = None) -> None:
        spec = self.acd.queues[queue]
        timers = self.acd.timers
        call.queue = queue
        call.queued_at = now if since is None else since
        call.step = 0
        if queue not in call.visited:
            call.visited.append(queue)
        if call.kind is CallKind.CALL:
            call.deadline = call.queued_at + spec.max_wait
            timers.arm(call.deadline, TimerKind.MAX_WAIT, call.id)
            if spec.announce_every:
                call.next_announce = now + spec.announce_every
                timers.arm(call.next_announce, TimerKind.ANNOUNCE, call.id)
        else:
            call.deadline = math.inf
        self._bind(call)
        self.mark_waiting(call)

    def mark_waiting(self, call: Call) -> None:
        """(Back) to waiting: indexed for the router and considered at the next dispatch."""
        self.acd.router.add_call(call)
        self.acd.dirty_calls.append(call.id)

    def back_to_waiting(self, call: Call, now: float) -> list[Command]:
        """An offer fell through: the call waits again, keeping its place and its timers."""
        call.move(CallState.WAITING)
        call.agent_id = None
        call.leg_id = None
        call.ring_legs.clear()
        timers = self.acd.timers
        if call.kind is CallKind.CALL:
            timers.arm(call.deadline, TimerKind.MAX_WAIT, call.id)
            if call.next_announce is not None:
                timers.arm(call.next_announce, TimerKind.ANNOUNCE, call.id)
        due = self._step_due(call)
        if due is not None:
            timers.arm(due, TimerKind.ROUTING_STEP, call.id)
        # a transfer's timers keep running while an offer is out: due now, they fire at the next run
        if call.transfer_deadline is not None:
            timers.arm(call.transfer_deadline, TimerKind.TRANSFER_TIMEOUT, call.id)
        if call.exclusion_check is not None:
            timers.arm(call.exclusion_check, TimerKind.TRANSFER_EXCLUSION, call.id)
        if call.deadline <= now:
            return self._wait_expired(call, now)
        self.mark_waiting(call)
        return []

    def _bind(self, call: Call) -> None:
        steps = self.acd.queues[call.queue].routing_steps()
        # a step already due (an adopted call that waited long) fires at the next timer run
        requirement = call.requirement or steps[call.step].requirement
        key = (
            requirement.text,
            tuple(sorted((ref, repr(call.data.get(ref))) for ref in requirement.data_refs)),
        )
        bound = self._bound_cache.get(key)
        if bound is None:
            bound = self._bound_cache[key] = requirement.bind(call.data)
        call.bound = bound
        due = self._step_due(call)
        if due is not None:
            self.acd.timers.arm(due, TimerKind.ROUTING_STEP, call.id)

    def _step_due(self, call: Call) -> float | None:
        steps = self.acd.queues[call.queue].routing_steps()
        if call.requirement is not None or call.step + 1 >= len(steps):
            return None
        return call.queued_at + steps[call.step + 1].after

    def _relax(self, call: Call) -> None:
        """The next routing step of the queue: the call's requirement widens."""
        router = self.acd.router
        router.remove_call(call)
        call.step += 1
        self._bind(call)
        log.info(
            "call %s: routing step %d in %s (%s)",
            call.id,
            call.step,
            call.queue,
            call.bound and call.bound.key,
        )
        router.add_call(call)
        self.acd.dirty_calls.append(call.id)

    def estimate(self, call: Call) -> tuple[int, int]:
        """(position, estimated seconds to wait) for a waiting call."""
        acd = self.acd
        position = acd.router.position(call, acd.calls)
        bucket_agents = acd.router.buckets.get((call.queue, call.bound.key if call.bound else "", ""))
        eligible = bucket_agents.eligible if bucket_agents is not None else frozenset()
        staffed = sum(1 for a in eligible if acd.agents[a].status is AgentStatus.AVAILABLE)
        aht = acd.aht.get(call.queue, DEFAULT_AHT)
        return position, round(position * aht / max(1, staffed))

    # -- leaving --------------------------------------------------------------------------------

    def end_connected(
        self, call: Call, now: float, ending: Ending | None = None, *, ended_by: str = ""
    ) -> None:
        """A connected call is over: handle time counted, the agent to wrap-up or idle.

        With `ending` the call ended unseen (at `ending.at`): it stays answered, with the reason.
        `ended_by`: whose line went first, `caller` or `agent`."""
        acd = self.acd
        agent = acd.agents[call.agent_id] if call.agent_id else None
        ended = now if ending is None else min(now, ending.at)
        if call.on_hold and call.hold_started is not None:
            call.hold_total += max(0.0, ended - call.hold_started)
            call.on_hold, call.hold_started = False, None
        if call.answered_at is not None:
            handle = max(0.0, ended - call.answered_at) + acd.queues[call.queue].wrapup
            previous = acd.aht.get(call.queue, DEFAULT_AHT)
            acd.aht[call.queue] = previous + AHT_WEIGHT * (handle - previous)
        self.end(call, Outcome.ANSWERED, now, ending, ended_by=ended_by)
        if agent is None or agent.call_id != call.id:
            return
        agent.leg_id = None
        self.desk.after_call(agent, call, now)

    def end(
        self, call: Call, outcome: Outcome, now: float, ending: Ending | None = None, *, ended_by: str = ""
    ) -> None:
        """The call is over: recorded at `now`, or at `ending.at` with its reason when it ended unseen.
        `ended_by`: `caller` or `agent` when that side's line went first."""
        call.move(CallState.ENDED)
        self.acd.router.remove_call(call)
        if ending is None:
            end = call.answered_at if call.answered_at is not None else now
            wait = end - call.arrived_at
            self.acd.emit(
                CallEnded(call.id, now, call.queue, outcome, call.agent_id, wait, ended_by=ended_by)
            )
        else:
            at = min(now, max(ending.at, call.arrived_at))
            end = call.answered_at if call.answered_at is not None else at
            wait = end - call.arrived_at
            self.acd.emit(
                CallEndedWithReason(
                    call.id, at, call.queue, outcome, call.agent_id, wait, ending.reason, ending.estimated
                )
            )
        self.acd.forget(call)

    def send_to(self, call: Call, dest: Destination, now: float) -> list[Command]:
        """The caller leaves this queue: another queue, voicemail, a number, or a message then hang-up."""
        if dest.kind == "queue" and dest.target in self.acd.queues and dest.target not in call.visited:
            self.acd.emit(CallRequeued(call.id, now, call.queue, dest.target))
            call.target_agent = None  # overflowing is for other agents: no longer kept for one
            call.transferred_by = call.transfer_deadline = None
            self.enter(call, dest.target, now)
            return []
        if dest.kind in ("voicemail", "number"):
            self.end(call, Outcome.OVERFLOWED, now)
            return [SendCallerTo(call.id, call.channel, dest.kind, dest.target)]
        message = dest.target if dest.kind == "message" else DEFAULT_TIMEOUT_MESSAGE
        self.end(call, Outcome.TIMED_OUT, now)
        return [PlayMessageAndHangup(call.id, call.channel, message)]

    def _wait_expired(self, call: Call, now: float) -> list[Command]:
        self.acd.router.remove_call(call)
        return self.send_to(call, self.acd.queues[call.queue].timeout_destination(), now)

    def _announce(self, call: Call, now: float) -> list[Command]:
        """Position and estimated wait, from the live handle time of the agents who can take it."""
        spec = self.acd.queues[call.queue]
        if spec.announce_every is None:
            return []
        call.next_announce = now + spec.announce_every
        self.acd.timers.arm(call.next_announce, TimerKind.ANNOUNCE, call.id)
        return [Announce(call.id, call.channel, *self.estimate(call))]

    # -- timers ---------------------------------------------------------------------------------

    def max_wait_timer(self) -> TimerHandler:
        return TimerHandler(
            lambda call_id, at: self._waiting(call_id, lambda call: call.deadline == at),
            lambda call_id, now: self._wait_expired(self.acd.calls[call_id], now),
        )

    def routing_step_timer(self) -> TimerHandler:
        return TimerHandler(
            lambda call_id, at: self._waiting(call_id, lambda call: self._step_due(call) == at),
            self._relax_timer,
        )

    def announce_timer(self) -> TimerHandler:
        return TimerHandler(
            lambda call_id, at: self._waiting(call_id, lambda call: call.next_announce == at),
            lambda call_id, now: self._announce(self.acd.calls[call_id], now),
        )

    def _waiting(self, call_id: str, still_due: Callable[[Call], bool]) -> bool:
        call = self.acd.calls.get(call_id)
        return call is not None and call.state is CallState.WAITING and still_due(call)

    def _relax_timer(self, call_id: str, now: float) -> list[Command]:
        self._relax(self.acd.calls[call_id])
        return []
