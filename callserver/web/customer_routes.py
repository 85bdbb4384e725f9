"""REST for the customer base: search and list (paginated, bounded), one customer with their
recent calls, and CSV import and export for supervisors.

Imports are all or nothing: the whole file is checked first and every problem comes back naming
its line and column; only a file without any is written, in one transaction. Exports stream a
batch of rows at a time, so a large base never sits in memory. The CSV format is the one of the
seed file and of `callserver customers import|export` (`store/customer_csv.py`).
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import Callable
from typing import Any

from aiohttp import web

from callserver.store import customer_csv
from callserver.store.store import Store
from callserver.web.api import PRINCIPAL, json_error
from callserver.web.params import path_parameters, query_parameters
from callserver.web.pops import customer_view, history_view

DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_QUERY = 100
MAX_IMPORT = 64 * 1024 * 1024  # bytes of CSV in one request
MAX_PROBLEMS = 200  # listed in a refused import's reply (the count says how many in all)
HISTORY = 10
_SPOOL = 1024 * 1024


class CustomersApi:
    def __init__(self, store: Store, *, region: str | None, agent_name: Callable[[str], str]) -> None:
        self.store = store
        self.region = region
        self.agent_name = agent_name

    def routes(self) -> list[web.RouteDef]:
        # the export before `{customer_id}`: routes match in the order they are added
        return [
            web.get("/api/customers", self.search),
            web.get("/api/customers/export", self.export),
            web.post("/api/customers/import", self.import_csv),
            web.get("/api/customers/{customer_id}", self.one),
        ]

    async def search(self, request: web.Request) -> web.Response:
        """Agents and supervisors: `q` matches names, e-mails, accounts and phone digits."""
        query = request.query.get("q", "").strip()
        if len(query) > MAX_QUERY:
            return json_error(400, f"'q' is limited to {MAX_QUERY} characters")
        try:
            limit = _bounded(request.query.get("limit"), DEFAULT_PAGE, 1, MAX_PAGE, "limit")
            offset = _bounded(request.query.get("offset"), 0, 0, 10**9, "offset")
        except ValueError as err:
            return json_error(400, str(err))
        records, total = await self.store.search_customers(query, limit=limit, offset=offset)
        return web.json_response(
            {
                "customers": [customer_view(r) for r in records],
                "total": total,
                "limit": limit,
                "offset": offset,
                "q": query,
            }
        )

    async def one(self, request: web.Request) -> web.Response:
        try:
            customer_id = int(request.match_info["customer_id"])
        except ValueError:
            return json_error(404, "no such customer")
        record = await self.store.customer(customer_id)
        if record is None:
            return json_error(404, "no such customer")
        view = customer_view(record)
        calls = await self.store.contact_history(customer_id, HISTORY)
        view["history"] = [history_view(r, self.agent_name) for r in calls]
        return web.json_response(view)

    async def export(self, request: web.Request) -> web.StreamResponse:
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="customers.csv"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            }
        )
        await response.prepare(request)
        await response.write("".join(customer_csv.csv_lines([], header=True)).encode())
        async for batch in self.store.export_customers():
            await response.write("".join(customer_csv.csv_lines(batch, header=False)).encode())
        await response.write_eof()
        return response

    async def import_csv(self, request: web.Request) -> web.Response:
        """The body is the CSV file; `?update=true` overwrites customers already known."""
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        update = request.query.get("update", "false").lower() in ("1", "true", "yes")
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
            size = 0
            async for chunk in request.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MAX_IMPORT:
                    return json_error(413, f"a CSV import is limited to {MAX_IMPORT // (1024 * 1024)} MiB")
                spool.write(chunk)
            spool.seek(0)
            read = await asyncio.to_thread(_read, spool, self.region)
        if read.problems:
            messages = [_where(p) for p in read.problems]
            return json_error(
                400,
                f"nothing imported: {len(messages)} problem(s) in the file",
                problems=messages[:MAX_PROBLEMS],
                problem_count=len(messages),
            )
        counts = await self.store.import_customers(read.rows, update=update)
        return web.json_response(
            {
                "rows": len(read.rows),
                "created": counts.created,
                "updated": counts.updated,
                "skipped": counts.skipped,
            }
        )


def _read(binary: Any, region: str | None) -> customer_csv.CsvRead:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        return customer_csv.read_csv(text, region)
    finally:
        text.detach()


def _where(p: customer_csv.CsvProblem) -> str:
    if p.column is None:
        return f"line {p.line}: {p.message}"
    return f"line {p.line}, column {p.column} ({p.field}): {p.message}"


def _bounded(raw: str | None, default: int, low: int, high: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"'{name}' must be a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"'{name}' must be between {low} and {high}")
    return value


def openapi_paths() -> dict[str, Any]:
    """The routes above as OpenAPI path items (merged by `web/openapi.py`)."""
    denied = {"401": {"description": "no session"}, "403": {"description": "not allowed for this role"}}
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    query = query_parameters("/api/customers")
    return {
        "/api/customers": {
            "get": {
                "summary": "Search and list customers, a page at a time: `q` matches names, e-mails, "
                f"accounts and phone digits (at most {MAX_PAGE} per page)",
                "parameters": query,
                "responses": {
                    "200": {
                        "description": "one page",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/CustomerPage"}}
                        },
                    },
                    "400": error,
                    **denied,
                },
            },
        },
        "/api/customers/export": {
            "get": {
                "summary": "Every customer as CSV, streamed (supervisors)",
                "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}, **denied},
            }
        },
        "/api/customers/import": {
            "post": {
                "summary": "Import customers from CSV (supervisors), in one transaction: a file with "
                "any problem imports nothing and each problem names its line and column. "
                "`update=true` overwrites customers already known (same account, else same phone)",
                "parameters": query_parameters("/api/customers/import"),
                "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": {
                    "200": {
                        "description": "imported",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ImportResult"}}
                        },
                    },
                    "400": error,
                    "413": error,
                    **denied,
                },
            }
        },
        "/api/customers/{customer_id}": {
            "parameters": path_parameters(["customer_id"]),
            "get": {
                "summary": "One customer with their latest calls (agent names)",
                "responses": {"200": {"description": "the customer"}, "404": error, **denied},
            },
        },
    }


SCHEMAS: dict[str, Any] = {
    "CustomerPage": {
        "type": "object",
        "required": ["customers", "total", "limit", "offset", "q"],
        "properties": {
            "customers": {"type": "array", "items": {"type": "object"}},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "q": {"type": "string"},
        },
    },
    "ImportResult": {
        "type": "object",
        "required": ["rows", "created", "updated", "skipped"],
        "properties": {k: {"type": "integer"} for k in ("rows", "created", "updated", "skipped")},
    },
}
