"""Facts of outbound campaigns: what the campaign engine reports, in order, and what supervisors did
to campaigns, lists and do-not-call lists.

They travel on the same bus as the call facts and reach the same consumers (store, MQTT, live
channel, log line): the store writes campaigns, leads, attempts, callbacks and do-not-call entries
from these alone. Each carries the time `at` (Unix seconds) and the campaign it belongs to (""
for the global do-not-call list). An attempt id is the customer channel's uniqueid.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CampaignSaved:
    """A campaign was created or its settings changed (the whole definition, as the API shows it)."""

    campaign: str
    at: float
    settings: dict[str, object]
    by: str


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
class LeadRecord:
    """A lead as imported: what the store keeps to rebuild the lead after a restart."""

    id: str
    numbers: tuple[str, ...]
    time_zones: tuple[str, ...]
    fields: dict[str, str]
    priority: int
    seq: int
    state: str


@dataclass(frozen=True, slots=True)
class LeadsImported:
    """A list was imported into a campaign, whole (an import with any bad row is not a fact)."""

    campaign: str
    at: float
    list_name: str
    leads: tuple[LeadRecord, ...]
    rows: int
    duplicates: int
    dnc_hits: int
    by: str


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
    """A number added to a do-not-call list: the campaign's, or the global one (`campaign` "")."""

    campaign: str
    at: float
    number: str
    source: str  # "import", "supervisor", "agent:<id>", "outcome:<code>"


@dataclass(frozen=True, slots=True)
class DncImported:
    """Numbers imported into a do-not-call list at once (`campaign` "" for the global one)."""

    campaign: str
    at: float
    numbers: tuple[str, ...]
    source: str


CampaignFact = (
    CampaignSaved
    | CampaignStateChanged
    | CampaignModeChanged
    | LeadsImported
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
    | DncImported
)
