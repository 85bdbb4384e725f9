"""The aggregated report tables: increments added in one transaction, rows read back as a stream.

Only the report writer (and a rebuild) add to these tables, and only increments handed out by the
report fold; the call rows are untouched (they change through `store/facts.py` alone). Each
increment goes to its 15-minute bucket and to the local day holding it, so day, week and month
reports read a few rows per dimension value and day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..reports.counters import MAXIMUM, NAMES, Counters, summed
from ..reports.fold import RowChange
from .bulk import execute_records
from .models import ReportBucket, ReportDay

_BUCKETS: Table = ReportBucket.__table__  # type: ignore[assignment]
_DAYS: Table = ReportDay.__table__  # type: ignore[assignment]
_STREAM_BATCH = 2000
_BUCKET_KEYS = ("kind", "start", "key")
_DAY_KEYS = ("kind", "day", "key")
_BUCKET_COLUMNS = (*_BUCKET_KEYS, *NAMES)
_DAY_COLUMNS = (*_DAY_KEYS, *NAMES)


@dataclass(frozen=True, slots=True)
class StoredRow:
    start: int | str  # bucket start (Unix seconds) or local day (YYYY-MM-DD)
    key: str
    counters: Counters


def local_day(start: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(start, zone).date().isoformat()


class ReportStore:
    def __init__(self, engine: AsyncEngine, zone: ZoneInfo) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.zone = zone
        self._postgres = engine.dialect.name == "postgresql"
        # built once, so that the bulk path compiles each for the first write only
        self._bucket_upsert = self._upsert(_BUCKETS, _BUCKET_KEYS)
        self._day_upsert = self._upsert(_DAYS, _DAY_KEYS)

    def _upsert(self, table: Table, keys: Sequence[str]) -> Any:
        stmt = postgresql.insert(table) if self._postgres else sqlite.insert(table)
        larger = func.greatest if self._postgres else func.max
        updates: dict[str, ColumnElement[Any]] = {
            name: larger(table.c[name], stmt.excluded[name])
            if name == MAXIMUM
            else table.c[name] + stmt.excluded[name]
            for name in NAMES
        }
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)

    async def add(self, changes: Sequence[RowChange]) -> None:
        """Add every increment to its bucket and its local day, in one transaction.

        The rows go to the driver as tuples (`bulk.execute_records`): through SQLAlchemy's
        executemany, building each row's parameters was most of a flush's time on the event
        loop, and a flush writes a row per agent who worked in the last seconds."""
        if not changes:
            return
        # one row per key: PostgreSQL refuses to upsert a row twice in one statement
        buckets: dict[tuple[str, int, str], tuple[float, ...]] = {}
        days: dict[tuple[str, str, str], tuple[float, ...]] = {}
        day_of: dict[int, str] = {}
        for c in changes:
            values = c.delta.values()
            bucket = (c.kind, c.start, c.key)
            earlier = buckets.get(bucket)
            buckets[bucket] = values if earlier is None else summed(earlier, values)
            day = day_of.get(c.start)
            if day is None:
                day = day_of[c.start] = local_day(c.start, self.zone)
            row = (c.kind, day, c.key)
            earlier = days.get(row)
            days[row] = values if earlier is None else summed(earlier, values)
        async with self._sessions.begin() as s:
            await execute_records(
                s, self._bucket_upsert, _BUCKET_COLUMNS, [(*k, *v) for k, v in buckets.items()]
            )
            await execute_records(s, self._day_upsert, _DAY_COLUMNS, [(*k, *v) for k, v in days.items()])

    async def clear(self) -> None:
        async with self._sessions.begin() as s:
            await s.execute(delete(_BUCKETS))
            await s.execute(delete(_DAYS))

    async def buckets(
        self, kind: str, first: int, end: int, keys: Collection[str] | None = None
    ) -> AsyncIterator[StoredRow]:
        """Bucket rows of `kind` with first <= start < end, by start then key, streamed."""
        query = select(*_columns(_BUCKETS, "start")).where(
            _BUCKETS.c.kind == kind, _BUCKETS.c.start >= first, _BUCKETS.c.start < end
        )
        if keys is not None:
            query = query.where(_BUCKETS.c.key.in_(sorted(keys)))
        async for row in self._stream(query.order_by(_BUCKETS.c.start, _BUCKETS.c.key)):
            yield StoredRow(int(row[1]), row[2], Counters(*row[3:]))

    async def days(
        self, kind: str, first: str, last: str, keys: Collection[str] | None = None
    ) -> AsyncIterator[StoredRow]:
        """Day rows of `kind` from local day `first` to `last` included, by day then key, streamed."""
        query = select(*_columns(_DAYS, "day")).where(
            _DAYS.c.kind == kind, _DAYS.c.day >= first, _DAYS.c.day <= last
        )
        if keys is not None:
            query = query.where(_DAYS.c.key.in_(sorted(keys)))
        async for row in self._stream(query.order_by(_DAYS.c.day, _DAYS.c.key)):
            yield StoredRow(str(row[1]), row[2], Counters(*row[3:]))

    async def _stream(self, query: Any) -> AsyncIterator[Any]:
        async with self._sessions() as s, s.begin():
            result = await _stream_of(s, query)
            async for partition in result.partitions(_STREAM_BATCH):
                for row in partition:
                    yield row


async def _stream_of(session: AsyncSession, query: Any) -> Any:
    return await session.stream(query.execution_options(yield_per=_STREAM_BATCH))


def _columns(table: Table, when: str) -> list[Any]:
    """kind, start (or day), key, then the counters in `Counters` order: rows are read by position."""
    return [table.c.kind, table.c[when], table.c.key, *(table.c[name] for name in NAMES)]
