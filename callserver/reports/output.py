"""A report as JSON or CSV text, produced piece by piece from the row stream.

The REST answer and the CLI write these chunks as they come; both formats carry the same columns
and values (CSV: `null` is an empty field, numbers as JSON writes them).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Mapping, Sequence

from .query import Column, Row

_FLUSH_ROWS = 500


async def json_chunks(
    meta: Mapping[str, object], cols: Sequence[Column], rows: AsyncIterator[Row]
) -> AsyncIterator[str]:
    head = {"report": meta, "columns": [{"key": c.key, "label": c.label, "unit": c.unit} for c in cols]}
    yield json.dumps(head)[:-1] + ', "rows": ['
    parts: list[str] = []
    first = True
    async for row in rows:
        parts.append(("" if first else ",") + json.dumps(row))
        first = False
        if len(parts) >= _FLUSH_ROWS:
            yield "".join(parts)
            parts = []
    parts.append("]}\n")
    yield "".join(parts)


async def csv_chunks(cols: Sequence[Column], rows: AsyncIterator[Row]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    keys = [c.key for c in cols]
    writer.writerow(keys)
    count = 0
    async for row in rows:
        # the csv module writes None as an empty field and numbers as str() does, which for int and
        # float is what json.dumps writes (ratios are never NaN or infinite: they are None instead)
        writer.writerow([row[k] for k in keys])
        count += 1
        if count % _FLUSH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
