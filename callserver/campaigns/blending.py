"""Blending: which agents a campaign may use now, and what the ACD must know of them.

The ACD's facts and views say who is free (logged in, available, idle, no call, their persistent
line up); a free agent goes to the first running campaign they work. Every agent a campaign
reserves, connects or has in wrap-up is engaged in the ACD (`AcdService.engage`), so no inbound
call is offered to them meanwhile; a ready agent stays free for inbound calls when inbound has
priority, and the campaign hears at once when the ACD takes them. Part of the campaign service.
"""

from __future__ import annotations

import logging

from ..acd.model import AgentState, AgentStatus
from ..facts.campaign import (
    AgentSlotChanged,
)
from ..facts.model import AgentStateChanged, AgentStatusChanged, Fact
from .core import BUSY_SLOTS, WANT, CampaignCore, Entry, _tag
from .model import (
    AgentSlot,
    AttemptState,
    RunState,
)
from .specs import works_for

log = logging.getLogger("callserver.campaigns")


class Blending(CampaignCore):
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
        if not self.entries and agent_id not in self._assigned:
            # no campaign at all (most inbound centres): nothing to join, no line to keep, and
            # no view of the agent to build on every one of their facts
            self.lines.want(agent_id, WANT, False)
            return
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
