"""Campaign facts as rows: campaigns, lists and leads, attempts, callbacks, refusals, do-not-call.

Called by `store/facts.py` (the one fact mapping) inside its transaction. Like the call handlers,
each tolerates repeats and gaps: a fact about an attempt or campaign the store never saw makes the
row on the spot, a list imported twice is kept once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import assert_never

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from callserver.facts.campaign import (
    AgentSlotChanged,
    AttemptAmd,
    AttemptAnswered,
    AttemptCoded,
    AttemptConnected,
    AttemptEnded,
    AttemptRinging,
    AttemptStarted,
    CallbackBooked,
    CampaignFact,
    CampaignModeChanged,
    CampaignSaved,
    CampaignStateChanged,
    DialRefused,
    DncAdded,
    DncImported,
    LeadsImported,
    LeadUpdated,
    PreviewOffered,
    PreviewSkipped,
)
from callserver.store.models import (
    CampaignAttemptRow,
    CampaignCallbackRow,
    CampaignLeadRow,
    CampaignListRow,
    CampaignRefusalRow,
    CampaignRow,
    DncRow,
    utc,
)

log = logging.getLogger("callserver.store.campaigns")

INSERT_CHUNK = 5000  # rows per INSERT of a list (SQLite allows 32,766 parameters per statement)


def summary_of(fact: LeadsImported) -> dict[str, object]:
    """What the fact log keeps of an import: the figures, not every lead (those are rows)."""
    return {
        "campaign": fact.campaign,
        "at": fact.at,
        "list_name": fact.list_name,
        "leads": len(fact.leads),
        "rows": fact.rows,
        "duplicates": fact.duplicates,
        "dnc_hits": fact.dnc_hits,
        "by": fact.by,
    }


async def _campaign(session: AsyncSession, name: str, at: float) -> CampaignRow:
    row = await session.get(CampaignRow, name)
    if row is None:
        row = CampaignRow(
            name=name, settings={}, state="stopped", mode="", created_at=utc(at), updated_at=utc(at)
        )
        session.add(row)
    return row


async def _attempt(session: AsyncSession, attempt_id: str, campaign: str, at: float) -> CampaignAttemptRow:
    row = await session.get(CampaignAttemptRow, attempt_id)
    if row is None:
        row = CampaignAttemptRow(
            id=attempt_id, campaign=campaign, dialed_at=utc(at), abandoned=False, info_message=False
        )
        session.add(row)
    return row


def _at(value: float | None) -> datetime | None:
    return None if value is None else utc(value)


async def _saved(session: AsyncSession, f: CampaignSaved) -> None:
    row = await _campaign(session, f.campaign, f.at)
    row.settings = dict(f.settings)
    row.mode = row.mode or str(f.settings.get("mode", ""))
    row.updated_at = utc(f.at)
    row.updated_by = f.by


async def _imported(session: AsyncSession, f: LeadsImported) -> None:
    await _campaign(session, f.campaign, f.at)
    listed = await session.scalar(
        select(CampaignListRow).where(
            CampaignListRow.campaign == f.campaign, CampaignListRow.name == f.list_name
        )
    )
    leads = list(f.leads)
    if listed is None:
        session.add(
            CampaignListRow(
                campaign=f.campaign,
                name=f.list_name,
                imported_at=utc(f.at),
                rows=f.rows,
                leads=len(f.leads),
                duplicates=f.duplicates,
                dnc_hits=f.dnc_hits,
                imported_by=f.by,
            )
        )
    else:
        # a list that grows (leads dialled by hand) or a fact applied twice: new leads only
        listed.rows += f.rows
        listed.leads += len(f.leads)
        known: set[str] = set()
        ids = [lead.id for lead in leads]
        for start in range(0, len(ids), 500):
            known |= set(
                await session.scalars(
                    select(CampaignLeadRow.id).where(
                        CampaignLeadRow.campaign == f.campaign,
                        CampaignLeadRow.id.in_(ids[start : start + 500]),
                    )
                )
            )
        leads = [lead for lead in leads if lead.id not in known]
    rows = [
        {
            "campaign": f.campaign,
            "id": lead.id,
            "list_name": f.list_name,
            "numbers": list(lead.numbers),
            "time_zones": list(lead.time_zones),
            "fields": dict(lead.fields),
            "priority": lead.priority,
            "seq": lead.seq,
            "state": lead.state,
            "next_at": 0.0,
            "attempts": 0,
        }
        for lead in leads
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(CampaignLeadRow), rows[start : start + INSERT_CHUNK])


async def _lead_updated(session: AsyncSession, f: LeadUpdated) -> None:
    lead = await session.get(CampaignLeadRow, (f.campaign, f.lead_id))
    if lead is None:
        log.warning("campaign %s: update of unknown lead %s kept in the log only", f.campaign, f.lead_id)
        return
    lead.state = f.state
    lead.next_at = f.next_at
    lead.attempts = f.attempts
    lead.last_result = f.last_result
    if f.state != "callback":
        lead.callback_at = lead.callback_agent = None


async def _ended(session: AsyncSession, f: AttemptEnded) -> None:
    row = await _attempt(session, f.attempt_id, f.campaign, f.dialed_at)
    row.lead_id, row.number = f.lead_id, f.number
    row.dialed_at = utc(f.dialed_at)
    row.ringing_at = _at(f.ringing_at)
    row.answered_at = _at(f.answered_at)
    row.amd, row.amd_duration = f.amd, f.amd_duration
    row.person_at = _at(f.person_at)
    row.connected_at = _at(f.connected_at)
    if f.connected_at is not None and f.person_at is not None:
        row.connect_wait = f.connected_at - f.person_at
    row.agent_id = f.agent_id or row.agent_id
    row.ended_at = utc(f.at)
    row.result = f.result
    row.abandoned, row.info_message = f.abandoned, f.info_message
    row.hangup_by = f.hangup_by


async def _callback(session: AsyncSession, f: CallbackBooked) -> None:
    session.add(
        CampaignCallbackRow(
            campaign=f.campaign,
            lead_id=f.lead_id,
            callback_at=utc(f.callback_at),
            agent_id=f.agent_id,
            booked_at=utc(f.at),
        )
    )
    lead = await session.get(CampaignLeadRow, (f.campaign, f.lead_id))
    if lead is not None:
        lead.state = "callback"
        lead.callback_at, lead.callback_agent = f.callback_at, f.agent_id


async def _dnc(session: AsyncSession, scope: str, numbers: tuple[str, ...], at: float, source: str) -> None:
    have = set(
        await session.scalars(select(DncRow.number).where(DncRow.scope == scope, DncRow.number.in_(numbers)))
    )
    fresh = [n for n in dict.fromkeys(numbers) if n not in have]
    rows = [{"scope": scope, "number": n, "added_at": utc(at), "source": source} for n in fresh]
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(DncRow), rows[start : start + INSERT_CHUNK])


async def apply_campaign_fact(session: AsyncSession, fact: CampaignFact) -> None:
    """Update the campaign rows one fact concerns, inside the caller's transaction."""
    match fact:
        case CampaignSaved():
            await _saved(session, fact)
        case CampaignStateChanged():
            (await _campaign(session, fact.campaign, fact.at)).state = fact.new
        case CampaignModeChanged():
            (await _campaign(session, fact.campaign, fact.at)).mode = fact.new
        case LeadsImported():
            await _imported(session, fact)
        case AttemptStarted():
            row = await _attempt(session, fact.attempt_id, fact.campaign, fact.at)
            row.lead_id, row.number, row.reserved_for = fact.lead_id, fact.number, fact.agent_id
            row.dialed_at = utc(fact.at)
        case AttemptRinging():
            (await _attempt(session, fact.attempt_id, fact.campaign, fact.at)).ringing_at = utc(fact.at)
        case AttemptAnswered():
            (await _attempt(session, fact.attempt_id, fact.campaign, fact.at)).answered_at = utc(fact.at)
        case AttemptAmd():
            row = await _attempt(session, fact.attempt_id, fact.campaign, fact.at)
            row.amd, row.amd_duration = fact.decision, fact.duration
        case AttemptConnected():
            row = await _attempt(session, fact.attempt_id, fact.campaign, fact.at)
            row.connected_at, row.connect_wait, row.agent_id = utc(fact.at), fact.wait, fact.agent_id
        case AttemptEnded():
            await _ended(session, fact)
        case AttemptCoded():
            row = await _attempt(session, fact.attempt_id, fact.campaign, fact.at)
            row.outcome, row.coded_at = fact.outcome, utc(fact.at)
            row.agent_id = row.agent_id or fact.agent_id
        case LeadUpdated():
            await _lead_updated(session, fact)
        case DialRefused():
            session.add(
                CampaignRefusalRow(
                    campaign=fact.campaign,
                    at=utc(fact.at),
                    lead_id=fact.lead_id,
                    number=fact.number,
                    rules=list(fact.rules),
                    reason=fact.reason,
                    next_at=_at(fact.next_at),
                )
            )
        case CallbackBooked():
            await _callback(session, fact)
        case DncAdded():
            await _dnc(session, fact.campaign, (fact.number,), fact.at, fact.source)
        case DncImported():
            await _dnc(session, fact.campaign, fact.numbers, fact.at, fact.source)
        case PreviewOffered() | PreviewSkipped() | AgentSlotChanged():
            pass  # only in the fact log
        case _:
            assert_never(fact)
