"""REST for outbound campaigns: supervisors create, run and watch campaigns, import lists and
do-not-call numbers and read the compliance report; agents dial or skip a previewed lead, code
their calls (with a callback or a do-not-call entry), hang up, and dial a number by hand.

Handlers only check who may do what and translate; the campaign service does the work. A list
import streams its progress as JSON lines (`?stream=1`), ending with the report, so the browser
and the CLI show a progress bar without polling.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from callserver.campaigns.lists import ColumnMapping, ImportReport
from callserver.campaigns.model import DialMode
from callserver.campaigns.service import CampaignConflict, CampaignService, UnknownCampaign
from callserver.config import CampaignConfig, format_validation_error
from callserver.store.campaigns import CampaignStore
from callserver.web.api import PRINCIPAL, json_error, read_json
from callserver.web.auth import Principal

log = logging.getLogger("callserver.web.campaigns")

MAX_UPLOAD = 64 * 1024 * 1024  # a list of 100,000 rows with a dozen fields is a few MB
STREAM = "application/x-ndjson"


def _supervisor(request: web.Request) -> Principal:
    p: Principal = request[PRINCIPAL]
    if not p.is_supervisor:
        raise web.HTTPForbidden(text='{"error":"supervisors only"}', content_type="application/json")
    return p


def _agent(request: web.Request) -> str:
    p: Principal = request[PRINCIPAL]
    if p.agent_id is None:
        raise web.HTTPForbidden(text='{"error":"agents only"}', content_type="application/json")
    return p.agent_id


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "rows": report.rows,
        "leads": len(report.leads),
        "duplicates": [
            {"line": d.line, "number": d.number, "first_line": d.first_line} for d in report.duplicates
        ],
        "dnc": [{"line": h.line, "number": h.number, "scope": h.scope} for h in report.dnc],
        "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in report.errors],
        "more_errors": report.more_errors,
    }


async def read_text(request: web.Request, limit: int = MAX_UPLOAD) -> str:
    """The request body as text (UTF-8, a BOM dropped), read in chunks up to `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(256 * 1024):
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"the file is not UTF-8 text (byte {err.start})"}),
            content_type="application/json",
        ) from None


class CampaignApi:
    def __init__(self, service: CampaignService, store: CampaignStore) -> None:
        self.service = service
        self.store = store

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/campaigns", self.list_campaigns),
            web.post("/api/campaigns", self.create),
            web.get("/api/campaigns/{name}", self.get_campaign),
            web.put("/api/campaigns/{name}", self.update),
            web.post("/api/campaigns/{name}/start", self.start),
            web.post("/api/campaigns/{name}/pause", self.pause),
            web.post("/api/campaigns/{name}/stop", self.stop),
            web.post("/api/campaigns/{name}/mode", self.mode),
            web.post("/api/campaigns/{name}/target", self.target),
            web.post("/api/campaigns/{name}/lists", self.import_list),
            web.get("/api/campaigns/{name}/report.csv", self.report),
            web.get("/api/campaigns/{name}/refusals.csv", self.refusals),
            web.post("/api/dnc", self.import_dnc),
            web.get("/api/campaign-desk", self.desk),
            web.post("/api/campaign-desk/line", self.line),
            web.post("/api/campaign-desk/preview/dial", self.preview_dial),
            web.post("/api/campaign-desk/preview/skip", self.preview_skip),
            web.post("/api/campaign-desk/wrapup", self.wrapup),
            web.post("/api/campaign-desk/hangup", self.hangup),
            web.post("/api/campaign-desk/dnc", self.dnc_current),
            web.post("/api/campaign-desk/dial", self.dial),
        ]

    # -- supervisors ----------------------------------------------------------------------------

    def _view(self, name: str) -> dict[str, Any]:
        entry = self.service.entry(name)
        return {
            "config": entry.config.model_dump(mode="json"),
            "tile": self.service.tile(name),
            "lists": sorted(entry.lists),
        }

    async def list_campaigns(self, request: web.Request) -> web.Response:
        _supervisor(request)
        return web.json_response({"campaigns": [self._view(n) for n in sorted(self.service.entries)]})

    async def get_campaign(self, request: web.Request) -> web.Response:
        _supervisor(request)
        name = request.match_info["name"]
        return self._call(lambda: self.service.entry(name), lambda: web.json_response(self._view(name)))

    def _config(self, body: dict[str, Any]) -> CampaignConfig | web.Response:
        try:
            return CampaignConfig.model_validate(body)
        except ValidationError as err:
            return json_error(400, "invalid campaign", problems=format_validation_error(err))

    async def create(self, request: web.Request) -> web.Response:
        p = _supervisor(request)
        config = self._config(await read_json(request))
        if isinstance(config, web.Response):
            return config
        try:
            self.service.create(config, by=p.login)
        except CampaignConflict as err:
            return json_error(409, str(err))
        return web.json_response(self._view(config.name), status=201)

    async def update(self, request: web.Request) -> web.Response:
        p = _supervisor(request)
        body = await read_json(request)
        name = request.match_info["name"]
        if body.get("name", name) != name:
            return json_error(400, "a campaign is not renamed: create a new one")
        config = self._config({**body, "name": name})
        if isinstance(config, web.Response):
            return config
        cfg = config
        return self._call(
            partial(self.service.update, cfg, by=p.login), lambda: web.json_response(self._view(name))
        )

    @staticmethod
    def _call(
        action: Callable[[], object], respond: Callable[[], web.Response] | None = None
    ) -> web.Response:
        """Run a service verb; unknown campaign 404, a state that does not allow it 409."""
        try:
            result = action()
            if isinstance(result, web.Response):
                return result
            return respond() if respond is not None else web.json_response({"ok": True, "result": result})
        except UnknownCampaign as err:
            return json_error(404, f"no campaign {err.args[0]!r}")
        except CampaignConflict as err:
            return json_error(409, str(err))

    def _run(self, request: web.Request, verb: str) -> web.Response:
        p = _supervisor(request)
        name = request.match_info["name"]
        actions = {
            "start": self.service.start_campaign,
            "pause": self.service.pause,
            "stop": self.service.stop_campaign,
        }
        return self._call(
            partial(actions[verb], name, by=p.login), lambda: web.json_response(self._view(name))
        )

    async def start(self, request: web.Request) -> web.Response:
        return self._run(request, "start")

    async def pause(self, request: web.Request) -> web.Response:
        return self._run(request, "pause")

    async def stop(self, request: web.Request) -> web.Response:
        return self._run(request, "stop")

    async def mode(self, request: web.Request) -> web.Response:
        p = _supervisor(request)
        name = request.match_info["name"]
        body = await read_json(request)
        try:
            mode = DialMode(str(body.get("mode")))
        except ValueError:
            return json_error(400, f"'mode' must be one of {[m.value for m in DialMode]}")
        return self._call(
            partial(self.service.set_mode, name, mode, by=p.login),
            lambda: web.json_response(self._view(name)),
        )

    async def target(self, request: web.Request) -> web.Response:
        p = _supervisor(request)
        name = request.match_info["name"]
        body = await read_json(request)
        value = body.get("abandon_target")
        if value is not None and (not isinstance(value, int | float) or not 0 <= value <= 1):
            return json_error(400, "'abandon_target' must be a share between 0 and 1, or null")
        target = float(value) if value is not None else None
        return self._call(
            partial(self.service.set_target, name, target, by=p.login),
            lambda: web.json_response(self._view(name)),
        )

    async def import_list(self, request: web.Request) -> web.StreamResponse:
        p = _supervisor(request)
        name = request.match_info["name"]
        q = request.query
        list_name = q.get("list", "").strip()
        if not list_name or len(list_name) > 64:
            return json_error(400, "give the list's name: ?list=<name> (at most 64 characters)")
        if name not in self.service.entries:
            return json_error(404, f"no campaign {name!r}")

        def columns(key: str) -> tuple[str, ...]:
            return tuple(c.strip() for c in q.get(key, "").split(",") if c.strip())

        mapping = ColumnMapping(
            phones=columns("phone") or ("phone",),
            id=q.get("id") or None,
            time_zone=q.get("time_zone") or None,
            priority=q.get("priority") or None,
            region=q.get("region") or None,
            fields=columns("fields") or None,
        )
        text = await read_text(request)
        lines = text.splitlines(keepends=True)
        total = max(0, sum(1 for line in lines if line.strip()) - 1)
        if q.get("stream") != "1":
            try:
                report = await self.service.import_list(name, list_name, lines, mapping, by=p.login)
            except CampaignConflict as err:
                return json_error(409, str(err))
            return web.json_response(report_json(report), status=200 if report.ok else 422)
        response = web.StreamResponse(headers={"Content-Type": STREAM})
        await response.prepare(request)
        await response.write(json.dumps({"progress": 0, "total": total}).encode() + b"\n")
        sent: list[bytes] = []

        def progress(rows: int) -> None:
            sent.append(json.dumps({"progress": rows, "total": total}).encode() + b"\n")

        async def flush() -> None:
            while sent:
                await response.write(sent.pop(0))

        try:
            task = self.service.import_list(name, list_name, lines, mapping, by=p.login, progress=progress)
            report = await _with_flushes(task, flush)
            await flush()
            last = {"report": report_json(report)}
        except CampaignConflict as err:
            last = {
                "report": {
                    "ok": False,
                    "rows": 0,
                    "leads": 0,
                    "duplicates": [],
                    "dnc": [],
                    "more_errors": 0,
                    "errors": [{"line": 0, "column": "", "message": str(err)}],
                }
            }
        await response.write(json.dumps(last).encode() + b"\n")
        await response.write_eof()
        return response

    async def report(self, request: web.Request) -> web.Response:
        _supervisor(request)
        name = request.match_info["name"]
        if name not in self.service.entries:
            return json_error(404, f"no campaign {name!r}")
        body = await self.store.report_csv(name)
        return web.Response(
            text=body,
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}-attempts.csv"'},
        )

    async def refusals(self, request: web.Request) -> web.Response:
        _supervisor(request)
        name = request.match_info["name"]
        if name not in self.service.entries:
            return json_error(404, f"no campaign {name!r}")
        body = await self.store.refusals_csv(name)
        return web.Response(
            text=body,
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}-refusals.csv"'},
        )

    async def import_dnc(self, request: web.Request) -> web.Response:
        p = _supervisor(request)
        scope = request.query.get("campaign", "")
        region = request.query.get("region", "US").upper()
        text = await read_text(request, 16 * 1024 * 1024)
        try:
            report = self.service.import_dnc(scope, text.splitlines(), by=p.login, region=region)
        except UnknownCampaign:
            return json_error(404, f"no campaign {scope!r}")
        errors = [{"line": e.line, "column": e.column, "message": e.message} for e in report.errors]
        return web.json_response(
            {"ok": report.ok, "added": report.added, "errors": errors}, status=200 if report.ok else 422
        )

    # -- agents ---------------------------------------------------------------------------------

    async def desk(self, request: web.Request) -> web.Response:
        return web.json_response(self.service.desk(_agent(request)))

    async def line(self, request: web.Request) -> web.Response:
        agent_id = _agent(request)
        body = await read_json(request)
        if not isinstance(body.get("enabled"), bool):
            return json_error(400, "give 'enabled': true or false")
        self.service.lines.set_preference(agent_id, body["enabled"])
        return web.json_response(self.service.desk(agent_id))

    async def preview_dial(self, request: web.Request) -> web.Response:
        agent_id = _agent(request)
        return self._call(partial(self.service.preview_dial, agent_id))

    async def preview_skip(self, request: web.Request) -> web.Response:
        agent_id = _agent(request)
        body = await read_json(request)
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
            return json_error(400, "give the 'reason' for skipping (at most 200 characters)")
        final = body.get("final") is True
        return self._call(partial(self.service.preview_skip, agent_id, reason.strip(), final=final))

    async def wrapup(self, request: web.Request) -> web.Response:
        agent_id = _agent(request)
        body = await read_json(request)
        attempt_id, outcome = body.get("attempt_id"), body.get("outcome")
        if not isinstance(attempt_id, str) or not isinstance(outcome, str) or not outcome:
            return json_error(400, "give 'attempt_id' and 'outcome'")
        entry = self.service.campaign_of_agent(agent_id)
        if entry is not None and outcome not in {o.code for o in entry.engine.campaign.outcome_codes}:
            return json_error(400, f"'{outcome}' is not an outcome code of campaign {entry.config.name}")
        callback = None
        raw = body.get("callback_at")
        if raw is not None:
            try:
                callback = datetime.fromisoformat(str(raw)).replace(tzinfo=None)
            except ValueError:
                return json_error(400, "'callback_at' must be a local date and time like 2025-03-04T15:30")
        mine = body.get("callback_mine", True) is not False
        dnc = body.get("dnc") is True

        def done() -> web.Response:
            at = self.service.wrapup(
                agent_id, attempt_id, outcome=outcome, callback_at=callback, callback_mine=mine, dnc=dnc
            )
            return web.json_response({"ok": True, "callback_at": at})

        return self._call(done)

    async def hangup(self, request: web.Request) -> web.Response:
        agent_id = _agent(request)
        try:
            await self.service.hangup(agent_id)
        except CampaignConflict as err:
            return json_error(409, str(err))
        return web.json_response({"ok": True})

    async def dnc_current(self, request: web.Request) -> web.Response:
        agent_id = _agent(request)
        return self._call(
            lambda: web.json_response({"ok": True, "number": self.service.dnc_current(agent_id)})
        )

    async def dial(self, request: web.Request) -> web.Response:
        agent_id = _agent(request)
        body = await read_json(request)
        number = body.get("number")
        if not isinstance(number, str) or not number.strip():
            return json_error(400, "give the 'number' to dial")
        campaign = body.get("campaign")
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            return json_error(400, "'fields' must be an object of strings")
        clean = {str(k): str(v) for k, v in fields.items()}

        def dial() -> web.Response:
            attempt = self.service.manual_dial(
                agent_id,
                number.strip(),
                campaign=campaign if isinstance(campaign, str) else None,
                fields=clean,
            )
            return web.json_response({"ok": True, "attempt_id": attempt}, status=202)

        return self._call(dial)


async def _with_flushes(task: Awaitable[ImportReport], flush: Callable[[], Awaitable[None]]) -> ImportReport:
    """Run the import while writing its progress lines as they come (every 50 ms at most)."""
    job: asyncio.Future[ImportReport] = asyncio.ensure_future(task)
    while not job.done():
        await asyncio.wait([job], timeout=0.05)
        await flush()
    return job.result()


def openapi_schemas() -> dict[str, Any]:
    """`Campaign` (what create and update take) and the models it uses, from the configuration's
    own pydantic schema, so the document cannot drift from what the server accepts."""
    schema = CampaignConfig.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "Campaign": schema}


def openapi_paths() -> dict[str, Any]:
    """The campaign routes in OpenAPI 3.1 form, to merge into the document's `paths`."""
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    denied = {"401": {"description": "no session"}, "403": {"description": "not allowed for this role"}}

    def op(summary: str, *codes: str, body: str | None = None, ok: str = "200") -> dict[str, Any]:
        out: dict[str, Any] = {"summary": summary, "responses": {ok: {"description": "OK"}, **denied}}
        for code in codes:
            out["responses"][code] = error
        if body == "json":
            out["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        elif body == "csv":
            out["requestBody"] = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
        return out

    name = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    campaign_body = {"$ref": "#/components/schemas/Campaign"}
    create = op("Create a campaign (supervisors)", "400", "409", ok="201")
    create["requestBody"] = {"required": True, "content": {"application/json": {"schema": campaign_body}}}
    update = op("Change a stopped campaign's settings (supervisors)", "400", "404", "409")
    update["requestBody"] = create["requestBody"]
    lists = op(
        "Import a CSV list (body: the file; ?list=<name>&phone=<col>[,<col>]&id=&time_zone=&priority="
        "&region=&fields=; ?stream=1 answers JSON lines: progress, then the report with per-row errors)."
        " All or nothing",
        "400",
        "404",
        "409",
        "413",
        "422",
        body="csv",
    )
    return {
        "/api/campaigns": {
            "get": op("Every campaign: settings, tile and compliance meter, lists (supervisors)"),
            "post": create,
        },
        "/api/campaigns/{name}": {
            "parameters": name,
            "get": op("One campaign: settings, tile and compliance meter, lists", "404"),
            "put": update,
        },
        "/api/campaigns/{name}/start": {
            "parameters": name,
            "post": op("Start or resume dialling", "404", "409"),
        },
        "/api/campaigns/{name}/pause": {
            "parameters": name,
            "post": op("Pause dialling (calls go on)", "404", "409"),
        },
        "/api/campaigns/{name}/stop": {
            "parameters": name,
            "post": op("Stop: unanswered lines are hung up, conversations go on", "404", "409"),
        },
        "/api/campaigns/{name}/mode": {
            "parameters": name,
            "post": op("Change the dialling mode while running ({mode})", "400", "404", "409", body="json"),
        },
        "/api/campaigns/{name}/target": {
            "parameters": name,
            "post": op(
                "Change the abandon rate the pacer aims at ({abandon_target}: 0..cap or null)",
                "400",
                "404",
                "409",
                body="json",
            ),
        },
        "/api/campaigns/{name}/lists": {"parameters": name, "post": lists},
        "/api/campaigns/{name}/report.csv": {
            "parameters": name,
            "get": op("Compliance report: one row per dial with every time and decision (CSV, UTC)", "404"),
        },
        "/api/campaigns/{name}/refusals.csv": {
            "parameters": name,
            "get": op("Dials the rules refused: when, which rule, why, allowed from (CSV)", "404"),
        },
        "/api/dnc": {
            "post": op(
                "Import do-not-call numbers (body: one per line or a CSV's first column; ?campaign=<name>, "
                "none for the global list; ?region=US for national numbers). All or nothing",
                "404",
                "413",
                "422",
                body="csv",
            )
        },
        "/api/campaign-desk": {
            "get": op("My campaign: slot, line, preview card, current call, outcome codes (agents)")
        },
        "/api/campaign-desk/line": {
            "post": op(
                "Keep my phone connected between calls ({enabled}); inbound calls use it too",
                "400",
                body="json",
            )
        },
        "/api/campaign-desk/preview/dial": {"post": op("Dial the lead on my preview card", "409")},
        "/api/campaign-desk/preview/skip": {
            "post": op(
                "Skip the lead on my preview card ({reason}, {final}: never call it)",
                "400",
                "409",
                body="json",
            )
        },
        "/api/campaign-desk/wrapup": {
            "post": op(
                "Code my call ({attempt_id}, {outcome}; {callback_at}: local time of the lead,"
                " {callback_mine}; {dnc})",
                "400",
                "409",
                body="json",
            )
        },
        "/api/campaign-desk/hangup": {"post": op("End my campaign call (my line stays up)", "409")},
        "/api/campaign-desk/dnc": {
            "post": op("Put the number I am talking to on the do-not-call list", "409")
        },
        "/api/campaign-desk/dial": {
            "post": op(
                "Dial a number by hand through a campaign I work ({number}, {campaign}, {fields}):"
                " its rules apply",
                "400",
                "409",
                body="json",
                ok="202",
            )
        },
    }
