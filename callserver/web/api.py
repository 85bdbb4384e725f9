"""REST handlers under /api/: login and logout, the agent's own view, status changes, supervisor
tables, screen-pops and customer edits. Authentication and CSRF checks happen in the middleware
(`app.py`); handlers only decide what this principal may see or change.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from callserver.acd.metrics import MetricsBook
from callserver.acd.model import AgentState, AgentStatus
from callserver.acd.service import AcdService
from callserver.config import QueueThresholds
from callserver.logs import PeerLog, printable
from callserver.web.agent_times import AgentTimes
from callserver.web.auth import Authenticator, Principal
from callserver.web.customers import CustomerConflict, CustomerWriter, parse_customer
from callserver.web.hub import LiveHub
from callserver.web.pops import Pops, customer_view
from callserver.web.sessions import LoginThrottle, Refused, SessionStore
from callserver.web.views import agent_view, agents_view, queues_view, waiting_view

log = logging.getLogger("callserver.web.api")

COOKIE = "cs_session"
PRINCIPAL = web.RequestKey("principal", Principal)
TOKEN = web.RequestKey("token", str)
MAX_BODY = 64 * 1024


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def read_json(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    try:
        body = json.loads(await request.text())
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error":"body is not valid JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error":"body must be a JSON object"}', content_type="application/json"
        )
    return body


def _too_many(refused: Refused) -> web.Response:
    seconds = max(1, round(refused.retry_after))
    if refused.busy:
        resp = json_error(429, "too many logins being checked; try again in a moment", retry_after=seconds)
    else:
        resp = json_error(429, "too many failed logins; try again later", retry_after=seconds)
    resp.headers["Retry-After"] = str(seconds)
    return resp


class Api:
    def __init__(
        self,
        *,
        service: AcdService,
        auth: Authenticator,
        sessions: SessionStore,
        logins: LoginThrottle,
        hub: LiveHub,
        pops: Pops,
        metrics: MetricsBook,
        writer: CustomerWriter,
        pause_reasons: Sequence[str],
        cookie_secure: bool | None,
        times: AgentTimes | None = None,
        thresholds: Mapping[str, QueueThresholds] | None = None,
        phone_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.times = times
        self.thresholds = thresholds
        self.phone_of = phone_of  # a supervisor's monitoring phone (web/monitor.py)
        self.service = service
        self.auth = auth
        self.sessions = sessions
        self.logins = logins
        self.peer_log = PeerLog(log)
        self.hub = hub
        self.pops = pops
        self.metrics = metrics
        self.writer = writer
        self.pause_reasons = tuple(pause_reasons)
        self.cookie_secure = cookie_secure

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/login", self.login),
            web.post("/api/logout", self.logout),
            web.get("/api/me", self.me),
            web.post("/api/agents/{agent_id}/status", self.set_status),
            web.get("/api/agents", self.agents),
            web.get("/api/queues", self.queues),
            web.get("/api/calls/waiting", self.waiting),
            web.get("/api/pops/{call_id}", self.pop),
            web.post("/api/customers", self.create_customer),
            web.put("/api/customers/{customer_id}", self.update_customer),
        ]

    # -- sessions ----------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        login, password = body.get("login"), body.get("password")
        if not isinstance(login, str) or not isinstance(password, str) or not login or len(login) > 64:
            return json_error(400, "give 'login' and 'password' as strings")
        address = request.remote or "?"
        attempt = self.logins.begin(login, address)
        if isinstance(attempt, Refused):
            return _too_many(attempt)
        try:
            principal = await self.auth.verify(login, password[:1024])
        finally:
            attempt.done()
        if principal is None:
            self.peer_log.warning(
                address, "failed login", "failed web login for %s from %s", printable(login, 64), address
            )
            return json_error(401, "wrong login or password")
        attempt.succeeded()
        session = self.sessions.create(principal)
        data: dict[str, Any] = self._identity(principal)
        data["expires_at"] = session.expires_at
        bearer = body.get("bearer") is True
        if bearer:
            data["token"] = session.token
        resp = web.json_response(data)
        if not bearer:
            resp.set_cookie(
                COOKIE,
                session.token,
                httponly=True,
                samesite="Strict",
                path="/",
                secure=self._secure(request),
            )
        log.info("web login: %s (%s) from %s", principal.login, principal.role, request.remote)
        return resp

    def _secure(self, request: web.Request) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        host = (request.url.host or "").strip("[]")
        return request.secure or host not in {"127.0.0.1", "localhost", "::1"}

    async def logout(self, request: web.Request) -> web.Response:
        """End the session; an agent is logged out of their queues too (on a call: only with
        `{"force": true}`, after the desktop asked them)."""
        token: str = request[TOKEN]
        p: Principal = request[PRINCIPAL]
        body = await read_json(request) if (await request.text()).strip() else {}
        agent = self.service.agent(p.agent_id) if p.agent_id is not None else None
        if agent is not None:
            busy = agent.state in (AgentState.RINGING, AgentState.ON_CALL)
            if busy and body.get("force") is not True:
                return json_error(
                    409,
                    "you are on a call: log out anyway? (send force: true)",
                    on_call=True,
                    call_id=agent.call_id,
                )
            if agent.status is not AgentStatus.LOGGED_OUT:
                self.service.set_status(agent.id, AgentStatus.LOGGED_OUT)
                log.info("agent %s logged out of their queues with the desktop", agent.id)
        self.sessions.drop(token)
        self.hub.drop_session(token)
        resp = web.json_response({"ok": True})
        resp.del_cookie(COOKIE, path="/")
        return resp

    @staticmethod
    def _identity(p: Principal) -> dict[str, Any]:
        return {"login": p.login, "name": p.name, "role": p.role.value, "agent_id": p.agent_id}

    # -- agents ------------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        data = self._identity(p)
        agent = self.service.agent(p.agent_id or "")
        data["agent"] = agent_view(agent) if agent else None
        data["pause_reasons"] = list(self.pause_reasons)
        if p.is_supervisor and self.phone_of is not None:
            data["phone"] = self.phone_of(p.login)
        return web.json_response(data)

    async def set_status(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        agent_id = request.match_info["agent_id"]
        if not p.may_act_for(agent_id):
            return json_error(403, "you may only change your own status")
        if self.service.agent(agent_id) is None:
            return json_error(404, f"unknown agent '{agent_id}'")
        body = await read_json(request)
        try:
            status = AgentStatus(str(body.get("status")))
        except ValueError:
            return json_error(400, f"'status' must be one of {[s.value for s in AgentStatus]}")
        reason = body.get("reason") or ""
        if status is AgentStatus.PAUSED:
            if reason not in self.pause_reasons:
                return json_error(400, f"'reason' must be one of {list(self.pause_reasons)}")
        else:
            reason = ""
        agent = self.service.set_status(agent_id, status, reason)
        if p.agent_id != agent_id:
            log.info("status of agent %s forced to %s by %s", agent_id, status.value, p.login)
        return web.json_response(agent_view(agent))

    async def agents(self, request: web.Request) -> web.Response:
        self._supervisor(request)
        return web.json_response(agents_view(self.service, self.times))

    async def queues(self, request: web.Request) -> web.Response:
        self._supervisor(request)
        return web.json_response(
            queues_view(self.service, self.metrics, self.service.clock(), self.thresholds)
        )

    async def waiting(self, request: web.Request) -> web.Response:
        self._supervisor(request)
        return web.json_response(waiting_view(self.service, self.service.clock()))

    @staticmethod
    def _supervisor(request: web.Request) -> None:
        if not request[PRINCIPAL].is_supervisor:
            raise web.HTTPForbidden(text='{"error":"supervisors only"}', content_type="application/json")

    # -- pops and customers ------------------------------------------------------------------

    async def pop(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        call_id = request.match_info["call_id"]
        if not p.is_supervisor and not self.pops.agent_owns(p.agent_id or "", call_id):
            if self.service.call(call_id) is not None:
                return json_error(403, "this call is not offered to you")
            return json_error(404, f"no call '{call_id}' for you")
        entry = await self.pops.for_call(call_id)
        if entry is None:
            return json_error(404, f"no live call '{call_id}'")
        return web.json_response(entry.data)

    async def create_customer(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        if not p.is_supervisor and self.pops.current_for_agent(p.agent_id or "") is None:
            return json_error(403, "agents create customers from the pop of their current call")
        data, problems = parse_customer(await read_json(request), self.writer.region)
        if data is None:
            return json_error(400, "invalid customer", problems=problems)
        try:
            record = await self.writer.create(data)
        except CustomerConflict:
            return json_error(409, f"account '{data.account}' belongs to another customer")
        if p.agent_id is not None:
            self.pops.note_created(p.agent_id, record.id)
        return web.json_response(customer_view(record), status=201)

    async def update_customer(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        try:
            customer_id = int(request.match_info["customer_id"])
        except ValueError:
            return json_error(404, "no such customer")
        if not p.is_supervisor and not self.pops.agent_may_edit(p.agent_id or "", customer_id):
            return json_error(403, "agents edit only the customers of their current call")
        data, problems = parse_customer(await read_json(request), self.writer.region)
        if data is None:
            return json_error(400, "invalid customer", problems=problems)
        try:
            record = await self.writer.update(customer_id, data)
        except CustomerConflict:
            return json_error(409, f"account '{data.account}' belongs to another customer")
        if record is None:
            return json_error(404, "no such customer")
        return web.json_response(customer_view(record))
