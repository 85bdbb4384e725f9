"""What a campaign knew before a restart, rebuilt from its stored attempts: the abandon meter over
the legal window, what the pacer had learnt (answer mix, times), and each lead's past dials as the
compliance rules read them. Pure: the store reads the rows, this folds them in, in time order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .engine import CampaignEngine
from .model import AttemptResult, AttemptSummary, Lead, LeadState
from .stats import Fate


@dataclass(frozen=True, slots=True)
class PastAttempt:
    """One stored attempt (times in epoch seconds; None where it did not happen)."""

    id: str
    lead_id: str
    number: str
    dialed_at: float
    answered_at: float | None
    amd: str | None
    amd_duration: float | None
    person_at: float | None
    connected_at: float | None
    ended_at: float | None
    coded_at: float | None
    result: str | None
    outcome: str | None
    abandoned: bool


@dataclass(frozen=True, slots=True)
class StoredCampaign:
    """A campaign as the store has it: its definition, run state, leads and recent attempts."""

    settings: dict[str, object]
    state: str
    leads: list[Lead]
    attempts: list[PastAttempt]  # ended, over the last 60 days (the longest rule looks that far)
    open_attempts: list[PastAttempt]  # dialled and never ended: the server stopped meanwhile


@dataclass(frozen=True, slots=True)
class StoredDnc:
    scope: str
    number: str
    added_at: float
    source: str


@dataclass(frozen=True, slots=True)
class Stored:
    campaigns: dict[str, StoredCampaign]
    dnc: list[StoredDnc]


def _fate(a: PastAttempt) -> tuple[Fate, float] | None:
    end = a.ended_at if a.ended_at is not None else a.dialed_at
    if a.person_at is not None:
        return Fate.NEED, a.person_at - a.dialed_at
    if a.amd == "machine":
        return Fate.MACHINE, (a.answered_at or end) - a.dialed_at
    if a.result == AttemptResult.NO_ANSWER:
        return Fate.NO_ANSWER, end - a.dialed_at
    if a.result in (AttemptResult.BUSY, AttemptResult.FAILED, AttemptResult.INVALID):
        return Fate.FAILED, end - a.dialed_at
    return None


def restore(engine: CampaignEngine, attempts: Iterable[PastAttempt], now: float) -> int:
    """Fold past attempts into the engine's meter, pacing statistics and leads' histories;
    returns how many counted on the meter (those inside its window)."""
    c = engine.compliance
    meter, stats = c.meter, engine.stats
    fp = engine.campaign.amd.false_positive_estimate
    count_fp = c.count_false_positives and engine.campaign.amd.enabled and 0.0 < fp < 1.0
    horizon = now - meter.longest
    counted = 0
    refusals = {o.code for o in engine.campaign.outcome_codes if o.refusal}
    ordered = sorted(attempts, key=lambda x: x.dialed_at)
    for a in ordered:
        if a.amd is not None:
            engine.amd_seen[1 if a.amd == "machine" else 0] += 1.0
        if a.amd == "machine":
            engine.machines_decided += 1.0
            engine.machines_connected += a.connected_at is not None
    humans, machines = engine.amd_seen
    spared = min(1.0, fp / (1.0 - fp) * humans / max(1.0, machines)) if count_fp else 0.0
    for a in ordered:
        lead = engine.leads.leads.get(a.lead_id)
        if lead is not None and a.result is not None:
            _into_lead(lead, a, AttemptResult(a.result), a.outcome in refusals)
        if a.dialed_at >= horizon:
            counted += 1
            if a.person_at is not None:
                meter.live_answer(a.person_at)
                if count_fp and a.amd in ("human", "notsure"):
                    meter.false_positives(a.person_at, fp / (1.0 - fp))
            if count_fp and a.amd == "machine" and a.connected_at is not None:
                meter.spared(a.connected_at, spared)
            if a.abandoned:
                meter.abandoned(a.ended_at if a.ended_at is not None else a.person_at or a.dialed_at)
        fate = _fate(a)
        if fate is not None:
            stats.dial_fate(*fate)
        if a.amd is not None and a.amd_duration is not None:
            stats.amd_decision(a.amd != "machine", a.amd_duration)
        if a.connected_at is not None and a.ended_at is not None and a.coded_at is not None:
            stats.call_handled(a.ended_at - a.connected_at, max(0.0, a.coded_at - a.ended_at))
    stats.refresh(force=True)
    return counted


def _into_lead(lead: Lead, a: PastAttempt, result: AttemptResult, refusal: bool) -> None:
    lead.history.append(AttemptSummary(a.dialed_at, a.number, result, a.abandoned, refusal))
    if lead.last_attempt_at is None or a.dialed_at >= lead.last_attempt_at:
        lead.last_attempt_at = a.dialed_at
        lead.last_result = result
        lead.last_outcome = a.outcome
    lead.result_counts[result] = lead.result_counts.get(result, 0) + 1
    if result is AttemptResult.INVALID and len(lead.numbers) > 1 and a.number in lead.numbers:
        lead.numbers = tuple(n for n in lead.numbers if n != a.number)


def stored_state(state: str) -> LeadState:
    """The state a stored lead starts in again: one being dialled or previewed when the server
    stopped is dialable again (its attempt, if any, is closed in the store)."""
    value = LeadState(state)
    return LeadState.QUEUED if value in (LeadState.DIALING, LeadState.PREVIEWING) else value
