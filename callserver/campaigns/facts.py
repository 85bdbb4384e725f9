"""Facts the campaign engine reports, in order: the one write path for attempts, leads and modes.

They are defined on the ground floor (`callserver.facts.campaign`), beside the call facts, so the
bus and every consumer know them; this module names the ones the engine reports. The store writes
an attempt row from AttemptStarted..AttemptEnded/AttemptCoded, the monitor and the compliance
meter read them; all carry the engine time `at` (epoch seconds).
"""

from __future__ import annotations

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
    CampaignStateChanged,
    DialRefused,
    DncAdded,
    LeadUpdated,
    PreviewOffered,
    PreviewSkipped,
)

Fact = CampaignFact

__all__ = [
    "AgentSlotChanged",
    "AttemptAmd",
    "AttemptAnswered",
    "AttemptCoded",
    "AttemptConnected",
    "AttemptEnded",
    "AttemptRinging",
    "AttemptStarted",
    "CallbackBooked",
    "CampaignModeChanged",
    "CampaignStateChanged",
    "DialRefused",
    "DncAdded",
    "Fact",
    "LeadUpdated",
    "PreviewOffered",
    "PreviewSkipped",
]
