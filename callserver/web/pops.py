"""Screen-pops: who is calling (customer matches by caller number), which queue, how long, what
the IVR learnt (language, menu choices, digits typed, self-service), and the contact history
(calls, and dialogue-script runs with their answers: an agent's or the customer's own on the web).

A pop is captured from the engine at the moment of the offer (the call may be gone a second later)
and completed with the customers the caller's number matched when the call arrived (no second
search) and their history from the store. Pops are cached per call so the agent keeps theirs
through wrap-up, and the customers in a pop are the ones the agent may then edit. The history never
lists the call being popped (nor, for a voicemail task, the call that left the message), and names
agents.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from callserver.acd.service import AcdService
from callserver.inbound.matches import CallerMatches
from callserver.ivr.summary import IVR_KEY
from callserver.store.records import CallRecord, CustomerRecord
from callserver.store.store import Store
from callserver.web.script_views import run_json

Json = dict[str, Any]
# the call an item of work comes from, when it is not a call itself (a voicemail task: the call
# that left the message); None when there is none
OriginOf = Callable[[str], Awaitable[str | None]]


@dataclass(slots=True)
class PopEntry:
    call_id: str
    agent_id: str | None
    data: Json
    customer_ids: set[int] = field(default_factory=set)


def customer_view(c: CustomerRecord) -> Json:
    return {
        "id": c.id,
        "name": c.name,
        "phones": list(c.phones),
        "account": c.account,
        "email": c.email,
        "language": c.language,
        "vip": c.vip,
        "notes": c.notes,
        "updated_at": c.updated_at.isoformat(),
    }


def history_view(r: CallRecord, agent_name: Callable[[str], str] | None = None) -> Json:
    return {
        "call_id": r.id,
        "arrived_at": r.arrived_at.isoformat(),
        "queue": r.queue,
        "outcome": r.outcome,
        "agent_id": r.agent_id,
        "agent_name": (agent_name or str)(r.agent_id) if r.agent_id is not None else None,
        "wait": r.wait,
        "wrapup_outcome": r.wrapup_outcome,
        "wrapup_note": r.wrapup_note,
    }


class Pops:
    def __init__(
        self,
        acd: AcdService,
        store: Store,
        clock: Callable[[], float],
        *,
        history: int = 10,
        keep: int = 500,
        matches: CallerMatches | None = None,
        origin_of: OriginOf | None = None,
    ) -> None:
        self._acd = acd
        self._origin_of = origin_of
        self._store = store
        self._clock = clock
        self._matches = matches
        self._history = history
        self._keep = keep
        self._entries: OrderedDict[str, PopEntry] = OrderedDict()

    def capture(self, call_id: str) -> Json | None:
        """What the engine knows of the call now; None when the call is already gone."""
        call = self._acd.call(call_id)
        if call is None:
            return None
        learnt = call.data.get(IVR_KEY)
        return {
            "call_id": call.id,
            "agent_id": call.agent_id,
            "queue": call.queue,
            "caller_num": call.caller_num,
            "caller_name": call.caller_name,
            "arrived_at": call.arrived_at,
            "language": call.data.get("call.language") or call.data.get("customer.language") or None,
            "ivr": dict(learnt) if isinstance(learnt, dict) else None,
        }

    def agent_name(self, agent_id: str) -> str:
        """The agent's name as configured; an agent no longer configured keeps their id."""
        agent = self._acd.agent(agent_id)
        return agent.name if agent is not None and agent.name else agent_id

    async def complete(self, base: Json, *, fresh: bool = False) -> PopEntry:
        """Add customer matches and their history, store the pop in the cache and return it.

        The matches are those found when the call arrived, unless `fresh` (someone asks for the pop
        again, perhaps after editing a customer) or the call was not looked up then.
        """
        known = None if fresh or self._matches is None else self._matches.get(base["call_id"])
        if known is not None:
            customers = list(known)
        elif base["caller_num"]:
            customers = await self._store.find_customers_by_number(base["caller_num"])
        else:
            customers = []
        views: list[Json] = []
        exclude = [base["call_id"]]
        origin = await self._origin_of(base["call_id"]) if self._origin_of is not None else None
        if origin is not None:
            exclude.append(origin)
        # the history ends where this call began (the engine's arrival time: the store may not
        # hold this call's row yet), so a later call of the same customer is never in it
        until = datetime.fromtimestamp(base["arrived_at"], UTC)
        histories = await self._store.contact_histories(
            [c.id for c in customers], limit=self._history, until=until, exclude=exclude
        )
        for customer in customers:
            view = customer_view(customer)
            history = histories[customer.id]
            view["history"] = [history_view(r, self.agent_name) for r in history.calls]
            view["scripts"] = [run_json(r) for r in history.runs if r.call_id != base["call_id"]]
            views.append(view)
        match = "none" if not customers else "one" if len(customers) == 1 else "several"
        data = dict(
            base, match=match, customers=views, wait=round(max(0.0, self._clock() - base["arrived_at"]), 3)
        )
        entry = PopEntry(base["call_id"], base["agent_id"], data, {c.id for c in customers})
        previous = self._entries.pop(entry.call_id, None)
        if previous is not None:
            entry.customer_ids |= previous.customer_ids
        self._entries[entry.call_id] = entry
        while len(self._entries) > self._keep:
            self._entries.popitem(last=False)
        return entry

    async def for_call(self, call_id: str) -> PopEntry | None:
        """A fresh pop while the call is live, else the cached one (wrap-up), else None."""
        base = self.capture(call_id)
        if base is not None:
            return await self.complete(base, fresh=True)
        return self._entries.get(call_id)

    def cached(self, call_id: str) -> PopEntry | None:
        return self._entries.get(call_id)

    def current_for_agent(self, agent_id: str) -> PopEntry | None:
        agent = self._acd.agent(agent_id)
        if agent is None or agent.call_id is None:
            return None
        return self._entries.get(agent.call_id)

    def agent_owns(self, agent_id: str, call_id: str) -> bool:
        """The call is offered to, talking with, or in wrap-up with this agent."""
        call = self._acd.call(call_id)
        if call is not None and call.agent_id == agent_id:
            return True
        agent = self._acd.agent(agent_id)
        return agent is not None and agent.call_id == call_id

    def agent_may_edit(self, agent_id: str, customer_id: int) -> bool:
        entry = self.current_for_agent(agent_id)
        return entry is not None and customer_id in entry.customer_ids

    def note_created(self, agent_id: str, customer_id: int) -> None:
        entry = self.current_for_agent(agent_id)
        if entry is not None:
            entry.customer_ids.add(customer_id)
