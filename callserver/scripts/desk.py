"""The agents' script desk: a run of the call's script starts when an agent answers, follows the agent's
moves from the panel, and ends with the call's wrap-up.

The desk follows the facts (which call came from where, who answered, when the agent is free
again) and the IVR's exits, picks the script the catalog attaches to the call, and drives one
`ScriptRun` per agent on a call. Every move's changes are published as facts and its commands
carried out by the adapter. Voicemail and callback tasks get no run: the answers they carry are
on the agent's card already.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callserver.facts.model import (
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallQueued,
    CallRequeued,
    Fact,
)
from callserver.scripts import present, tracking
from callserver.scripts.adapter import Notice, Place, ScriptAdapter
from callserver.scripts.answers import AnswerError
from callserver.scripts.catalog import CallFacts, ScriptCatalog
from callserver.scripts.commands import Command
from callserver.scripts.customers import ScriptCustomers
from callserver.scripts.engine import NavigationError, RunContext, ScriptRun
from callserver.scripts.model import Script
from callserver.scripts.record import RunStateError, RunStatus

log = logging.getLogger(__name__)

TASK_KIND = "voicemail"  # the ACD's kind for work without a caller line (voicemails, callbacks)
KEEP_ENDED = 500  # ended runs kept for panels that ask again (wrap-up, a reload)
KEEP_CALLS = 5000


class MoveRefused(Exception):
    """A move the run cannot make; the message is for the person, `status` the HTTP one."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class CallInfo:
    queue: str
    dnis: str
    caller_num: str
    caller_name: str
    task: bool
    data: dict[str, object]
    ivr_exit: str = ""


@dataclass(slots=True)
class AgentRun:
    run: ScriptRun
    place: Place
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True, slots=True)
class MoveResult:
    view: dict[str, Any]
    notices: list[Notice]


class ScriptDesk:
    def __init__(
        self,
        catalog: ScriptCatalog,
        customers: ScriptCustomers,
        adapter: ScriptAdapter,
        *,
        publish: Callable[[Fact], None],
        clock: Callable[[], float],
        timezone: str,
    ) -> None:
        self.catalog = catalog
        self.customers = customers
        self.adapter = adapter
        self.publish = publish
        self.clock = clock
        self.timezone = timezone
        self._calls: OrderedDict[str, CallInfo] = OrderedDict()
        self._ivr_exits: OrderedDict[str, str] = OrderedDict()
        self._runs: OrderedDict[str, AgentRun] = OrderedDict()
        self._by_agent: dict[str, str] = {}  # agent -> their latest run
        self._tasks: set[asyncio.Task[None]] = set()

    # -- following the centre ---------------------------------------------------------------

    def ivr_left(self, call_id: str, flow: str, node: str, outcome: str | None) -> None:
        """The IVR let a caller go (`IvrProgress` ended): to a queue from `node`, the script's key."""
        if outcome == "queue" and flow and node:
            self._ivr_exits[call_id] = f"{flow}.{node}"
            _trim(self._ivr_exits, KEEP_CALLS)

    def on_fact(self, fact: Fact) -> None:
        """Bus subscriber: remember where calls come from; start a run on answer; end it after."""
        if isinstance(fact, CallQueued):
            self._calls[fact.call_id] = CallInfo(
                fact.queue,
                fact.dnis,
                fact.caller_num,
                fact.caller_name,
                fact.kind == TASK_KIND,
                dict(fact.data or {}),
                self._ivr_exits.pop(fact.call_id, ""),
            )
            _trim(self._calls, KEEP_CALLS)
        elif isinstance(fact, CallRequeued):
            info = self._calls.get(fact.call_id)
            if info is not None:
                info.queue = fact.to_queue
        elif isinstance(fact, CallAnswered):
            self._answered(fact)
        elif isinstance(fact, CallEnded):
            self._calls.pop(fact.call_id, None)
        elif isinstance(fact, AgentStateChanged) and fact.new == "idle":
            current = self._current_active(fact.agent_id)
            if current is not None:
                self._spawn(self._abandon(current, "the agent's wrap-up ended"))

    def _answered(self, fact: CallAnswered) -> None:
        info = self._calls.get(fact.call_id)
        if info is None or info.task:
            return
        previous = self._current_active(fact.agent_id)
        if previous is not None and previous.place.call_id == fact.call_id:
            return  # the same answer seen twice
        script = self.catalog.for_call(
            CallFacts(
                queue=fact.queue or info.queue,
                dnis=info.dnis,
                ivr_exit=info.ivr_exit,
                campaign=str(info.data.get("call.campaign") or ""),
            )
        )
        if previous is not None:
            self._spawn(self._abandon(previous, "the agent took another call"))
        if script is not None:
            self._spawn(self._start(script, fact.call_id, fact.agent_id, info))

    async def _start(self, script: Script, call_id: str, agent_id: str, info: CallInfo) -> None:
        raw_id = info.data.get("customer_id")
        customer_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        customer = await self.customers.for_call(customer_id, info.caller_num)
        call: dict[str, object] = {
            "caller": info.caller_num,
            "caller_name": info.caller_name,
            "dnis": info.dnis,
            "queue": info.queue,
            "ivr_exit": info.ivr_exit,
        }
        call |= {key[5:]: value for key, value in info.data.items() if key.startswith("call.")}
        run_id = f"run-{uuid.uuid4().hex[:16]}"
        context = RunContext(run_id, agent=agent_id, customer=customer, call=call, timezone=self.timezone)
        run = ScriptRun(script, context, self._now())
        found_id = customer.get("id") if customer is not None else None
        place = Place(
            call_id=call_id,
            agent_id=agent_id,
            customer_id=found_id if isinstance(found_id, int) else None,
            queue=info.queue,
            number=info.caller_num or str((customer or {}).get("phone") or ""),
            customer_name=str((customer or {}).get("name") or ""),
        )
        self._runs[run_id] = AgentRun(run, place)
        self._by_agent[agent_id] = run_id
        self._trim_runs()
        log.info("call %s: agent %s follows script %s v%d", call_id, agent_id, script.id, script.version)
        for item in tracking.started(run, call_id, self.clock(), place.customer_id):
            self.publish(item)

    async def _abandon(self, entry: AgentRun, reason: str) -> None:
        async with entry.lock:
            if entry.run.status is not RunStatus.ACTIVE:
                return
            commands = entry.run.abandon(now=self._now(), reason=reason)
            await self.adapter.carry_out(entry.run, commands, entry.place)

    # -- what panels ask ----------------------------------------------------------------------

    def run(self, run_id: str) -> AgentRun | None:
        return self._runs.get(run_id)

    def current(self, agent_id: str) -> AgentRun | None:
        """The agent's latest run (ended ones too, until their next call's)."""
        run_id = self._by_agent.get(agent_id)
        return None if run_id is None else self._runs.get(run_id)

    def view(self, entry: AgentRun) -> dict[str, Any]:
        return present.agent_view(entry.run, self._now(), entry.place.call_id)

    def active(self) -> list[dict[str, Any]]:
        """Which step each agent is on, for a supervisor's monitor that (re)connects."""
        out = []
        for agent_id, run_id in sorted(self._by_agent.items()):
            entry = self._runs.get(run_id)
            if entry is None or entry.run.status is not RunStatus.ACTIVE:
                continue
            run = entry.run
            out.append(
                {
                    "agent_id": agent_id,
                    "call_id": entry.place.call_id,
                    "run_id": run.run_id,
                    "script_id": run.script.id,
                    "step": run.step,
                    "title": run.script.steps[run.step].title or run.step,
                    "position": run.position,
                }
            )
        return out

    def wrapup_refusal(self, call_id: str, agent_id: str | None) -> str | None:
        """Why the wrap-up of `call_id` must wait: the agent's script says to finish it first."""
        if agent_id is None:
            return None
        entry = self.current(agent_id)
        if entry is None or entry.place.call_id != call_id:
            return None
        run = entry.run
        if run.status is not RunStatus.ACTIVE or not run.script.complete_before_wrapup:
            return None
        todo = "; ".join(p.message for p in run.pending())
        return f"Finish the script '{run.script.title}' first: {todo}"

    async def move(
        self,
        entry: AgentRun,
        op: str,
        *,
        by: str,
        position: int,
        value: object = None,
        answered: bool = False,
        target: str | None = None,
    ) -> MoveResult:
        """One move from the panel: `answer`, `forward` (with an answer when `answered`), `back`,
        `jump` to `target`. `position` is where the panel thinks the run is: a stale panel (a
        second tab, a double click) is refused rather than moving twice."""
        async with entry.lock:
            run = entry.run
            if run.status is not RunStatus.ACTIVE:
                raise MoveRefused(f"the script run is {run.status.value}")
            if position != run.position:
                raise MoveRefused("the script has moved on since this page was shown: look again")
            before = tracking.Snapshot.of(run)
            now = self._now()
            commands: list[Command] = []
            try:
                if op == "answer":
                    run.answer(run.step, value, by=by, now=now)
                elif op == "forward":
                    if answered:
                        run.answer(run.step, value, by=by, now=now)
                    commands = run.forward(by=by, now=now)
                elif op == "back":
                    run.back(by=by, now=now)
                elif op == "jump" and target is not None:
                    commands = run.jump(target, by=by, now=now)
                else:
                    raise MoveRefused(f"unknown move '{op}'", 400)
            except AnswerError as err:
                raise MoveRefused(str(err), 400) from None
            except (NavigationError, RunStateError) as err:
                raise MoveRefused(str(err)) from None
            finally:
                for item in tracking.after_move(before, run, entry.place.call_id, self.clock()):
                    self.publish(item)
            notices = await self.adapter.carry_out(run, commands, entry.place)
            return MoveResult(self.view(entry), notices)

    async def stop(self) -> None:
        """Runs still going at shutdown are recorded as abandoned, then background work ends."""
        for entry in list(self._runs.values()):
            if entry.run.status is RunStatus.ACTIVE:
                await self._abandon(entry, "the server stopped")
        await self.idle()

    async def idle(self) -> None:
        """Wait until no run is being started or ended (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- plumbing -------------------------------------------------------------------------------

    def _current_active(self, agent_id: str) -> AgentRun | None:
        entry = self.current(agent_id)
        return entry if entry is not None and entry.run.status is RunStatus.ACTIVE else None

    def _trim_runs(self) -> None:
        """Forget the oldest ended runs nobody's panel shows any more."""
        current = set(self._by_agent.values())
        excess = len(self._runs) - KEEP_ENDED - len(current)
        for run_id in list(self._runs):
            if excess <= 0:
                return
            if run_id in current or self._runs[run_id].run.status is RunStatus.ACTIVE:
                continue
            del self._runs[run_id]
            excess -= 1

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("script desk: background work failed", exc_info=task.exception())


def _trim(table: OrderedDict[str, Any], keep: int) -> None:
    while len(table) > keep:
        table.popitem(last=False)
