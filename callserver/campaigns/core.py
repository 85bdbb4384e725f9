"""The campaign service's core: one engine per campaign run on the clock, their facts published and
acted on, their commands carried out (the PBX ones by the dialler), and what the PBX says about
each dial fed back (`DiallerFeed`). The verbs live beside it, one file per audience:
`supervision.py` (campaigns, lists, do-not-call, tiles), `desk.py` (agents), `blending.py` (which
agents a campaign may use, and what the ACD must know of them); `service.py` puts them together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..acd.service import AcdService
from ..config import CampaignConfig
from ..facts.campaign import (
    AgentSlotChanged,
    AttemptConnected,
    AttemptEnded,
    AttemptStarted,
    DialRefused,
)
from ..facts.model import Fact
from ..lines.service import AgentLines
from ..pbx.actions import PbxActions
from ..pbx.channels import ChannelNames
from .commands import Command, OfferPreview, WithdrawPreview
from .dialler import DiallerFeed, PbxDialler
from .dnc import DncRegistry
from .engine import CampaignEngine, DialProgress, NotAllowed
from .leads import LeadBook, ListStats
from .model import (
    AgentSlot,
    AmdDecision,
    AttemptState,
    Lead,
)
from .rules import rule_set
from .specs import campaign_of
from .trunks import TrunkLimiter

log = logging.getLogger("callserver.campaigns")

HOUR = 3600.0
LIST_STATS_EVERY = 5.0  # seconds between counts of a campaign's leads for its tile
BUSY_SLOTS = (AgentSlot.RESERVED, AgentSlot.ON_CALL, AgentSlot.WRAPUP)
WANT = "campaigns"  # what the campaigns ask of the persistent lines


class UnknownCampaign(KeyError):
    pass


class CampaignConflict(Exception):
    """The campaign's state does not allow that (e.g. editing a running campaign); says why."""


Message = Callable[[str, dict[str, Any], str | None], None]


@dataclass(slots=True)
class Entry:
    config: CampaignConfig
    engine: CampaignEngine
    lists: set[str] = field(default_factory=set)
    dirty: bool = True
    list_stats: ListStats | None = None
    list_stats_at: float = -1e18
    dials: deque[float] = field(default_factory=deque)  # dial times over the last hour
    refusals: dict[str, int] = field(default_factory=dict)  # by rule


class CampaignCore(DiallerFeed):
    def __init__(
        self,
        *,
        acd: AcdService,
        lines: AgentLines,
        pbx: PbxActions,
        channels: ChannelNames,
        publish: Callable[[Fact], None],
        dial_string: str,
        agent_skills: Mapping[str, dict[str, int]],
        id_prefix: str,
        default_info: str,
        default_machine: str,
        clock: Callable[[], float] = time.time,
        on_message: Message | None = None,
        stats_every: float = 1.0,
    ) -> None:
        self.acd = acd
        self.lines = lines
        self.pbx = pbx
        self.publish = publish
        self.clock = clock
        self.agent_skills = agent_skills
        self.id_prefix = id_prefix
        self.on_message: Message = on_message or (lambda kind, data, agent: None)
        self.stats_every = stats_every
        self.dnc = DncRegistry()
        self.trunks = TrunkLimiter()
        self.entries: dict[str, Entry] = {}
        self.dialler = PbxDialler(
            pbx,
            channels,
            bridge=lines.bridge,
            dial_string=dial_string,
            feed=self,
            default_info=default_info,
            default_machine=default_machine,
        )
        self._owner: dict[str, str] = {}  # attempt id -> campaign
        self._assigned: dict[str, str] = {}  # agent id -> the campaign they are not OFF in
        self._wrapup_since: dict[str, float] = {}
        self._manual = 0
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        lines.listen(self.review)

    async def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="campaign-timers")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop,) if t is not None] + list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds, re-checked after each change (tests, tools)."""
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    def entry(self, name: str) -> Entry:
        entry = self.entries.get(name)
        if entry is None:
            raise UnknownCampaign(name)
        return entry

    @staticmethod
    def _checked(step: Callable[[], list[Command]]) -> list[Command]:
        try:
            return step()
        except NotAllowed as err:
            raise CampaignConflict(str(err)) from None
        except Exception as err:  # an impossible state change (InvalidTransition) names both states
            raise CampaignConflict(str(err)) from None

    def campaign_of_agent(self, agent_id: str) -> Entry | None:
        name = self._assigned.get(agent_id)
        return self.entries.get(name) if name is not None else None

    # -- engine plumbing ------------------------------------------------------------------------

    def _new_entry(
        self,
        config: CampaignConfig,
        leads: list[Lead],
        *,
        book: LeadBook | None = None,
        stats_from: CampaignEngine | None = None,
    ) -> Entry:
        campaign = campaign_of(config)
        self.trunks.rates.setdefault(campaign.trunk, campaign.dials_per_second)
        engine = CampaignEngine(
            campaign,
            book if book is not None else LeadBook(leads, order=campaign.lead_order, retry=campaign.retry),
            rule_set(campaign.rule_set),
            dnc=self.dnc,
            trunks=self.trunks,
            stats=stats_from.stats if stats_from is not None else None,
            id_prefix=self.id_prefix,
        )
        if stats_from is not None:
            engine.compliance.meter = stats_from.compliance.meter
            engine.dials, engine.refusals = stats_from.dials, stats_from.refusals
        entry = self.entries[config.name] = Entry(config, engine)
        return entry

    def _apply(self, entry: Entry, commands: list[Command]) -> None:
        """Publish the engine's facts (and act on them), then carry out its commands."""
        for fact in entry.engine.pop_facts():
            self.publish(fact)
            self._after(entry, fact)
        name = entry.config.name
        for command in commands:
            match command:
                case OfferPreview():
                    lead = self.lead_data(entry, command.lead_id)
                    self._card(command.agent_id, entry, lead, command.auto_dial_at)
                case WithdrawPreview():
                    self._card(command.agent_id, entry, None, None)
                case _:
                    self._spawn(self.dialler.execute(command), name)
        entry.dirty = True
        self._wake.set()
        self._changed.set()

    def _card(self, agent_id: str, entry: Entry, lead: dict[str, Any] | None, auto: float | None) -> None:
        data = {
            "agent_id": agent_id,
            "campaign": entry.config.name,
            "at": self.clock(),
            "lead": lead,
            "auto_dial_at": auto,
            "script": entry.config.script,
        }
        self.on_message("campaign.preview", data, agent_id)

    def _after(self, entry: Entry, fact: Fact) -> None:
        match fact:
            case AgentSlotChanged():
                self._slot_changed(entry, fact)
            case AttemptStarted():
                self._owner[fact.attempt_id] = entry.config.name
                entry.dials.append(fact.at)
            case AttemptConnected():
                data = {
                    "agent_id": fact.agent_id,
                    "campaign": entry.config.name,
                    "attempt_id": fact.attempt_id,
                    "at": fact.at,
                    "lead": self.lead_data(entry, fact.lead_id),
                    "outcomes": self.outcomes(entry),
                    "script": entry.config.script,
                }
                self.on_message("campaign.pop", data, fact.agent_id)
            case AttemptEnded():
                self._owner.pop(fact.attempt_id, None)
                self._close_unconnected(entry, fact)
            case DialRefused():
                for rule in fact.rules:
                    entry.refusals[rule] = entry.refusals.get(rule, 0) + 1
            case _:
                pass

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"campaign {name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("campaign task %s failed", task.get_name(), exc_info=task.exception())

    async def _run(self) -> None:
        next_stats = 0.0
        while True:
            now = self.clock()
            deadlines = [d for e in self.entries.values() if (d := e.engine.next_deadline()) is not None]
            until = min([*deadlines, next_stats])
            self._wake.clear()
            try:
                async with asyncio.timeout(max(0.0, until - now)):
                    await self._wake.wait()
            except TimeoutError:
                pass
            now = self.clock()
            for entry in list(self.entries.values()):
                deadline = entry.engine.next_deadline()
                if deadline is not None and deadline <= now:
                    self._apply(entry, entry.engine.on_timer(now))
            if now >= next_stats:
                next_stats = now + self.stats_every
                self._every_second(now)

    def _every_second(self, now: float) -> None:
        for agent_id, since in list(self._wrapup_since.items()):
            entry = self.campaign_of_agent(agent_id)
            limit = entry.config.wrapup_timeout if entry is not None else None
            if entry is None or limit is None or now - since < limit:
                continue
            agent = entry.engine.agents[agent_id]
            if agent.slot is AgentSlot.WRAPUP and agent.attempt_id is not None:
                log.info(
                    "agent %s: wrap-up of %s closed after %.0f s without outcome",
                    agent_id,
                    agent.attempt_id,
                    limit,
                )
                self.wrapup(agent_id, agent.attempt_id, outcome=None)
            self._wrapup_since.pop(agent_id, None)
        for entry in self.entries.values():
            if not entry.config.inbound_priority:
                hold = self._holds(entry)
                for agent in entry.engine.agents.values():
                    if agent.slot is AgentSlot.READY:
                        (self._engage if hold else self._release)(agent.id, entry)
            if entry.dirty:
                entry.dirty = False
                self.on_message("campaign.stats", self.tile(entry.config.name), None)

    # -- DiallerFeed: what the PBX says about the dials -----------------------------------------

    def _attempt_entry(self, attempt_id: str) -> Entry | None:
        name = self._owner.get(attempt_id)
        return self.entries.get(name) if name is not None else None

    def attempt_live(self, attempt_id: str) -> bool:
        entry = self._attempt_entry(attempt_id)
        if entry is None:
            return False
        attempt = entry.engine.attempts.get(attempt_id)
        return attempt is not None and attempt.state is not AttemptState.ENDED

    def _feed(self, attempt_id: str, step: Callable[[CampaignEngine, float], list[Command]]) -> None:
        entry = self._attempt_entry(attempt_id)
        if entry is None:
            return
        try:
            commands = step(entry.engine, self.clock())
        except NotAllowed as err:
            log.info("attempt %s: %s", attempt_id, err)
            commands = []
        self._apply(entry, commands)

    def progress(self, attempt_id: str, progress: DialProgress) -> None:
        self._feed(attempt_id, lambda e, now: e.dial_result(attempt_id, progress, now))

    def amd(self, attempt_id: str, decision: AmdDecision) -> None:
        self._feed(attempt_id, lambda e, now: e.amd_result(attempt_id, decision, now))

    def connected(self, attempt_id: str) -> None:
        self._feed(attempt_id, lambda e, now: e.connected_to_agent(attempt_id, now))

    def gone(self, attempt_id: str, by: str) -> None:
        self._feed(attempt_id, lambda e, now: e.hangup(attempt_id, now, by=by))

    def not_connected(self, attempt_id: str, reason: str) -> None:
        self._feed(attempt_id, lambda e, now: e.hangup(attempt_id, now, by="network"))

    def live_attempts(self) -> list[str]:
        return [a for a in list(self._owner) if self.attempt_live(a)]

    def reconnected(self) -> None:
        self._spawn(self._reconcile(), "reconcile")

    async def _reconcile(self) -> None:
        ended = await self.dialler.reconcile()
        if ended:
            log.warning("campaigns: %d attempts ended after the AMI reconnect (channels gone)", ended)

    # -- provided by the verbs' modules (blending.py, desk.py, supervision.py) -------------------

    def review(self, agent_id: str) -> None:
        raise NotImplementedError

    def _review_all(self) -> None:
        raise NotImplementedError

    def _slot_changed(self, entry: Entry, fact: AgentSlotChanged) -> None:
        raise NotImplementedError

    def _holds(self, entry: Entry) -> bool:
        raise NotImplementedError

    def _engage(self, agent_id: str, entry: Entry) -> None:
        raise NotImplementedError

    def _release(self, agent_id: str, entry: Entry) -> None:
        raise NotImplementedError

    def _free_for_campaigns(self, agent_id: str) -> bool:
        raise NotImplementedError

    def _close_unconnected(self, entry: Entry, fact: AttemptEnded) -> None:
        raise NotImplementedError

    def wrapup(
        self,
        agent_id: str,
        attempt_id: str,
        *,
        outcome: str | None,
        callback_at: datetime | None = None,
        callback_mine: bool = True,
        dnc: bool = False,
    ) -> float | None:
        raise NotImplementedError

    def lead_data(self, entry: Entry, lead_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def outcomes(self, entry: Entry) -> list[dict[str, Any]]:
        raise NotImplementedError

    def tile(self, name: str) -> dict[str, Any]:
        raise NotImplementedError


def _tag(campaign: str) -> str:
    return f"campaign:{campaign}"
