"""Outbound campaigns as the rest of callserver uses them: the verbs supervisors and agents call
(create, start, import, preview dial, wrap-up...), the campaign engines run on the clock, their
commands carried out on the PBX (dialler.py) and their facts published on the bus.

Blending with the ACD goes through its service: the ACD's facts and views say which agents are
free (logged in, available, idle, no call), and every agent the campaign reserves, connects or has
in wrap-up is `engage`d in the ACD, so no inbound call is offered to them meanwhile. Agents ready
for a campaign stay free for inbound calls when the campaign gives inbound priority (the default):
the ACD may take them, and the campaign hears it at once and stops counting them. Each campaign
agent works on a persistent line (lines/), so an answered person is bridged to them instantly.

Everything runs in the event loop, one input at a time: no lock. `clock` is wall-clock epoch
seconds (calling hours are local times); tests pass one of their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ..acd.model import AgentState, AgentStatus
from ..acd.service import AcdService
from ..config import CampaignConfig
from ..facts.campaign import (
    AgentSlotChanged,
    AttemptConnected,
    AttemptEnded,
    AttemptStarted,
    CampaignSaved,
    DialRefused,
    DncAdded,
    DncImported,
    LeadRecord,
    LeadsImported,
)
from ..facts.model import AgentStateChanged, AgentStatusChanged, Fact
from ..lines.service import AgentLines
from ..pbx.actions import PbxActions, PbxError
from ..pbx.channels import ChannelNames
from .commands import Command, OfferPreview, WithdrawPreview
from .dialler import DiallerFeed, PbxDialler
from .dnc import GLOBAL, DncRegistry
from .engine import CampaignEngine, DialProgress, NotAllowed
from .history import Stored, restore
from .leads import MANUAL_LIST, LeadBook, ListStats, local_time_to_epoch
from .lists import ColumnMapping, ImportReport, RowError, import_csv, normalise
from .model import (
    AgentSlot,
    AmdDecision,
    AttemptState,
    Callback,
    DialMode,
    Lead,
    RunState,
)
from .monitor import snapshot
from .rules import rule_set
from .specs import campaign_of, works_for
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


class CampaignService(DiallerFeed):
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

    # -- lifecycle ------------------------------------------------------------------------------

    def restore(self, stored: Stored, seeds: Sequence[CampaignConfig]) -> None:
        """Campaigns as the store had them (leads, meter and learnt figures from their attempts),
        then the configuration's seeds that the store does not have yet."""
        now = self.clock()
        for dnc in stored.dnc:
            self.dnc.add(dnc.number, now=dnc.added_at, source=dnc.source, campaign=dnc.scope)
        for name, sc in stored.campaigns.items():
            try:
                config = CampaignConfig.model_validate(sc.settings)
            except ValidationError as err:
                log.error("campaign %s: stored settings unusable, left out: %s", name, err)
                continue
            entry = self._new_entry(config, sc.leads)
            entry.lists = {lead.list_name for lead in sc.leads}
            counted = restore(entry.engine, sc.attempts, now)
            log.info(
                "campaign %s: %d leads, %d past attempts (%d in the abandon window)",
                name,
                len(sc.leads),
                len(sc.attempts),
                counted,
            )
            for attempt in sc.open_attempts:
                # dialled before the server stopped and never closed: closed now, nothing lost
                self.publish(
                    AttemptEnded(
                        attempt.id,
                        name,
                        now,
                        attempt.lead_id,
                        attempt.number,
                        "cancelled",
                        attempt.dialed_at,
                        None,
                        attempt.answered_at,
                        attempt.amd,
                        attempt.amd_duration,
                        attempt.person_at,
                        attempt.connected_at,
                        None,
                        attempt.abandoned,
                        False,
                        "restart",
                    )
                )
            if sc.state in (RunState.RUNNING, RunState.PAUSED):
                try:
                    self._apply(entry, entry.engine.start(now))
                    if sc.state == RunState.PAUSED:
                        self._apply(entry, entry.engine.pause(now))
                except NotAllowed as err:
                    log.error("campaign %s not restarted: %s", name, err)
        for seed in seeds:
            if seed.name not in self.entries:
                self.create(seed, by="config")

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

    # -- supervisors: campaigns -----------------------------------------------------------------

    def entry(self, name: str) -> Entry:
        entry = self.entries.get(name)
        if entry is None:
            raise UnknownCampaign(name)
        return entry

    def create(self, config: CampaignConfig, *, by: str) -> Entry:
        if config.name in self.entries:
            raise CampaignConflict(f"campaign {config.name} exists already")
        entry = self._new_entry(config, [])
        self.publish(CampaignSaved(config.name, self.clock(), config.model_dump(mode="json"), by))
        self._review_all()
        return entry

    def update(self, config: CampaignConfig, *, by: str) -> Entry:
        """A stopped campaign's new settings (a running one changes mode and target only)."""
        old = self.entry(config.name)
        if old.engine.run_state is not RunState.STOPPED:
            raise CampaignConflict(
                f"campaign {config.name} is {old.engine.run_state.value}: stop it to change its settings"
                " (mode and abandon target change while it runs)"
            )
        engine = old.engine
        book = engine.leads
        campaign = campaign_of(config)
        book.order, book.retry = campaign.lead_order, campaign.retry
        new = self._new_entry(config, [], book=book, stats_from=engine)
        new.lists = old.lists
        self.publish(CampaignSaved(config.name, self.clock(), config.model_dump(mode="json"), by))
        self._review_all()
        return new

    def start_campaign(self, name: str, *, by: str) -> None:
        entry = self.entry(name)
        if entry.engine.run_state is RunState.RUNNING:
            raise CampaignConflict(f"campaign {name} is running already")
        now = self.clock()
        self._apply(entry, self._checked(lambda: entry.engine.start(now)))
        log.info("campaign %s started by %s", name, by)
        self._review_all()

    def pause(self, name: str, *, by: str) -> None:
        entry = self.entry(name)
        self._apply(entry, self._checked(lambda: entry.engine.pause(self.clock())))
        log.info("campaign %s paused by %s", name, by)
        self._review_all()

    def stop_campaign(self, name: str, *, by: str) -> None:
        entry = self.entry(name)
        self._apply(entry, self._checked(lambda: entry.engine.stop(self.clock())))
        log.info("campaign %s stopped by %s", name, by)
        self._review_all()

    def set_mode(self, name: str, mode: DialMode, *, by: str) -> None:
        entry = self.entry(name)
        self._apply(entry, entry.engine.set_mode(mode, self.clock(), reason=f"supervisor {by}"))
        entry.config = entry.config.model_copy(update={"mode": mode.value})
        self.publish(CampaignSaved(name, self.clock(), entry.config.model_dump(mode="json"), by))

    def set_target(self, name: str, target: float | None, *, by: str) -> None:
        entry = self.entry(name)
        self._apply(entry, self._checked(lambda: entry.engine.set_target(target, self.clock())))
        entry.config = entry.config.model_copy(update={"abandon_target": target})
        self.publish(CampaignSaved(name, self.clock(), entry.config.model_dump(mode="json"), by))

    @staticmethod
    def _checked(step: Callable[[], list[Command]]) -> list[Command]:
        try:
            return step()
        except NotAllowed as err:
            raise CampaignConflict(str(err)) from None
        except Exception as err:  # an impossible state change (InvalidTransition) names both states
            raise CampaignConflict(str(err)) from None

    # -- supervisors: lists and do-not-call -----------------------------------------------------

    async def import_list(
        self,
        name: str,
        list_name: str,
        lines: Iterable[str],
        mapping: ColumnMapping,
        *,
        by: str,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Read a CSV into the campaign, whole or not at all (every bad cell is reported with its
        line and column). Parsing runs in a worker thread; `progress(rows)` is called in the loop."""
        entry = self.entry(name)
        if list_name in entry.lists or list_name == MANUAL_LIST:
            raise CampaignConflict(f"campaign {name} has a list called {list_name} already")
        loop = asyncio.get_running_loop()

        def report_progress(rows: int) -> None:
            if progress is not None:
                loop.call_soon_threadsafe(progress, rows)

        book = entry.engine.leads
        existing = {n for lead in book.leads.values() for n in lead.numbers}
        report = await asyncio.to_thread(
            import_csv,
            lines,
            mapping,
            list_name=list_name,
            default_region=entry.config.default_region,
            dnc=self.dnc,
            campaign=name,
            existing=existing,
            progress=report_progress,
            first_seq=len(book.leads),
        )
        clashes = [lead for lead in report.leads if lead.id in book.leads]
        if clashes:
            errors = tuple(
                RowError(0, mapping.id or "", f"lead id {lead.id!r} is already in the campaign")
                for lead in clashes[:100]
            )
            return ImportReport(report.rows, (), report.duplicates, report.dnc, errors)
        if not report.ok or list_name in entry.lists:
            return report
        entry.lists.add(list_name)
        now = self.clock()
        self.publish(
            LeadsImported(
                name,
                now,
                list_name,
                tuple(
                    LeadRecord(
                        lead.id,
                        lead.numbers,
                        lead.time_zones,
                        dict(lead.fields),
                        lead.priority,
                        lead.seq,
                        lead.state.value,
                    )
                    for lead in report.leads
                ),
                report.rows,
                len(report.duplicates),
                len(report.dnc),
                by,
            )
        )
        self._apply(entry, entry.engine.add_leads(list(report.leads), now))
        log.info("campaign %s: list %s imported by %s, %d leads", name, list_name, by, len(report.leads))
        return report

    def import_dnc(self, scope: str, lines: Iterable[str], *, by: str, region: str = "US") -> DncReport:
        """Numbers for a do-not-call list (`scope` "" the global one), one per line (the first
        column of a CSV; a header line is skipped). All or nothing, like a lead list."""
        if scope and scope not in self.entries:
            raise UnknownCampaign(scope)
        numbers: list[str] = []
        errors: list[RowError] = []
        for lineno, raw in enumerate(lines, start=1):
            cell = raw.split(",", 1)[0].strip().strip('"')
            if not cell or (lineno == 1 and not any(ch.isdigit() for ch in cell)):
                continue
            try:
                e164, _ = normalise(cell, region)
            except ValueError as err:
                errors.append(RowError(lineno, "1", str(err)))
                continue
            numbers.append(e164)
        if errors:
            return DncReport(0, tuple(errors[:1000]))
        fresh = [n for n in dict.fromkeys(numbers) if self.dnc.blocked(n, scope) is None or scope]
        now = self.clock()
        added = self.dnc.add_many(fresh, now=now, source=f"import:{by}", campaign=scope)
        self.publish(DncImported(scope, now, tuple(dict.fromkeys(numbers)), f"import:{by}"))
        return DncReport(added, ())

    def add_dnc(self, number: str, scope: str, *, source: str) -> None:
        if scope and scope not in self.entries:
            raise UnknownCampaign(scope)
        now = self.clock()
        self.dnc.add(number, now=now, source=source, campaign=scope)
        self.publish(DncAdded(scope, now, number, source))

    # -- agents ---------------------------------------------------------------------------------

    def campaign_of_agent(self, agent_id: str) -> Entry | None:
        name = self._assigned.get(agent_id)
        return self.entries.get(name) if name is not None else None

    def campaigns_for(self, agent_id: str) -> list[str]:
        skills = self.agent_skills.get(agent_id, {})
        return [n for n, e in self.entries.items() if works_for(e.config, agent_id, skills)]

    def _agent_entry(self, agent_id: str) -> Entry:
        entry = self.campaign_of_agent(agent_id)
        if entry is None:
            raise CampaignConflict(f"agent {agent_id} is not working a campaign now")
        return entry

    def preview_dial(self, agent_id: str) -> None:
        entry = self._agent_entry(agent_id)
        self._apply(entry, self._checked(lambda: entry.engine.preview_dial(agent_id, self.clock())))

    def preview_skip(self, agent_id: str, reason: str, *, final: bool = False) -> None:
        entry = self._agent_entry(agent_id)
        now = self.clock()
        self._apply(
            entry, self._checked(lambda: entry.engine.preview_skip(agent_id, reason, now, final=final))
        )

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
        """The agent codes the call (and books a callback at a wall-clock time in the lead's
        zone); returns the callback's epoch time."""
        entry = self._agent_entry(agent_id)
        engine = entry.engine
        agent = engine.agents.get(agent_id)
        if agent is None or agent.slot is not AgentSlot.WRAPUP or agent.attempt_id != attempt_id:
            raise CampaignConflict(f"agent {agent_id} is not wrapping up attempt {attempt_id}")
        attempt = engine.attempts[attempt_id]
        now = self.clock()
        callback = None
        if callback_at is not None:
            lead = engine.leads.get(attempt.lead_id)
            zone = lead.time_zones[0] if lead.time_zones else "UTC"
            at = local_time_to_epoch(callback_at, zone)
            if at <= now:
                raise CampaignConflict(f"the callback time {callback_at:%Y-%m-%d %H:%M} ({zone}) has passed")
            callback = Callback(at, agent_id if callback_mine else None)
        if dnc:
            engine.add_dnc(attempt.number, now, source=f"agent:{agent_id}")
        self._finish_wrapup(entry, agent_id, outcome=outcome, callback=callback)
        return callback.at if callback is not None else None

    def _finish_wrapup(
        self, entry: Entry, agent_id: str, *, outcome: str | None = None, callback: Callback | None = None
    ) -> None:
        """The agent is done with a campaign call. With inbound priority they go back to the ACD
        first, which may give them a waiting call at once; whoever is still free then is the
        campaign's again (`review`). A campaign with priority keeps them."""
        engine = entry.engine
        keep = not entry.config.inbound_priority and self._free_for_campaigns(agent_id)
        self._wrapup_since.pop(agent_id, None)
        self._apply(
            entry,
            self._checked(
                lambda: engine.agent_wrapup_done(
                    agent_id, self.clock(), outcome=outcome, callback=callback, ready=keep
                )
            ),
        )
        self.review(agent_id)

    def current_attempt(self, agent_id: str) -> tuple[Entry, str] | None:
        """The campaign call the agent is on (connecting, talking or wrapping up)."""
        entry = self.campaign_of_agent(agent_id)
        if entry is None:
            return None
        agent = entry.engine.agents.get(agent_id)
        if (
            agent is None
            or agent.slot not in (AgentSlot.ON_CALL, AgentSlot.WRAPUP)
            or agent.attempt_id is None
        ):
            return None
        return entry, agent.attempt_id

    async def hangup(self, agent_id: str) -> None:
        """The agent ends the conversation (their line stays up)."""
        current = self.current_attempt(agent_id)
        if current is None:
            raise CampaignConflict(f"agent {agent_id} is not on a campaign call")
        entry, attempt_id = current
        attempt = entry.engine.attempts.get(attempt_id)
        if attempt is None or attempt.state is AttemptState.ENDED:
            raise CampaignConflict(f"the call of attempt {attempt_id} is over already")
        try:
            await self.pbx.hangup(attempt_id)
        except PbxError as err:
            raise CampaignConflict(f"the PBX did not hang up: {err}") from None

    def dnc_current(self, agent_id: str) -> str:
        """The agent puts the number they are talking to on the campaign's do-not-call list."""
        current = self.current_attempt(agent_id)
        if current is None:
            raise CampaignConflict(f"agent {agent_id} is not on a campaign call")
        entry, attempt_id = current
        number = entry.engine.attempts[attempt_id].number
        entry.engine.add_dnc(number, self.clock(), source=f"agent:{agent_id}")
        self._apply(entry, [])
        return number

    def manual_dial(
        self, agent_id: str, raw_number: str, *, campaign: str | None, fields: dict[str, str]
    ) -> str:
        """Click-to-call: dial `raw_number` for the agent through a campaign they work (its caller
        id, its rules, its do-not-call lists); returns the attempt id."""
        names = self.campaigns_for(agent_id)
        name = (
            campaign
            or self._assigned.get(agent_id)
            or next(
                (n for n in names if self.entries[n].engine.run_state is RunState.RUNNING),
                names[0] if names else None,
            )
        )
        if name is None or name not in names:
            raise CampaignConflict(f"agent {agent_id} works no campaign to dial {raw_number} from")
        entry = self.entry(name)
        if not self.lines.is_up(agent_id):
            self.lines.want(agent_id, WANT, True)
            raise CampaignConflict("your line is not connected yet: answer your phone, then dial again")
        try:
            number, zones = normalise(raw_number, entry.config.default_region)
        except ValueError as err:
            raise CampaignConflict(str(err)) from None
        engine = entry.engine
        now = self.clock()
        if self._assigned.get(agent_id) != name:
            if agent_id in self._assigned or not self._free_for_campaigns(agent_id):
                raise CampaignConflict(f"agent {agent_id} is busy")
            self._apply(entry, engine.agent_ready(agent_id, now))
            self._assigned[agent_id] = name
        self._manual += 1
        lead = Lead(
            id=f"manual:{self.id_prefix}{self._manual}",
            numbers=(number,),
            time_zones=zones or ("UTC",),
            fields=fields,
            list_name=MANUAL_LIST,
            seq=len(engine.leads.leads),
        )
        before = set(engine.attempts)
        try:
            commands = engine.manual_dial(agent_id, lead, now)
        except NotAllowed as err:
            self._apply(entry, [])
            self.review(agent_id)
            raise CampaignConflict(str(err)) from None
        self.publish(
            LeadsImported(
                name,
                now,
                MANUAL_LIST,
                (LeadRecord(lead.id, lead.numbers, lead.time_zones, dict(fields), 0, lead.seq, "new"),),
                1,
                0,
                0,
                f"agent:{agent_id}",
            )
        )
        self._apply(entry, commands)
        (attempt_id,) = set(engine.attempts) - before
        return attempt_id

    # -- what the desktop and the monitor show ---------------------------------------------------

    def lead_data(self, entry: Entry, lead_id: str) -> dict[str, Any]:
        lead = entry.engine.leads.get(lead_id)
        return {
            "id": lead.id,
            "number": lead.numbers[lead.number_index % len(lead.numbers)] if lead.numbers else "",
            "numbers": list(lead.numbers),
            "time_zones": list(lead.time_zones),
            "fields": dict(lead.fields),
            "attempts": lead.attempts,
            "last_result": lead.last_result.value if lead.last_result else None,
        }

    def outcomes(self, entry: Entry) -> list[dict[str, Any]]:
        return [
            {
                "code": o.code,
                "label": o.label,
                "final": o.final,
                "refusal": o.refusal,
                "dnc": o.dnc,
                "callback": o.retry_after is not None and not o.final,
            }
            for o in entry.engine.campaign.outcome_codes
        ]

    def desk(self, agent_id: str) -> dict[str, Any]:
        """Where the agent stands in the campaigns (for a desktop that reloads)."""
        line = self.lines.line(agent_id)
        data: dict[str, Any] = {
            "agent_id": agent_id,
            "campaigns": self.campaigns_for(agent_id),
            "line": line.state.value if line is not None else "down",
            "persistent_line": self.lines.preference(agent_id),
            "campaign": None,
            "slot": "off",
            "preview": None,
            "attempt": None,
        }
        entry = self.campaign_of_agent(agent_id)
        if entry is None:
            return data
        agent = entry.engine.agents[agent_id]
        data.update(campaign=entry.config.name, slot=agent.slot.value, script=entry.config.script)
        data["outcomes"] = self.outcomes(entry)
        if agent.preview_lead is not None:
            data["preview"] = self.lead_data(entry, agent.preview_lead)
        if agent.attempt_id is not None and agent.attempt_id in entry.engine.attempts:
            attempt = entry.engine.attempts[agent.attempt_id]
            data["attempt"] = {
                "attempt_id": attempt.id,
                "state": attempt.state.value,
                "lead": self.lead_data(entry, attempt.lead_id),
                "connected_at": attempt.connected_at,
            }
        return data

    def tile(self, name: str) -> dict[str, Any]:
        entry = self.entry(name)
        now = self.clock()
        engine = entry.engine
        if entry.list_stats is None or now - entry.list_stats_at >= LIST_STATS_EVERY:
            entry.list_stats, entry.list_stats_at = engine.leads.stats(now), now
        while entry.dials and entry.dials[0] < now - HOUR:
            entry.dials.popleft()
        rate = len(entry.dials) if entry.dials else None
        snap = snapshot(engine, now, dials_per_hour=rate, lists=entry.list_stats)
        c = engine.compliance
        return {
            "campaign": name,
            "at": now,
            "state": snap.state,
            "mode": snap.mode,
            "chosen_mode": entry.config.mode,
            "mode_reason": snap.mode_reason,
            "agents": snap.agents,
            "agents_free": snap.agents_free,
            "agents_talking": snap.agents_talking,
            "lines_in_flight": snap.lines_in_flight,
            "lines_per_agent": round(snap.lines_per_agent, 3),
            "max_lines_per_agent": engine.campaign.max_lines_per_agent,
            "alpha": snap.alpha,
            "person_rate": snap.person_rate,
            "machine_rate": snap.machine_rate,
            "no_answer_rate": snap.no_answer_rate,
            "failed_rate": snap.failed_rate,
            "windows": [
                {"window": w.window, "live": w.live, "abandoned": w.abandoned, "rate": w.rate, "cap": w.cap}
                for w in snap.windows
            ],
            "cap": c.cap,
            "rule_set": engine.compliance.rules.name,
            "refusals": snap.refusals,
            "refusals_by_rule": dict(entry.refusals),
            "dials": snap.dials,
            "leads_left": snap.leads_left,
            "leads_total": entry.list_stats.total,
            "penetration": snap.penetration,
            "list_runs_out_in": snap.list_runs_out_in,
            "abandon_target": engine.campaign.abandon_target,
        }

    # -- agent availability (blending) ----------------------------------------------------------

    def on_fact(self, fact: Fact) -> None:
        """Bus subscriber: ACD facts about agents may make them free or busy for campaigns."""
        if isinstance(fact, AgentStatusChanged | AgentStateChanged):
            self.review(fact.agent_id)

    def _free_for_campaigns(self, agent_id: str) -> bool:
        view = self.acd.agent(agent_id)
        if view is None:
            return False
        ours = self._assigned.get(agent_id)
        return (
            view.status is AgentStatus.AVAILABLE
            and view.state is AgentState.IDLE
            and view.call_id is None
            and (view.engaged is None or (ours is not None and view.engaged == _tag(ours)))
            and self.lines.is_up(agent_id)
        )

    def review(self, agent_id: str) -> None:
        """Put the agent in a campaign, or take them out, after anything that may change it."""
        view = self.acd.agent(agent_id)
        if view is None:
            return
        skills = self.agent_skills.get(agent_id, {})
        active = [
            e
            for e in self.entries.values()
            if e.engine.run_state is not RunState.STOPPED and works_for(e.config, agent_id, skills)
        ]
        self.lines.want(agent_id, WANT, bool(active) and view.status is not AgentStatus.LOGGED_OUT)
        free = self._free_for_campaigns(agent_id)
        ours = self._assigned.get(agent_id)
        if ours is not None:
            entry = self.entries.get(ours)
            if entry is None:
                self._assigned.pop(agent_id, None)
            else:
                slot = entry.engine.agents[agent_id].slot
                if slot in (AgentSlot.ON_CALL, AgentSlot.WRAPUP):
                    return
                keep = free and entry.engine.run_state is RunState.RUNNING and entry in active
                if slot is not AgentSlot.OFF and keep:
                    return
                self._assigned.pop(agent_id, None)
                if slot is not AgentSlot.OFF:
                    self._apply(entry, entry.engine.agent_unavailable(agent_id, self.clock()))
        if not free or agent_id in self._assigned:
            return
        for entry in active:
            if entry.engine.run_state is RunState.RUNNING:
                self._assigned[agent_id] = entry.config.name
                self._apply(entry, entry.engine.agent_ready(agent_id, self.clock()))
                return

    def _review_all(self) -> None:
        for view in self.acd.agents():
            self.review(view.id)

    def _slot_changed(self, entry: Entry, fact: AgentSlotChanged) -> None:
        new = AgentSlot(fact.new)
        agent_id = fact.agent_id
        if new is AgentSlot.OFF:
            if self._assigned.get(agent_id) == entry.config.name:
                self._assigned.pop(agent_id, None)
            self._release(agent_id, entry)
            return
        self._assigned[agent_id] = entry.config.name
        if new is AgentSlot.WRAPUP:
            self._wrapup_since[agent_id] = fact.at
        if new in BUSY_SLOTS or self._holds(entry):
            self._engage(agent_id, entry)
        else:
            self._release(agent_id, entry)

    def _holds(self, entry: Entry) -> bool:
        """A campaign with priority over inbound keeps its ready agents while it has work."""
        engine = entry.engine
        if entry.config.inbound_priority or engine.run_state is not RunState.RUNNING:
            return False
        live = any(a.state is not AttemptState.ENDED for a in engine.attempts.values())
        return live or engine.leads.has_due(self.clock())

    def _engage(self, agent_id: str, entry: Entry) -> None:
        view = self.acd.agent(agent_id)
        if view is not None and view.engaged != _tag(entry.config.name):
            self.acd.engage(agent_id, _tag(entry.config.name))

    def _release(self, agent_id: str, entry: Entry) -> None:
        view = self.acd.agent(agent_id)
        if view is not None and view.engaged == _tag(entry.config.name):
            self.acd.release(agent_id)

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

    def _close_unconnected(self, entry: Entry, fact: AttemptEnded) -> None:
        """An agent given a person who was gone before the bridge has nothing to code."""
        if fact.agent_id is None or fact.connected_at is not None:
            return
        agent = entry.engine.agents.get(fact.agent_id)
        if agent is None or agent.slot is not AgentSlot.WRAPUP or agent.attempt_id != fact.attempt_id:
            return
        self._finish_wrapup(entry, fact.agent_id)

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


@dataclass(frozen=True, slots=True)
class DncReport:
    added: int
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def _tag(campaign: str) -> str:
    return f"campaign:{campaign}"


__all__ = ["GLOBAL", "CampaignConflict", "CampaignService", "DncReport", "Entry", "UnknownCampaign"]
