"""Facts the campaign engine reports, in order: the one write path for attempts, leads and modes.

The store writes an attempt row from AttemptStarted..AttemptEnded/AttemptCoded, the monitor and
the compliance meter read them; all carry the engine time `at` (epoch seconds).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CampaignStateChanged:
    campaign: str
    at: float
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class CampaignModeChanged:
    """How the campaign dials changed: by the supervisor, or by the pacer's guard (with why)."""

    campaign: str
    at: float
    old: str
    new: str
    reason: str


@dataclass(frozen=True, slots=True)
class AttemptStarted:
    attempt_id: str
    campaign: str
    at: float
    lead_id: str
    number: str
    agent_id: str | None  # reserved for this agent


@dataclass(frozen=True, slots=True)
class AttemptRinging:
    attempt_id: str
    campaign: str
    at: float


@dataclass(frozen=True, slots=True)
class AttemptAnswered:
    attempt_id: str
    campaign: str
    at: float


@dataclass(frozen=True, slots=True)
class AttemptAmd:
    attempt_id: str
    campaign: str
    at: float
    decision: str
    duration: float


@dataclass(frozen=True, slots=True)
class AttemptConnected:
    attempt_id: str
    campaign: str
    at: float
    agent_id: str
    lead_id: str
    wait: float  # seconds from the person being there to the agent on the line


@dataclass(frozen=True, slots=True)
class AttemptEnded:
    """The customer's channel is gone: the whole record of the dial (a compliance report row)."""

    attempt_id: str
    campaign: str
    at: float
    lead_id: str
    number: str
    result: str
    dialed_at: float
    ringing_at: float | None
    answered_at: float | None
    amd: str | None
    amd_duration: float | None
    person_at: float | None
    connected_at: float | None
    agent_id: str | None
    abandoned: bool
    info_message: bool
    hangup_by: str | None


@dataclass(frozen=True, slots=True)
class AttemptCoded:
    """The agent's outcome code for a conversation (after the call, in wrap-up)."""

    attempt_id: str
    campaign: str
    at: float
    agent_id: str
    outcome: str


@dataclass(frozen=True, slots=True)
class LeadUpdated:
    lead_id: str
    campaign: str
    at: float
    state: str
    next_at: float
    attempts: int
    last_result: str | None


@dataclass(frozen=True, slots=True)
class DialRefused:
    """A lead the rules did not let us dial now (counted on the compliance meter)."""

    campaign: str
    at: float
    lead_id: str
    number: str
    rules: tuple[str, ...]
    reason: str
    next_at: float | None


@dataclass(frozen=True, slots=True)
class CallbackBooked:
    lead_id: str
    campaign: str
    at: float
    callback_at: float
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class PreviewOffered:
    agent_id: str
    campaign: str
    at: float
    lead_id: str


@dataclass(frozen=True, slots=True)
class PreviewSkipped:
    agent_id: str
    campaign: str
    at: float
    lead_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentSlotChanged:
    """What the campaign does with an agent (reserved, on call...): the ACD skips reserved agents."""

    agent_id: str
    campaign: str
    at: float
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class DncAdded:
    number: str
    scope: str  # "" global, else the campaign
    at: float
    source: str


Fact = (
    CampaignStateChanged
    | CampaignModeChanged
    | AttemptStarted
    | AttemptRinging
    | AttemptAnswered
    | AttemptAmd
    | AttemptConnected
    | AttemptEnded
    | AttemptCoded
    | LeadUpdated
    | DialRefused
    | CallbackBooked
    | PreviewOffered
    | PreviewSkipped
    | AgentSlotChanged
    | DncAdded
)
