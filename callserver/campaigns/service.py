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

from .blending import Blending
from .core import CampaignConflict, Entry, UnknownCampaign
from .desk import Desk
from .supervision import DncReport, Supervision


class CampaignService(Supervision, Desk, Blending):
    """Outbound campaigns for the rest of callserver: see the module docstring and the parts."""


__all__ = ["CampaignConflict", "CampaignService", "DncReport", "Entry", "UnknownCampaign"]
