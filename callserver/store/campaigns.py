"""Reading back what the campaign facts wrote: campaigns with their leads and recent attempts (for
the start-up), the do-not-call lists, and the compliance report an auditor reads.

Writes happen only in `campaign_facts.py`, from facts; this repository only reads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from callserver.campaigns.history import PastAttempt, Stored, StoredCampaign, StoredDnc
from callserver.campaigns.model import DAY, Callback, Lead, LeadState
from callserver.store.models import (
    CampaignAttemptRow,
    CampaignLeadRow,
    CampaignRefusalRow,
    CampaignRow,
    DncRow,
)
from callserver.store.store import Store

HISTORY = 60 * DAY  # the longest a dial rule looks back (silence after a refusal)

REPORT_COLUMNS = (
    "attempt_id",
    "campaign",
    "lead_id",
    "number",
    "reserved_for",
    "dialed_at",
    "ringing_at",
    "answered_at",
    "amd",
    "amd_seconds",
    "person_at",
    "connected_at",
    "connect_wait_seconds",
    "agent_id",
    "ended_at",
    "result",
    "outcome",
    "abandoned",
    "info_message",
    "hangup_by",
)


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat(timespec="milliseconds")


def _past(row: CampaignAttemptRow) -> PastAttempt:
    return PastAttempt(
        id=row.id,
        lead_id=row.lead_id,
        number=row.number,
        dialed_at=row.dialed_at.timestamp(),
        answered_at=_epoch(row.answered_at),
        amd=row.amd,
        amd_duration=row.amd_duration,
        person_at=_epoch(row.person_at),
        connected_at=_epoch(row.connected_at),
        ended_at=_epoch(row.ended_at),
        coded_at=_epoch(row.coded_at),
        result=row.result,
        outcome=row.outcome,
        abandoned=row.abandoned,
    )


def _lead(row: CampaignLeadRow) -> Lead:
    # a lead stored while being dialled or previewed is dialable again (its attempt is closed)
    state = LeadState(row.state)
    if state in (LeadState.DIALING, LeadState.PREVIEWING):
        state = LeadState.QUEUED
    callback = None
    if state is LeadState.CALLBACK and row.callback_at is not None:
        callback = Callback(row.callback_at, row.callback_agent)
    elif state is LeadState.CALLBACK:
        state = LeadState.QUEUED
    return Lead(
        id=row.id,
        numbers=tuple(row.numbers),
        time_zones=tuple(row.time_zones),
        fields={str(k): str(v) for k, v in row.fields.items()},
        priority=row.priority,
        list_name=row.list_name,
        seq=row.seq,
        state=state,
        next_at=row.next_at,
        attempts=row.attempts,
        callback=callback,
    )


class CampaignStore:
    def __init__(self, store: Store) -> None:
        self._sessions = store.sessions

    async def load(self, now: float) -> Stored:
        """Every campaign with its leads and the attempts of the last 60 days, and the do-not-call
        lists: what the campaign service starts from."""
        since = datetime.fromtimestamp(now, UTC) - timedelta(seconds=HISTORY)
        campaigns: dict[str, StoredCampaign] = {}
        async with self._sessions() as s:
            rows = (await s.scalars(select(CampaignRow).order_by(CampaignRow.created_at))).all()
            for row in rows:
                leads = (
                    await s.scalars(
                        select(CampaignLeadRow)
                        .where(CampaignLeadRow.campaign == row.name)
                        .order_by(CampaignLeadRow.seq)
                    )
                ).all()
                attempts = (
                    await s.scalars(
                        select(CampaignAttemptRow).where(
                            CampaignAttemptRow.campaign == row.name, CampaignAttemptRow.dialed_at >= since
                        )
                    )
                ).all()
                opened = (
                    await s.scalars(
                        select(CampaignAttemptRow).where(
                            CampaignAttemptRow.campaign == row.name, CampaignAttemptRow.ended_at.is_(None)
                        )
                    )
                ).all()
                campaigns[row.name] = StoredCampaign(
                    settings=dict(row.settings),
                    state=row.state,
                    leads=[_lead(lead) for lead in leads],
                    attempts=[_past(a) for a in attempts if a.ended_at is not None],
                    open_attempts=[_past(a) for a in opened],
                )
            dnc = (await s.scalars(select(DncRow))).all()
        return Stored(
            campaigns,
            [StoredDnc(d.scope, d.number, d.added_at.timestamp(), d.source) for d in dnc],
        )

    async def attempt_count(self, campaign: str) -> tuple[int, int]:
        """(attempts stored, of which ended) for a campaign."""
        async with self._sessions() as s:
            total = await s.scalar(
                select(func.count())
                .select_from(CampaignAttemptRow)
                .where(CampaignAttemptRow.campaign == campaign)
            )
            ended = await s.scalar(
                select(func.count())
                .select_from(CampaignAttemptRow)
                .where(CampaignAttemptRow.campaign == campaign, CampaignAttemptRow.ended_at.is_not(None))
            )
        return int(total or 0), int(ended or 0)

    async def attempts(self, campaign: str, *, since: float | None = None) -> list[dict[str, object]]:
        """Attempt rows as the report shows them, oldest first."""
        query = select(CampaignAttemptRow).where(CampaignAttemptRow.campaign == campaign)
        if since is not None:
            query = query.where(CampaignAttemptRow.dialed_at >= datetime.fromtimestamp(since, UTC))
        async with self._sessions() as s:
            rows = (
                await s.scalars(query.order_by(CampaignAttemptRow.dialed_at, CampaignAttemptRow.id))
            ).all()
        return [_report_row(r) for r in rows]

    async def report_csv(self, campaign: str, *, since: float | None = None) -> str:
        """The compliance report: one row per dial, every time and decision of it (UTC, ISO 8601)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in await self.attempts(campaign, since=since):
            writer.writerow(row)
        return out.getvalue()

    async def refusals_csv(self, campaign: str, *, since: float | None = None) -> str:
        """Dials the rules refused at that moment: when, which lead and number, which rules, why."""
        query = select(CampaignRefusalRow).where(CampaignRefusalRow.campaign == campaign)
        if since is not None:
            query = query.where(CampaignRefusalRow.at >= datetime.fromtimestamp(since, UTC))
        async with self._sessions() as s:
            rows: Sequence[CampaignRefusalRow] = (
                await s.scalars(query.order_by(CampaignRefusalRow.at))
            ).all()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(("at", "campaign", "lead_id", "number", "rules", "reason", "allowed_from"))
        for r in rows:
            writer.writerow(
                (_iso(r.at), r.campaign, r.lead_id, r.number, " ".join(r.rules), r.reason, _iso(r.next_at))
            )
        return out.getvalue()


def _report_row(r: CampaignAttemptRow) -> dict[str, object]:
    return {
        "attempt_id": r.id,
        "campaign": r.campaign,
        "lead_id": r.lead_id,
        "number": r.number,
        "reserved_for": r.reserved_for or "",
        "dialed_at": _iso(r.dialed_at),
        "ringing_at": _iso(r.ringing_at),
        "answered_at": _iso(r.answered_at),
        "amd": r.amd or "",
        "amd_seconds": "" if r.amd_duration is None else f"{r.amd_duration:.3f}",
        "person_at": _iso(r.person_at),
        "connected_at": _iso(r.connected_at),
        "connect_wait_seconds": "" if r.connect_wait is None else f"{r.connect_wait:.3f}",
        "agent_id": r.agent_id or "",
        "ended_at": _iso(r.ended_at),
        "result": r.result or "",
        "outcome": r.outcome or "",
        "abandoned": "yes" if r.abandoned else "no",
        "info_message": "yes" if r.info_message else "no",
        "hangup_by": r.hangup_by or "",
    }
