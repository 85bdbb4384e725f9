"""REST for the call search (supervisors and admins): calls by time, caller number, customer, agent,
queue and outcome, a page at a time; and one call's timeline.

Dates are the centre's days (`from` and `to` both included, as in the reports); a time without an
offset is the centre's local time. Numbers are read as E.164 with `customers.default_region`, so a
supervisor types a number the way they read it. Payloads are mapped here from the store's records;
no row leaves as it is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from aiohttp import web

from callserver.history.timeline import Entry, EntryKind, VoicemailMark, WrapupSpan, timeline
from callserver.store.call_search import BadCursor, CallHistory, CallQuery, Cursor, FoundCall
from callserver.store.phones import e164_or_none
from callserver.store.records import CallRecord
from callserver.store.store import Store
from callserver.voicemail.model import voicemail_id_of
from callserver.web.api import PRINCIPAL, json_error
from callserver.web.params import bad_parameter, path_parameters, query_parameters

DEFAULT_PAGE = 50
MAX_PAGE = 200
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_YEARS = (1970, 9000)  # what every database and time zone conversion can hold
_DIALABLE = re.compile(r"^\+?[0-9][0-9 ().\-/]*$")


class BadQuery(ValueError):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(problem)
        self.name = name


def _when(raw: str, name: str, zone: tzinfo, *, end: bool) -> datetime:
    """A bound of the search: a local day (its start, or for `to` the start of the next day), or
    a time (local when it has no offset)."""
    try:
        if _DAY.match(raw):
            day = date.fromisoformat(raw)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), zone)
        else:
            moment = datetime.fromisoformat(raw)
            moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    except (ValueError, OverflowError):
        raise BadQuery(name, "is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM)") from None
    if not _YEARS[0] <= moment.year <= _YEARS[1]:
        raise BadQuery(name, f"must be between the years {_YEARS[0]} and {_YEARS[1]}")
    return moment


def parse_query(params: Any, zone: tzinfo) -> CallQuery:
    """The search the query string asks for; BadQuery names the parameter at fault. Ranges and
    patterns were checked already (`web/params.py`); this reads their meaning."""

    def text(name: str) -> str | None:
        value = str(params.get(name, "")).strip()
        return value or None

    since = _when(raw, "from", zone, end=False) if (raw := text("from")) else None
    until = _when(raw, "to", zone, end=True) if (raw := text("to")) else None
    if since is not None and until is not None and until <= since:
        raise BadQuery("to", "is before 'from'")
    number = text("number")
    if number is not None and not _DIALABLE.match(number):
        raise BadQuery("number", "is not a phone number (digits, an optional +, spaces)")
    cursor = text("cursor")
    try:
        after = Cursor.decode(cursor) if cursor is not None else None
    except BadCursor as err:
        raise BadQuery("cursor", str(err)) from None
    limit = text("limit")
    return CallQuery(
        since=since,
        until=until,
        number=number,
        customer=text("customer"),
        agent=text("agent"),
        queue=text("queue"),
        outcome=text("outcome"),
        limit=int(limit) if limit is not None else DEFAULT_PAGE,
        after=after,
    )


def _iso(at: datetime | None, zone: tzinfo) -> str | None:
    return at.astimezone(zone).isoformat() if at is not None else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 1)


class CallHistoryApi:
    def __init__(
        self,
        store: Store,
        *,
        region: str | None,
        zone: tzinfo,
        agent_name: Callable[[str], str],
        voicemail_audio: bool,
    ) -> None:
        self.store = store
        self.region = region
        self.zone = zone
        self.agent_name = agent_name
        self.voicemail_audio = voicemail_audio  # the voicemail routes exist: link the recordings

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/calls", self.search),
            web.get("/api/calls/{call_id}/timeline", self.timeline),
        ]

    def _name(self, agent_id: str | None) -> str | None:
        return self.agent_name(agent_id) if agent_id is not None else None

    def _audio(self, voicemail_id: int | None) -> str | None:
        if voicemail_id is None or not self.voicemail_audio:
            return None
        return f"/api/voicemails/{voicemail_id}/audio"

    def call_view(self, c: CallRecord, customer_name: str | None, voicemail_id: int | None) -> dict[str, Any]:
        return {
            "id": c.id,
            "arrived_at": _iso(c.arrived_at, self.zone),
            "answered_at": _iso(c.answered_at, self.zone),
            "ended_at": _iso(c.ended_at, self.zone),
            "caller_num": c.caller_num,
            "caller_e164": e164_or_none(c.caller_num, self.region) if c.caller_num else None,
            "caller_name": c.caller_name,
            "dnis": c.dnis,
            "queue": c.queue,
            "first_queue": c.first_queue,
            "customer_id": c.customer_id,
            "customer_name": customer_name,
            "agent_id": c.agent_id,
            "agent_name": self._name(c.agent_id),
            "outcome": c.outcome,
            "wait": c.wait,
            "talk": _seconds(c.answered_at, c.ended_at),
            "offers": c.offers,
            "wrapup_outcome": c.wrapup_outcome,
            "wrapup_note": c.wrapup_note,
            "end_reason": c.end_reason,
            "voicemail_id": voicemail_id,
        }

    async def search(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        try:
            query = parse_query(request.query, self.zone)
        except BadQuery as err:
            return bad_parameter(err.name, "query", str(err))
        page = await self.store.search_calls(query, region=self.region, task_voicemail=voicemail_id_of)
        return web.json_response(
            {
                "calls": [self._found(f) for f in page.calls],
                "next_cursor": page.next.encode() if page.next is not None else None,
                "limit": query.limit,
            }
        )

    def _found(self, f: FoundCall) -> dict[str, Any]:
        return self.call_view(f.call, f.customer_name, f.voicemail_id)

    async def timeline(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        call_id = request.match_info["call_id"]
        history = await self.store.call_history(call_id, task_voicemail=voicemail_id_of)
        if history is None:
            return json_error(404, f"no call '{call_id}'")
        return web.json_response(self.timeline_view(history))

    def timeline_view(self, history: CallHistory) -> dict[str, Any]:
        marks = [
            VoicemailMark(v.recorded_at.timestamp(), v.id, v.box, v.duration, v.has_audio, v.status)
            for v in history.voicemails
        ]
        spans = [
            WrapupSpan(w.agent_id, w.started_at.timestamp(), w.ended_at.timestamp() if w.ended_at else None)
            for w in history.wrapups
        ]
        entries = timeline(((e.kind, e.payload) for e in history.events), marks, spans)
        first_vm = history.voicemails[0].id if history.voicemails else None
        return {
            "call": self.call_view(history.call, history.customer_name, first_vm),
            "entries": [self._entry(e) for e in entries],
            "voicemails": [
                {
                    "id": v.id,
                    "box": v.box,
                    "recorded_at": _iso(v.recorded_at, self.zone),
                    "duration": v.duration,
                    "status": v.status,
                    "agent_id": v.agent_id,
                    "outcome": v.outcome,
                    "audio": self._audio(v.id) if v.has_audio else None,
                }
                for v in history.voicemails
            ],
            "script_runs": [
                {
                    "run_id": r.run_id,
                    "script_id": r.script_id,
                    "title": r.title,
                    "status": r.status,
                    "outcome": r.outcome,
                    "agent_id": r.agent_id,
                    "started_at": _iso(r.started_at, self.zone),
                    "ended_at": _iso(r.ended_at, self.zone),
                }
                for r in history.script_runs
            ],
        }

    def _entry(self, e: Entry) -> dict[str, Any]:
        detail = dict(e.detail)
        if e.kind is EntryKind.VOICEMAIL and detail.get("has_audio"):
            detail["audio"] = self._audio(int(detail["voicemail_id"]))
        return {
            "at": datetime.fromtimestamp(e.at, UTC).astimezone(self.zone).isoformat(),
            "t": e.at,
            "kind": e.kind.value,
            "agent_id": e.agent_id,
            "agent_name": self._name(e.agent_id),
            "detail": detail,
        }


def openapi_paths() -> dict[str, Any]:
    """The routes above as OpenAPI path items (merged by `web/openapi.py`)."""
    denied = {"401": {"description": "no session"}, "403": {"description": "not allowed for this role"}}
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "/api/calls": {
            "get": {
                "summary": "Search calls, newest first, a page at a time (supervisors): by arrival "
                "(`from`/`to`: local days, both included, or times), caller number (compared in "
                "E.164), customer (id, account or part of the name), agent (offered or answered), "
                "queue (first or last), outcome (how it ended, or the wrap-up code). The next page: "
                "`cursor` = the answer's `next_cursor`",
                "parameters": query_parameters("/api/calls"),
                "responses": {
                    "200": {
                        "description": "one page",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/CallPage"}}
                        },
                    },
                    "400": error,
                    **denied,
                },
            }
        },
        "/api/calls/{call_id}/timeline": {
            "parameters": path_parameters(["call_id"]),
            "get": {
                "summary": "One call and what happened to it, in order (supervisors): IVR path, "
                "queueing and overflows, offers with ring-no-answer, answer, holds, transfers and "
                "consultations, wrap-up with outcome and note, script runs, voicemail with its audio",
                "responses": {
                    "200": {
                        "description": "the call's timeline",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/CallTimeline"}}
                        },
                    },
                    "404": error,
                    **denied,
                },
            },
        },
    }


SCHEMAS: dict[str, Any] = {
    "CallPage": {
        "type": "object",
        "required": ["calls", "next_cursor", "limit"],
        "properties": {
            "calls": {"type": "array", "items": {"type": "object"}},
            "next_cursor": {"type": ["string", "null"]},
            "limit": {"type": "integer"},
        },
    },
    "CallTimeline": {
        "type": "object",
        "required": ["call", "entries", "voicemails", "script_runs"],
        "properties": {
            "call": {"type": "object"},
            "entries": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["at", "t", "kind", "agent_id", "agent_name", "detail"],
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "t": {"type": "number"},
                        "kind": {"enum": [k.value for k in EntryKind]},
                        "agent_id": {"type": ["string", "null"]},
                        "agent_name": {"type": ["string", "null"]},
                        "detail": {"type": "object"},
                    },
                },
            },
            "voicemails": {"type": "array", "items": {"type": "object"}},
            "script_runs": {"type": "array", "items": {"type": "object"}},
        },
    },
}
