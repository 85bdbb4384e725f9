"""REST endpoints for call control: hangup, hold, transfers, consultation and wrap-up (the
supervisor's monitoring calls are in `web/monitor.py`).

Agents act only on the call they are connected to now (wrap-up: the call they just had);
supervisors act on any call. Authentication and the CSRF header are checked by the middleware.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from callserver.acd.control import CallControl, ControlError
from callserver.acd.model import AgentState
from callserver.acd.service import AcdService
from callserver.store.store import Store
from callserver.web.api import PRINCIPAL, json_error, read_json
from callserver.web.auth import Principal
from callserver.web.numbers import BadNumber, normalise
from callserver.wrapup import OutcomeBook, OutcomeList

NUMBER = re.compile(r"^\+?[0-9]{2,20}$")
MAX_EXTEND = 600.0  # seconds one request may add to a wrap-up (the queue's maximum still applies)
DEFAULT_EXTEND = 30.0
MAX_NOTE = 2000
# how long a wrap-up reply waits for the database; the fact is queued and kept either way
STORE_WAIT = 5.0

log = logging.getLogger("callserver.web.control")


class BadRequest(Exception):
    """Input that does not make sense; the message goes back as a 400."""


class ControlApi:
    def __init__(
        self,
        control: CallControl | None,
        service: AcdService,
        store: Store,
        outcomes: OutcomeBook,
        clock: Any,
        *,
        region: str = "FR",
        stored: Callable[[], Awaitable[None]] | None = None,
        wrapup_guard: Callable[[str, str | None], str | None] | None = None,
    ) -> None:
        self.control = control
        self.service = service
        self.store = store
        self.outcomes = outcomes
        self.clock = clock
        self.region = region  # numbers typed without + are read as numbers of this country
        self.stored = stored  # waits until the store holds every fact published so far
        # why an agent's wrap-up must wait (their dialogue script says to finish it first), or None
        self.wrapup_guard = wrapup_guard

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/outcomes", self.outcome_list),
            web.post("/api/calls/{call_id}/hangup", self.hangup),
            web.post("/api/calls/{call_id}/hold", self.hold),
            web.post("/api/calls/{call_id}/resume", self.resume),
            web.post("/api/calls/{call_id}/transfer", self.transfer),
            web.post("/api/calls/{call_id}/consult", self.consult),
            web.post("/api/calls/{call_id}/consult/complete", self.consult_complete),
            web.post("/api/calls/{call_id}/consult/cancel", self.consult_cancel),
            web.post("/api/calls/{call_id}/wrapup", self.wrapup),
            web.post("/api/calls/{call_id}/wrapup/draft", self.wrapup_draft),
            web.post("/api/agents/{agent_id}/wrapup/extend", self.extend_wrapup),
        ]

    async def outcome_list(self, request: web.Request) -> web.Response:
        """The outcome codes for a call (`?call_id=`: its queue's list), else the default list."""
        call_id = request.query.get("call_id")
        queue = request.query.get("queue")
        if call_id and queue is None:
            queue = await self._queue_of(call_id)
        return web.json_response(_list_view(self.outcomes.for_queue(queue)))

    async def _queue_of(self, call_id: str) -> str | None:
        live = self.service.call(call_id)
        if live is not None:
            return live.queue
        row = await self.store.call(call_id)
        return row.queue if row is not None else None

    # -- helpers ---------------------------------------------------------------------------

    def _control(self) -> CallControl:
        if self.control is None:
            raise ControlError("call control is not available on this server")
        return self.control

    def _own_call(self, request: web.Request) -> tuple[CallControl, str] | web.Response:
        """The control and the call id, if this principal may act on that call now."""
        control = self._control()
        call_id = request.match_info["call_id"]
        principal: Principal = request[PRINCIPAL]
        call = control.service.call(call_id)
        if call is None:
            return json_error(404, f"call {call_id} is not in progress")
        if not principal.is_supervisor and (
            principal.agent_id is None or call.agent_id != principal.agent_id
        ):
            return json_error(403, "agents may only act on their own call")
        return control, call_id

    async def _run(self, request: web.Request, action: str) -> web.Response:
        try:
            owned = self._own_call(request)
            if isinstance(owned, web.Response):
                return owned
            control, call_id = owned
            body = await read_json(request) if action in ("transfer", "consult") else {}
            result = await self._act(control, call_id, action, body)
        except BadRequest as err:
            return json_error(400, str(err))
        except ControlError as err:
            return json_error(err.status, str(err))
        return web.json_response({"ok": True, "call_id": call_id, **result})

    async def _act(
        self, control: CallControl, call_id: str, action: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        if action == "hangup":
            await control.hangup(call_id)
        elif action == "hold":
            await control.hold(call_id)
        elif action == "resume":
            await control.resume(call_id)
        elif action == "transfer":
            kind, target = self._targets(control, body, ("queue", "agent", "number"))
            await control.transfer(call_id, kind, target)
            return {"kind": kind, "target": target}
        elif action == "consult":
            kind, target = self._targets(control, body, ("agent", "number"))
            return {"leg_id": await control.consult(call_id, kind, target)}
        elif action == "consult/complete":
            await control.consult_complete(call_id)
        else:
            await control.consult_cancel(call_id)
        return {}

    @staticmethod
    def _target(control: CallControl, body: dict[str, Any], kinds: tuple[str, ...]) -> tuple[str, str]:
        kind, target = body.get("kind"), body.get("target")
        if kind not in kinds:
            raise BadRequest(f"'kind' must be one of: {', '.join(kinds)}")
        if not isinstance(target, str) or not target:
            raise BadRequest("'target' must be a non-empty string")
        if kind == "queue" and not control.service.has_queue(target):
            raise BadRequest(f"unknown queue {target!r}")
        if kind == "agent" and control.service.agent(target) is None:
            raise BadRequest(f"unknown agent {target!r}")
        return kind, target

    def _targets(self, control: CallControl, body: dict[str, Any], kinds: tuple[str, ...]) -> tuple[str, str]:
        """The transfer or consultation target, a typed number normalised to E.164."""
        kind, target = self._target(control, body, kinds)
        if kind == "number":
            try:
                target = normalise(target, self.region)
            except BadNumber as err:
                raise BadRequest(str(err)) from None
        return kind, target

    # -- handlers --------------------------------------------------------------------------

    async def hangup(self, request: web.Request) -> web.Response:
        return await self._run(request, "hangup")

    async def hold(self, request: web.Request) -> web.Response:
        return await self._run(request, "hold")

    async def resume(self, request: web.Request) -> web.Response:
        return await self._run(request, "resume")

    async def transfer(self, request: web.Request) -> web.Response:
        return await self._run(request, "transfer")

    async def consult(self, request: web.Request) -> web.Response:
        return await self._run(request, "consult")

    async def consult_complete(self, request: web.Request) -> web.Response:
        return await self._run(request, "consult/complete")

    async def consult_cancel(self, request: web.Request) -> web.Response:
        return await self._run(request, "consult/cancel")

    async def wrapup(self, request: web.Request) -> web.Response:
        """Record the outcome code and note (a CallWrappedUp fact); the agent's wrap-up then ends.

        The code must be in the list of the call's queue (and given, when that list requires one);
        a supervisor correcting a call may use a code of any list. The reply waits until the store
        has the fact, so the call history read next shows it.
        """
        call_id = request.match_info["call_id"]
        principal: Principal = request[PRINCIPAL]
        body = await read_json(request)
        outcome, note = body.get("outcome", ""), body.get("note", "")
        if not isinstance(outcome, str):
            return json_error(400, "'outcome' must be a string")
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            return json_error(400, f"'note' must be a string of at most {MAX_NOTE} characters")
        row = await self.store.call(call_id)
        if row is None and self.stored is not None:
            # the fact writer may not have reached this call's first facts yet
            await self._until_stored(call_id)
            row = await self.store.call(call_id)
        if row is None:
            return json_error(404, f"unknown call {call_id}")
        agent_id = self._wrapping_agent(call_id, row.agent_id)
        if not principal.is_supervisor and (principal.agent_id is None or principal.agent_id != agent_id):
            return json_error(403, "agents may only wrap up their own calls")
        refusal = (
            self.wrapup_guard(call_id, agent_id)
            if self.wrapup_guard and not principal.is_supervisor
            else None
        )
        if refusal is not None:
            return json_error(409, refusal)
        codes = self.outcomes.for_queue(row.queue)
        problem = codes.problem(outcome)
        if problem is not None and not (principal.is_supervisor and self.outcomes.knows(outcome)):
            return json_error(400, problem, outcomes=[c.code for c in codes.codes], required=codes.required)
        self.service.wrap_up(
            call_id,
            agent_id,
            outcome,
            note.strip(),
            principal.login,
            ends_wrapup=principal.agent_id == agent_id,
        )
        await self._until_stored(call_id)
        return web.json_response({"ok": True, "call_id": call_id, "outcome": outcome})

    async def wrapup_draft(self, request: web.Request) -> web.Response:
        """What the agent has chosen and typed so far: kept, and saved if the wrap-up time runs out."""
        call_id = request.match_info["call_id"]
        principal: Principal = request[PRINCIPAL]
        body = await read_json(request)
        outcome, note = body.get("outcome", ""), body.get("note", "")
        if not isinstance(outcome, str) or not isinstance(note, str) or len(note) > MAX_NOTE:
            return json_error(400, f"'outcome' and 'note' must be strings (note: at most {MAX_NOTE})")
        if principal.agent_id is None:
            return json_error(403, "only the agent wrapping the call up keeps a draft")
        if outcome and not self.outcomes.knows(outcome):
            return json_error(400, f"unknown outcome code {outcome!r}")
        if not self.service.save_wrapup_draft(principal.agent_id, call_id, outcome, note.strip()):
            return json_error(409, f"you are neither on call {call_id} nor wrapping it up")
        return web.json_response({"ok": True, "call_id": call_id})

    async def extend_wrapup(self, request: web.Request) -> web.Response:
        """More wrap-up time (`seconds`, default 30), never past the queue's maximum."""
        agent_id = request.match_info["agent_id"]
        principal: Principal = request[PRINCIPAL]
        if not principal.may_act_for(agent_id):
            return json_error(403, "you may only extend your own wrap-up")
        body = await read_json(request)
        seconds = body.get("seconds", DEFAULT_EXTEND)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= MAX_EXTEND:
            return json_error(400, f"'seconds' must be a number of seconds up to {MAX_EXTEND:.0f}")
        service = self.service
        if service.agent(agent_id) is None:
            return json_error(404, f"unknown agent {agent_id}")
        until = service.extend_wrapup(agent_id, float(seconds))
        if until is None:
            return json_error(409, f"agent {agent_id} is not in wrap-up")
        view = service.agent(agent_id)
        limit = view.wrapup_limit if view is not None else None
        return web.json_response({"ok": True, "agent_id": agent_id, "until": until, "limit": limit})

    async def _until_stored(self, call_id: str) -> None:
        if self.stored is None:
            return
        try:
            async with asyncio.timeout(STORE_WAIT):
                await self.stored()
        except TimeoutError:
            log.warning("wrap-up of call %s queued but not stored after %.0fs", call_id, STORE_WAIT)

    def _wrapping_agent(self, call_id: str, row_agent: str | None) -> str | None:
        """Who handled the call for wrap-up: the agent in wrap-up for it (a transferring agent
        is no longer on the row), else the agent on the row."""
        for agent in self.service.agents():
            if agent.state is AgentState.WRAPUP and agent.call_id == call_id:
                return agent.id
        return row_agent


def _list_view(codes: OutcomeList) -> dict[str, Any]:
    return {
        "list": codes.name,
        "required": codes.required,
        "outcomes": [c.code for c in codes.codes],
        "codes": [{"code": c.code, "label": c.label} for c in codes.codes],
    }
