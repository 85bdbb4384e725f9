"""REST endpoints for call control: hangup, hold, transfers, consultation and wrap-up (the
supervisor's monitoring calls are in `web/monitor.py`).

Agents act only on the call they are connected to now (wrap-up: the call they just had);
supervisors act on any call. Authentication and the CSRF header are checked by the middleware.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from callserver.acd.control import CallControl, ControlError
from callserver.acd.model import AgentState
from callserver.facts.model import CallWrappedUp, Fact
from callserver.store.store import Store
from callserver.web.api import PRINCIPAL, json_error, read_json
from callserver.web.auth import Principal

NUMBER = re.compile(r"^\+?[0-9]{2,20}$")
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
        store: Store,
        outcome_codes: Sequence[str],
        clock: Any,
        *,
        publish: Callable[[Fact], None],
        stored: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.control = control
        self.store = store
        self.outcome_codes = tuple(outcome_codes)
        self.clock = clock
        self.publish = publish  # the fact bus: a wrap-up changes the call's record like any fact
        self.stored = stored  # waits until the store holds every fact published so far

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/outcomes", self.outcomes),
            web.post("/api/calls/{call_id}/hangup", self.hangup),
            web.post("/api/calls/{call_id}/hold", self.hold),
            web.post("/api/calls/{call_id}/resume", self.resume),
            web.post("/api/calls/{call_id}/transfer", self.transfer),
            web.post("/api/calls/{call_id}/consult", self.consult),
            web.post("/api/calls/{call_id}/consult/complete", self.consult_complete),
            web.post("/api/calls/{call_id}/consult/cancel", self.consult_cancel),
            web.post("/api/calls/{call_id}/wrapup", self.wrapup),
        ]

    async def outcomes(self, _request: web.Request) -> web.Response:
        return web.json_response({"outcomes": list(self.outcome_codes)})

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
            kind, target = self._target(control, body, ("queue", "agent", "number"))
            await control.transfer(call_id, kind, target)
        elif action == "consult":
            kind, target = self._target(control, body, ("agent", "number"))
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
        if kind == "number" and not NUMBER.match(target):
            raise BadRequest("'target' must be a phone number: digits, optionally a leading +")
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

        The reply waits until the store has the fact, so the call history read next shows it.
        """
        call_id = request.match_info["call_id"]
        principal: Principal = request[PRINCIPAL]
        body = await read_json(request)
        outcome, note = body.get("outcome"), body.get("note", "")
        if outcome not in self.outcome_codes:
            return json_error(400, f"'outcome' must be one of: {', '.join(self.outcome_codes)}")
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
        self.publish(CallWrappedUp(call_id, self.clock(), agent_id, outcome, note.strip(), principal.login))
        await self._until_stored(call_id)
        if self.control is not None and agent_id is not None and principal.agent_id == agent_id:
            self.control.wrapup_done(agent_id)
        return web.json_response({"ok": True, "call_id": call_id, "outcome": outcome})

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
        if self.control is not None:
            for agent in self.control.service.agents():
                if agent.state is AgentState.WRAPUP and agent.call_id == call_id:
                    return agent.id
        return row_agent
