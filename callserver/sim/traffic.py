"""Simulated callers: Poisson arrivals on the trunk, each with patience and talk time, and a record
of what every caller experienced so tests can compare it with what the server stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from callserver.config import OVERLOAD, Settings
from callserver.ivr.model import IvrConfig
from callserver.ivr.section import flows_of
from callserver.sim.apps import Runtime
from callserver.sim.callers import default_profile, pick_script
from callserver.sim.executor import run_channel
from callserver.sim.model import Channel

log = logging.getLogger("callserver.sim.traffic")


class Outcome(enum.Enum):
    """How a simulated call ended, from the caller's side."""

    WAITING = "waiting"
    ABANDONED = "abandoned"  # caller's patience ran out before any agent
    COMPLETED = "completed"  # talked to an agent, then the caller hung up
    AGENT_ENDED = "agent_ended"  # talked to an agent, the PBX side ended the call
    PBX_HANGUP = "pbx_hangup"  # never reached an agent; hung up by the PBX (message, no service)
    PBX_CUT = "pbx_cut"  # the PBX went away under the call (a restart)


@dataclass
class CallerRecord:
    number: str
    dnis: str
    patience: float
    talk_time: float
    channel: str = ""
    uniqueid: str = ""
    started: float = field(default_factory=time.monotonic)
    outcome: Outcome = Outcome.WAITING
    agent_channel: str | None = None
    wait_time: float | None = None
    ended: float | None = None
    heard_music: bool = False  # reached a queue (heard music on hold) at some point


class CallHandle:
    """A test's grip on one simulated caller."""

    def __init__(self, record: CallerRecord, channel: Channel) -> None:
        self.record, self.channel = record, channel
        self.done: asyncio.Future[CallerRecord] = asyncio.get_running_loop().create_future()
        self.hangup_now = asyncio.Event()

    async def outcome(self, timeout: float | None = None) -> CallerRecord:
        """Wait for the caller's fate."""
        async with asyncio.timeout(timeout):
            return await asyncio.shield(self.done)

    def press(self, digits: str) -> None:
        self.channel.press(digits)

    def hangup(self) -> None:
        """The caller hangs up now, whatever the state."""
        self.hangup_now.set()
        self.channel.poke()


Spawn = Callable[[Coroutine[Any, Any, None], str], object]


# account numbers simulated callers type in IVR menus (those of config/customers.csv, and one unknown)
IVR_ACCOUNTS = ("100101", "100102", "200201", "300301")


def dnis_pool(settings: Settings, ivr: IvrConfig | None) -> list[str]:
    """The numbers random callers dial, each equally likely: the configured ones, else every
    queue's and IVR flow's numbers (a number both list is drawn twice as often)."""
    cfg = settings.simulator.callers
    if cfg.dnis:
        return list(cfg.dnis)
    flows = [d for f in ivr.flows.values() for d in f.dnis] if ivr is not None else []
    return [d for q in settings.queues for d in q.dnis] + flows


def arrival_rate(settings: Settings) -> float:
    """Callers per minute: `rate_per_minute`, times OVERLOAD on an overloaded day."""
    cfg = settings.simulator.callers
    return cfg.rate_per_minute * (OVERLOAD if cfg.overloaded else 1.0)


class Traffic:
    """Creates callers on demand (`place_call`) or at the configured rate (`start`)."""

    def __init__(
        self, settings: Settings, rt: Runtime, rng: random.Random, time_scale: float, spawn: Spawn
    ) -> None:
        self.settings, self.rt, self.rng, self.scale, self.spawn = settings, rt, rng, time_scale, spawn
        self.records: list[CallerRecord] = []
        self.counters: Counter[str] = Counter()
        self._arrivals: asyncio.Task[None] | None = None
        self._finished = asyncio.Condition()
        self.finished = 0
        self.profile = default_profile(IVR_ACCOUNTS)
        # which numbers reach an IVR flow (callers there follow a profile): checked flows, or none
        self.ivr, _ = flows_of(settings)

    async def wait_finished(self, count: int) -> None:
        """Wait until `count` callers in total have hung up (wrap in a timeout)."""
        async with self._finished:
            await self._finished.wait_for(lambda: self.finished >= count)

    async def _note_finished(self) -> None:
        async with self._finished:
            self.finished += 1
            self._finished.notify_all()

    def place_call(
        self,
        number: str,
        dnis: str,
        *,
        patience: float | None = None,
        talk_time: float | None = None,
        digits: str = "",
        caller_name: str | None = None,
    ) -> CallHandle:
        """A caller dials `dnis` now; times are in simulator seconds (already scaled if given)."""
        cfg = self.settings.simulator.callers
        if patience is None:
            patience = self.rng.uniform(*cfg.patience) * self.scale
        if talk_time is None:
            talk_time = self.rng.uniform(*cfg.talk_time) * self.scale
        ch = self.rt.pbx.new_channel(
            "PJSIP/trunk",
            caller_num=number,
            caller_name=caller_name or "<unknown>",
            context=self.settings.simulator.entry_context,
            exten=dnis,
            state=4,
        )
        ch.dnid = dnis
        ch.message_time = talk_time  # a message left in voicemail lasts as long as they would talk
        if digits:
            ch.press(digits)
        record = CallerRecord(number, dnis, patience, talk_time, ch.name, ch.uniqueid)
        self.records.append(record)
        self.counters["placed"] += 1
        handle = CallHandle(record, ch)
        log.debug(
            "caller %s dials %s on %s (patience %.1f s, talk %.1f s)",
            number,
            dnis,
            ch.name,
            patience,
            talk_time,
        )
        self.spawn(run_channel(self.rt, ch), ch.name)
        self.spawn(self._caller(handle), f"caller {ch.name}")
        return handle

    async def _caller(self, handle: CallHandle) -> None:
        ch, rec = handle.channel, handle.record
        try:
            await ch.wait_for(
                lambda: ch.bridged.is_set() or ch.gone or handle.hangup_now.is_set(), rec.patience
            )
            if ch.bridged.is_set():
                rec.wait_time = time.monotonic() - rec.started
                rec.agent_channel = ch.was_bridged_with
                log.debug("caller %s talks to %s after %.1f s", ch.name, rec.agent_channel, rec.wait_time)
                await ch.wait_for(lambda: ch.gone or handle.hangup_now.is_set(), rec.talk_time)
                rec.outcome = Outcome.AGENT_ENDED if ch.gone else Outcome.COMPLETED
                if ch.vanished:
                    rec.outcome = Outcome.PBX_CUT
            elif ch.vanished:
                rec.outcome = Outcome.PBX_CUT
            elif ch.gone:
                rec.outcome = Outcome.PBX_HANGUP
            else:
                rec.outcome = Outcome.ABANDONED
                rec.wait_time = time.monotonic() - rec.started
            if not ch.gone:
                self.rt.pbx.remote_hangup(ch)
                await ch.ended.wait()
        finally:
            rec.ended = time.monotonic()
            rec.heard_music = ch.heard_music
            self.counters[rec.outcome.value] += 1
            log.debug("caller %s: %s", ch.name, rec.outcome.value)
            if not handle.done.done():
                handle.done.set_result(rec)
        await self._note_finished()

    def start(self) -> None:
        if self._arrivals is None or self._arrivals.done():
            self._arrivals = asyncio.create_task(self._arrive(), name="sim traffic")

    def stop(self) -> None:
        """Stop new arrivals; callers already in the PBX carry on."""
        if self._arrivals is not None:
            self._arrivals.cancel()

    async def close(self) -> None:
        self.stop()
        if self._arrivals is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._arrivals
            self._arrivals = None

    def dnis_pool(self) -> list[str]:
        return dnis_pool(self.settings, self.ivr)

    def _arrival(self, number: str, dnis: str) -> None:
        """One random caller; on an IVR number they follow a caller profile (keys, early hang-up)."""
        ivr = self.ivr
        if ivr is None or ivr.flow_for_dnis(dnis) is None:
            self.place_call(number, dnis)
            return
        script = pick_script(self.rng, self.profile)
        handle = self.place_call(number, dnis, patience=script.patience * self.scale, digits=script.digits)
        log.debug("caller on %s follows the IVR profile '%s'", handle.channel.name, script.behaviour)
        if script.hangup_after is not None:
            asyncio.get_running_loop().call_later(script.hangup_after * self.scale, handle.hangup)

    async def _arrive(self) -> None:
        """Poisson arrivals at `rate_per_minute` (scaled), until `max_calls` callers."""
        cfg = self.settings.simulator.callers
        pool = self.dnis_pool()
        if not pool:
            log.warning("no DNIS to call: set simulator.callers.dnis or queues[].dnis")
            return
        made = 0
        while cfg.max_calls is None or made < cfg.max_calls:
            await asyncio.sleep(self.rng.expovariate(arrival_rate(self.settings) / 60.0) * self.scale)
            self._arrival(self.rng.choice(cfg.numbers), self.rng.choice(pool))
            made += 1
