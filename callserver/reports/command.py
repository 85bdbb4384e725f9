"""`callserver report`: one report to standard output, the catalogue, or a rebuild of the tables.

The report streams as the REST answer does (same rows, same CSV and JSON text), so a month of
15-minute rows goes out as it is read.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TextIO
from zoneinfo import ZoneInfo

from ..config import Settings
from ..store.reports import ReportStore
from ..store.store import Store
from .output import csv_chunks, json_chunks
from .service import ReportParamError, Reports, UnknownReport, fold_of, rebuild


async def run_report(
    settings: Settings,
    name: str | None,
    params: Mapping[str, Sequence[str]],
    *,
    listing: bool = False,
    rebuild_for: Mapping[str, Sequence[str]] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Exit status 0, or 2 for a bad parameter (the message names it), 1 for an unknown report.

    `rebuild_for`: agent id -> queues it serves; given, the tables are rebuilt from the event log."""
    store = await Store.open(settings.database_url(), region=settings.customers.default_region)
    try:
        report_store = ReportStore(store.engine, ZoneInfo(settings.reports.timezone))
        if rebuild_for is not None:
            count = await rebuild(report_store, fold_of(settings, rebuild_for), store.stream_facts())
            print(f"report tables rebuilt from {count} facts", file=err)
            return 0
        reports = Reports(report_store, settings)
        if listing:
            for entry in reports.listing():
                print(f"{entry['name']}: {entry['title']} (per {entry['dimension']})", file=out)
            return 0
        try:
            prepared = reports.prepare(name or "", params)
        except UnknownReport as problem:
            print(f"{problem}; known: {', '.join(reports.definitions)}", file=err)
            return 1
        except ReportParamError as problem:
            print(f"--{problem.param}: {problem}", file=err)
            return 2
        rows = reports.rows(prepared)
        chunks = (
            csv_chunks(prepared.columns, rows)
            if prepared.format == "csv"
            else json_chunks(prepared.meta, prepared.columns, rows)
        )
        async for chunk in chunks:
            out.write(chunk)
        out.flush()
        return 0
    finally:
        await store.close()
