"""The report routes: the catalogue and one report as JSON or CSV, streamed (docs/reports.md).

Supervisors and admins only. The body is written as the rows come from the aggregated tables, so
a month of 15-minute rows for every agent is never held in memory.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callserver.reports.output import csv_chunks, json_chunks
from callserver.reports.service import ReportParamError, Reports, UnknownReport
from callserver.web.api import PRINCIPAL, json_error
from callserver.web.params import path_parameters, query_parameters

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def openapi_paths() -> dict[str, Any]:
    """The two routes as OpenAPI path items (docs/reports.md has the full contract)."""
    return {
        "/api/reports": {
            "get": {
                "summary": "The reports (supervisors): name, title, dimension, figures {key, label, unit},"
                " intervals; docs/reports.md",
                "responses": {"200": {"description": "OK"}, "401": _ERROR, "403": _ERROR},
            }
        },
        "/api/reports/{report}": {
            "parameters": path_parameters(["report"]) + query_parameters("/api/reports/{report}"),
            "get": {
                "summary": "A report over local days from..to per interval, as JSON {report, columns, rows}"
                " or CSV (format=csv), streamed; filter with the report's dimension, e.g. queue=sales"
                " (repeatable); docs/reports.md",
                "responses": {
                    "200": {"description": "OK"},
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                },
            },
        },
    }


class ReportsApi:
    def __init__(self, reports: Reports) -> None:
        self.reports = reports

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/reports", self.listing),
            web.get("/api/reports/{report}", self.report),
        ]

    async def listing(self, request: web.Request) -> web.Response:
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        return web.json_response(self.reports.listing())

    async def report(self, request: web.Request) -> web.StreamResponse:
        if not request[PRINCIPAL].is_supervisor:
            return json_error(403, "supervisors only")
        params = {k: request.query.getall(k) for k in request.query}
        try:
            prepared = self.reports.prepare(request.match_info["report"], params)
        except UnknownReport as err:
            return json_error(404, str(err))
        except ReportParamError as err:
            return json_error(400, str(err), parameter=err.param)
        response = web.StreamResponse()
        if prepared.format == "csv":
            response.content_type = "text/csv"
            response.headers["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
            chunks = csv_chunks(prepared.columns, self.reports.rows(prepared))
        else:
            response.content_type = "application/json"
            chunks = json_chunks(prepared.meta, prepared.columns, self.reports.rows(prepared))
        response.charset = "utf-8"
        await response.prepare(request)
        async for chunk in chunks:
            await response.write(chunk.encode())
        await response.write_eof()
        return response
