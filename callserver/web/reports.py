"""The report routes: the catalogue and one report as JSON or CSV, streamed (docs/reports.md).

Supervisors and admins only. The body is written as the rows come from the aggregated tables, so
a month of 15-minute rows for every agent is never held in memory.
"""

from __future__ import annotations

from aiohttp import web

from callserver.reports.output import csv_chunks, json_chunks
from callserver.reports.service import ReportParamError, Reports, UnknownReport
from callserver.web.api import PRINCIPAL, json_error


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
