"""Agents' verbs on campaigns: dial or skip the previewed lead, code a call (with a callback at the
lead's local time, or a do-not-call entry), hang up, dial a number by hand, and what their
desktop shows. Part of the campaign service (service.py)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ..facts.campaign import (
    AttemptEnded,
    LeadRecord,
    LeadsImported,
)
from ..pbx.actions import PbxError
from .core import WANT, CampaignConflict, CampaignCore, Entry
from .engine import NotAllowed
from .leads import MANUAL_LIST, local_time_to_epoch
from .lists import normalise
from .model import (
    AgentSlot,
    AttemptState,
    Callback,
    Lead,
    RunState,
)
from .specs import works_for

log = logging.getLogger("callserver.campaigns")


class Desk(CampaignCore):
    # -- agents ---------------------------------------------------------------------------------

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

    def _close_unconnected(self, entry: Entry, fact: AttemptEnded) -> None:
        """An agent given a person who was gone before the bridge has nothing to code."""
        if fact.agent_id is None or fact.connected_at is not None:
            return
        agent = entry.engine.agents.get(fact.agent_id)
        if agent is None or agent.slot is not AgentSlot.WRAPUP or agent.attempt_id != fact.attempt_id:
            return
        self._finish_wrapup(entry, fact.agent_id)
