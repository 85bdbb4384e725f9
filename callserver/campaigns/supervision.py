"""Supervisors' verbs on campaigns: create, change, start, pause, stop, change mode or target while
running; import lead lists (whole or not at all) and do-not-call numbers; the tile and compliance
meter of the monitor. Part of the campaign service (service.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..config import CampaignConfig
from ..facts.campaign import (
    AttemptEnded,
    CampaignSaved,
    DncAdded,
    DncImported,
    LeadRecord,
    LeadsImported,
)
from .core import HOUR, LIST_STATS_EVERY, CampaignConflict, CampaignCore, Entry, UnknownCampaign
from .engine import NotAllowed
from .history import Stored, restore
from .leads import MANUAL_LIST
from .lists import ColumnMapping, ImportReport, RowError, import_csv, normalise
from .model import (
    DialMode,
    RunState,
)
from .monitor import snapshot
from .specs import campaign_of

log = logging.getLogger("callserver.campaigns")


class Supervision(CampaignCore):
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

    # -- supervisors: campaigns -----------------------------------------------------------------

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
        entry.list_stats = None  # counted again for the next tile
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

    def tile(self, name: str) -> dict[str, Any]:
        entry = self.entry(name)
        now = self.clock()
        engine = entry.engine
        if entry.list_stats is None or now - entry.list_stats_at >= LIST_STATS_EVERY:
            entry.list_stats, entry.list_stats_at = engine.leads.stats(now), now
        while entry.dials and entry.dials[0] < now - HOUR:
            entry.dials.popleft()
        rate = None
        if entry.dials:  # dials per hour at the pace of the last hour (at least a minute's worth)
            rate = len(entry.dials) / max(60.0, now - entry.dials[0]) * HOUR
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


@dataclass(frozen=True, slots=True)
class DncReport:
    added: int
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors
