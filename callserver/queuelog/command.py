"""`callserver queue-log --from --to [FILE]`: a period's `queue_log` from the database, for a reader
that missed the file or wants one period (QueueMetrics' import, a check against the file)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from callserver.config import Settings
from callserver.store.store import Store

from .export import QueueLogExport, mapper_factory


def moment(text: str) -> float:
    """Unix seconds from an ISO 8601 date or time (naive: UTC) or from Unix seconds themselves."""
    try:
        return float(text)
    except ValueError:
        pass
    when = datetime.fromisoformat(text)
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()


def export_queue_log(
    settings: Settings, agent_queues: Mapping[str, Iterable[str]], start: float, end: float, path: Path | None
) -> int:
    """Write the lines of [start, end) to `path` (None: standard output); returns the exit code."""
    if end <= start:
        print("--to must be after --from", file=sys.stderr)
        return 1
    try:
        sink = path.open("w", encoding="utf-8", newline="\n") if path is not None else sys.stdout
    except OSError as err:
        print(f"{path}: cannot write: {err.strerror}", file=sys.stderr)
        return 1
    try:
        count = asyncio.run(_export(settings, agent_queues, start, end, sink))
    finally:
        if path is not None:
            sink.close()
    if path is not None:
        print(f"{path}: {count} lines written")
    return 0


async def _export(
    settings: Settings, agent_queues: Mapping[str, Iterable[str]], start: float, end: float, sink: IO[str]
) -> int:
    store = await Store.open(settings.database_url(), region=settings.customers.default_region)
    count = 0
    try:
        export = QueueLogExport(
            store, mapper_factory(settings, agent_queues), lookback=settings.queue_log.lookback
        )
        async for line in export.lines(start, end):
            sink.write(line)
            count += 1
    finally:
        await store.close()
    return count
