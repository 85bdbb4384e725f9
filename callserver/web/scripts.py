"""REST for dialogue scripts inside the centre: the agent's script panel (their run, its moves), the
supervisor's view of who is on which step, the export of runs (JSON or CSV, for reports), the
callback requests scripts make, and the admins' editor (check, preview, save a new version).

Authentication and the CSRF header are the middleware's (`app.py`); handlers decide what this
principal may see or do. Payloads are mapped explicitly from records.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from callserver.callbacks.model import ScheduledCallback
from callserver.callbacks.service import CallbackError, CallbackService
from callserver.scripts.desk import AgentRun, MoveRefused, ScriptDesk
from callserver.scripts.editor import EditorError, ScriptFiles, problem_json, tree
from callserver.scripts.read import read_script
from callserver.scripts.selfservice import SelfService
from callserver.store.store import Store
from callserver.web.api import PRINCIPAL, json_error, read_json
from callserver.web.auth import Principal, Role
from callserver.web.params import path_parameters, query_parameters
from callserver.web.script_views import callback_json, export_csv, export_json

EXPORT_LIMIT = 10_000


@dataclass
class ScriptsWeb:
    """What the script routes need, built by the composition root."""

    desk: ScriptDesk
    selfservice: SelfService
    callbacks: CallbackService
    files: ScriptFiles
    store: Store
    outcome_codes: Collection[str]


class ScriptsApi:
    def __init__(self, deps: ScriptsWeb) -> None:
        self.deps = deps
        self.outcomes = frozenset(deps.outcome_codes)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/script-runs/mine", self.mine),
            web.get("/api/script-runs/active", self.active),
            web.get("/api/script-runs", self.export),
            web.get("/api/script-runs/{run_id}", self.run),
            web.post("/api/script-runs/{run_id}/move", self.move),
            web.get("/api/callbacks", self.callbacks),
            web.get("/api/callbacks/{callback_id}", self.callback),
            web.post("/api/callbacks/{callback_id}/call", self.call_back),
            web.post("/api/callbacks/{callback_id}/close", self.close_callback),
            web.post("/api/callbacks/{callback_id}/cancel", self.cancel_callback),
            web.get("/api/scripts", self.scripts),
            web.post("/api/scripts/check", self.check),
            web.post("/api/scripts/preview", self.preview),
            web.get("/api/scripts/{script_id}", self.script),
            web.put("/api/scripts/{script_id}", self.save),
        ]

    # -- the agent's panel ---------------------------------------------------------------------

    async def mine(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        entry = self.deps.desk.current(p.agent_id or "")
        return web.json_response({"run": None if entry is None else self.deps.desk.view(entry)})

    async def run(self, request: web.Request) -> web.Response:
        entry = self._visible_run(request)
        return web.json_response(self.deps.desk.view(entry))

    async def move(self, request: web.Request) -> web.Response:
        entry = self._visible_run(request)
        p: Principal = request[PRINCIPAL]
        if p.agent_id != entry.place.agent_id:
            return json_error(403, "only the agent running the script moves it")
        body = await read_json(request)
        op, position = body.get("op"), body.get("position")
        if op not in ("answer", "forward", "back", "jump"):
            return json_error(400, "'op' must be one of: answer, forward, back, jump")
        if not isinstance(position, int) or isinstance(position, bool):
            return json_error(400, "'position' must be the position the panel shows, an integer")
        target = body.get("target")
        if op == "jump" and not isinstance(target, str):
            return json_error(400, "a jump needs 'target', a step id")
        try:
            result = await self.deps.desk.move(
                entry,
                op,
                by=entry.place.agent_id or "",
                position=position,
                value=body.get("value"),
                answered="value" in body,
                target=target if isinstance(target, str) else None,
            )
        except MoveRefused as err:
            return json_error(err.status, str(err), view=self.deps.desk.view(entry))
        notices = [{"kind": n.kind, "message": n.message, "ok": n.ok} for n in result.notices]
        return web.json_response({"view": result.view, "notices": notices})

    def _visible_run(self, request: web.Request) -> AgentRun:
        p: Principal = request[PRINCIPAL]
        entry = self.deps.desk.run(request.match_info["run_id"])
        if entry is None or not (p.is_supervisor or entry.place.agent_id == p.agent_id):
            raise web.HTTPNotFound(text='{"error":"no such script run"}', content_type="application/json")
        return entry

    # -- supervisors: who is where, and the export -----------------------------------------------

    async def active(self, request: web.Request) -> web.Response:
        self._supervisor(request)
        return web.json_response({"runs": self.deps.desk.active()})

    async def export(self, request: web.Request) -> web.Response:
        """Runs with every answer, newest first: JSON, or CSV with `format=csv` (one row per answer)."""
        self._supervisor(request)
        q = request.query
        try:
            since = _when(q.get("since"))
            until = _when(q.get("until"))
            customer = int(q["customer_id"]) if "customer_id" in q else None
            limit = min(EXPORT_LIMIT, max(1, int(q.get("limit", "1000"))))
        except ValueError as err:
            return json_error(400, f"bad query: {err}")
        runs = await self.deps.store.script_runs(
            script_id=q.get("script_id"),
            customer_id=customer,
            agent_id=q.get("agent_id"),
            status=q.get("status"),
            since=since,
            until=until,
            limit=limit,
        )
        if q.get("format") == "csv":
            return web.Response(
                text=export_csv(runs),
                content_type="text/csv",
                charset="utf-8",
                headers={"Content-Disposition": 'attachment; filename="script-runs.csv"'},
            )
        return web.json_response({"runs": [export_json(r) for r in runs]})

    # -- callback requests ---------------------------------------------------------------------

    async def callbacks(self, request: web.Request) -> web.Response:
        p: Principal = request[PRINCIPAL]
        items = await self.deps.callbacks.visible_to(None if p.is_supervisor else (p.agent_id or ""))
        return web.json_response({"callbacks": [callback_json(i) for i in items]})

    async def _visible_callback(self, request: web.Request) -> ScheduledCallback:
        raw = request.match_info["callback_id"]
        p: Principal = request[PRINCIPAL]
        item = None
        if raw.isdigit() and len(raw) < 18:
            callbacks = self.deps.callbacks
            if p.is_supervisor:
                item = await callbacks.get(int(raw))
            else:
                item = await callbacks.for_agent(int(raw), p.agent_id or "")
        if item is None:
            # the same answer for "none" and "not yours": ids are not to be probed
            raise web.HTTPNotFound(text='{"error":"no such callback"}', content_type="application/json")
        return item

    async def callback(self, request: web.Request) -> web.Response:
        return web.json_response(callback_json(await self._visible_callback(request)))

    async def call_back(self, request: web.Request) -> web.Response:
        item = await self._visible_callback(request)
        p: Principal = request[PRINCIPAL]
        agent_id = p.agent_id if not p.is_supervisor else item.agent_id
        if agent_id is None:
            return json_error(409, "the callback is not assigned to an agent")
        try:
            item = await self.deps.callbacks.call_back(item.id, agent_id)
        except CallbackError as err:
            return json_error(409, str(err))
        return web.json_response(callback_json(item), status=202)

    async def close_callback(self, request: web.Request) -> web.Response:
        item = await self._visible_callback(request)
        body = await read_json(request)
        outcome = body.get("outcome")
        if not isinstance(outcome, str) or outcome not in self.outcomes:
            return json_error(400, f"outcome must be one of {', '.join(sorted(self.outcomes))}")
        p: Principal = request[PRINCIPAL]
        try:
            item = await self.deps.callbacks.close(item.id, None if p.is_supervisor else p.agent_id, outcome)
        except CallbackError as err:
            return json_error(409, str(err))
        return web.json_response(callback_json(item))

    async def cancel_callback(self, request: web.Request) -> web.Response:
        self._supervisor(request)
        item = await self._visible_callback(request)
        try:
            item = await self.deps.callbacks.cancel(item.id)
        except CallbackError as err:
            return json_error(409, str(err))
        return web.json_response(callback_json(item))

    # -- the editor ------------------------------------------------------------------------------

    async def scripts(self, request: web.Request) -> web.Response:
        self._supervisor(request)
        catalog = self.deps.files.catalog
        items = [
            {
                "id": s.id,
                "version": s.version,
                "title": s.title,
                "web": s.web,
                "queues": sorted(q for q, sid in catalog.queues.items() if sid == s.id),
                "dnis": sorted(n for n, sid in catalog.dnis.items() if sid == s.id),
                "ivr": sorted(e for e, sid in catalog.ivr.items() if sid == s.id),
                "campaigns": sorted(c for c, sid in catalog.campaigns.items() if sid == s.id),
            }
            for s in sorted(catalog.scripts.values(), key=lambda s: s.id)
        ]
        return web.json_response({"scripts": items, "editable": catalog.folder is not None})

    async def script(self, request: web.Request) -> web.Response:
        self._admin(request)
        script_id = request.match_info["script_id"]
        try:
            found = self.deps.files.source(script_id)
            versions = self.deps.files.versions(script_id) if found is not None else []
        except EditorError as err:
            return json_error(err.status, str(err))
        if found is None:
            return json_error(404, f"no script '{script_id}'")
        text, _ = found
        script, problems = self.deps.files.check(text)
        return web.json_response(
            {
                "id": script_id,
                "source": text,
                "version": script.version if script is not None else None,
                "kept_versions": versions,
                "problems": [problem_json(p) for p in problems],
                "tree": tree(script) if script is not None else [],
            }
        )

    async def check(self, request: web.Request) -> web.Response:
        """Validation while editing: the draft read and checked, as the server would on save."""
        self._admin(request)
        source = (await read_json(request)).get("source")
        if not isinstance(source, str):
            return json_error(400, "'source' must be the script's XML text")
        parsed, _ = read_script(source.encode("utf-8"), "draft.xml")
        script, problems = self.deps.files.check(source)
        return web.json_response(
            {
                "ok": script is not None,
                "problems": [problem_json(p) for p in problems],
                "tree": tree(parsed) if parsed is not None else [],
            }
        )

    async def preview(self, request: web.Request) -> web.Response:
        self._admin(request)
        body = await read_json(request)
        source, audience, moves = body.get("source"), body.get("audience", "agent"), body.get("moves", [])
        if (
            not isinstance(source, str)
            or audience not in ("agent", "customer")
            or not isinstance(moves, list)
        ):
            return json_error(400, "give 'source', 'audience' (agent or customer) and 'moves' (a list)")
        customer = None
        account = body.get("account")
        if isinstance(account, str) and account.strip():
            found = await self.deps.store.find_customer_by_account(account)
            if found is None:
                return json_error(404, f"no customer with account {account!r}")
            customer = await self.deps.desk.customers.record(found.id)
        try:
            result = self.deps.files.preview(
                source, audience, [m for m in moves if isinstance(m, dict)], customer
            )
        except EditorError as err:
            return json_error(err.status, str(err), findings=[problem_json(p) for p in err.problems])
        return web.json_response(result)

    async def save(self, request: web.Request) -> web.Response:
        """Save the draft as the next version of the file (the old one is kept)."""
        self._admin(request)
        source = (await read_json(request)).get("source")
        if not isinstance(source, str):
            return json_error(400, "'source' must be the script's XML text")
        try:
            saved = self.deps.files.save(request.match_info["script_id"], source)
        except OSError as err:
            return json_error(409, f"the scripts folder cannot be written: {err.strerror}")
        except EditorError as err:
            findings = [problem_json(p) for p in err.problems]
            return json_error(err.status, str(err), findings=findings)
        return web.json_response(
            {
                "id": saved.script.id,
                "version": saved.script.version,
                "source": saved.path.read_text(encoding="utf-8"),
                "kept_versions": self.deps.files.versions(saved.script.id),
                "tree": tree(saved.script),
            }
        )

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _supervisor(request: web.Request) -> None:
        if not request[PRINCIPAL].is_supervisor:
            raise web.HTTPForbidden(text='{"error":"supervisors only"}', content_type="application/json")

    @staticmethod
    def _admin(request: web.Request) -> None:
        if request[PRINCIPAL].role is not Role.ADMIN:
            raise web.HTTPForbidden(text='{"error":"admins only"}', content_type="application/json")


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def openapi_paths() -> dict[str, Any]:
    """The script routes under /api/ in OpenAPI 3.1 form, to merge into the document's `paths`."""
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    denied = {"401": {"description": "no session"}, "403": {"description": "not allowed for this role"}}

    def op(summary: str, *codes: str, body: str | None = None, ok: str = "OK") -> dict[str, Any]:
        item: dict[str, Any] = {
            "summary": summary,
            "responses": {"200": {"description": ok}, **denied, **{c: error for c in codes}},
        }
        if body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
            }
        return item

    run, callback, script = (path_parameters([n]) for n in ("run_id", "callback_id", "script_id"))
    return {
        "/api/script-runs/mine": {
            "get": op("My latest script run (agents), its step and what is still required")
        },
        "/api/script-runs/active": {"get": op("Supervisors: the step each agent's script run is on")},
        "/api/script-runs": {
            "get": {
                **op(
                    "Supervisors: export of script runs with every answer, newest first; query script_id, "
                    "customer_id, agent_id, status, since, until (ISO 8601), limit (up to 10000), "
                    "format=csv for one CSV row per answer",
                    "400",
                ),
                "parameters": query_parameters("/api/script-runs"),
            }
        },
        "/api/script-runs/{run_id}": {
            "parameters": run,
            "get": op("A script run's current step (the agent running it, or supervisors)", "404"),
        },
        "/api/script-runs/{run_id}/move": {
            "parameters": run,
            "post": op(
                "The agent's move: answer, forward (with an answer when `value` is given), back, "
                "jump {target}; `position` as the panel shows it; returns {view, notices}",
                "400",
                "404",
                "409",
                body="ScriptMove",
            ),
        },
        "/api/callbacks": {
            "get": op("Open callback requests and tasks: mine and those kept for me (supervisors: all)")
        },
        "/api/callbacks/{callback_id}": {
            "parameters": callback,
            "get": op("A callback request with the answers that came with it", "404"),
        },
        "/api/callbacks/{callback_id}/call": {
            "parameters": callback,
            "post": op("Ring my phone, then dial the customer", "404", "409", ok="callback placed"),
        },
        "/api/callbacks/{callback_id}/close": {
            "parameters": callback,
            "post": op(
                "Close with an outcome (one of the configured codes); body {outcome}", "400", "404", "409"
            ),
        },
        "/api/callbacks/{callback_id}/cancel": {
            "parameters": callback,
            "post": op("Supervisors: withdraw a request that is not due yet", "404", "409"),
        },
        "/api/scripts": {"get": op("Supervisors: the scripts in use and what each is attached to")},
        "/api/scripts/check": {
            "post": op(
                "Admins: read and check a draft; problems with line and step, and its tree of steps",
                "400",
                body="ScriptSource",
            )
        },
        "/api/scripts/preview": {
            "post": op(
                "Admins: run a draft as an agent or a customer through moves [{op: next|back|talk, value}]; "
                "nothing is carried out, the commands are listed",
                "400",
                "404",
                body="ScriptPreview",
            )
        },
        "/api/scripts/{script_id}": {
            "parameters": script,
            "get": op("Admins: a script's file, its problems, tree and kept versions", "404", "409"),
            "put": op(
                "Admins: save a draft as the next version of the file (the previous one is kept); the "
                "draft must be based on the file's current version",
                "400",
                "409",
                body="ScriptSource",
            ),
        },
    }


SCRIPT_SCHEMAS: dict[str, Any] = {
    "ScriptMove": {
        "type": "object",
        "required": ["op", "position"],
        "properties": {
            "op": {"enum": ["answer", "forward", "back", "jump"]},
            "position": {"type": "integer"},
            "value": {"description": "the answer, checked on the server"},
            "target": {"type": "string", "description": "jump: a step id on the path or ahead"},
        },
    },
    "ScriptSource": {"type": "object", "required": ["source"], "properties": {"source": {"type": "string"}}},
    "ScriptPreview": {
        "type": "object",
        "required": ["source"],
        "properties": {
            "source": {"type": "string"},
            "audience": {"enum": ["agent", "customer"]},
            "moves": {"type": "array", "items": {"type": "object"}},
            "account": {"type": "string", "description": "preview with this customer's record"},
        },
    },
}
