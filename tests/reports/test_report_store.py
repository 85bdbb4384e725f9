"""The report tables' writes: increments added to buckets and local days, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

import pytest

from callserver.reports.counters import NAMES, Counters
from callserver.reports.fold import BUCKET, RowChange
from callserver.store.bulk import execute_records
from callserver.store.reports import ReportStore, local_day
from callserver.store.store import Store

ZONE = ZoneInfo("Europe/Paris")
# 2026-03-28 22:00 UTC: the last buckets of a Paris day, the first of the next, then the
# night the clocks go forward (a local day of 23 hours)
FIRST = 1_774_735_200


def _counters(rng: random.Random) -> Counters:
    """Integers where the column is an integer, fractions elsewhere, each counter set."""
    made = Counters()
    for name in NAMES:
        value = getattr(made, name)
        setattr(made, name, rng.randint(0, 9) if isinstance(value, int) else round(rng.uniform(0, 500), 3))
    return made


def _changes(rng: random.Random, count: int) -> list[RowChange]:
    """Rows as the fold hands them out: each (kind, key, bucket) once per write."""
    keys = [("agent", "a1"), ("agent", "a2"), ("queue", "sales"), ("outcome", "sales/sold")]
    starts = [FIRST + BUCKET * i for i in range(12)]
    picked = rng.sample([(k, s) for k in keys for s in starts], count)
    return [RowChange(kind, key, start, _counters(rng)) for (kind, key), start in picked]


Row = tuple[str, int | str, str]


def _added(into: dict[Row, Counters], key: Row, delta: Counters) -> None:
    into.setdefault(key, Counters()).add(delta)


async def _read(reports: ReportStore, kind: str) -> dict[Row, Counters]:
    rows: dict[Row, Counters] = {}
    async for row in reports.buckets(kind, 0, 2**40):
        rows[(kind, row.start, row.key)] = row.counters
    async for row in reports.days(kind, "2000-01-01", "2100-01-01"):
        rows[(kind, row.start, row.key)] = row.counters
    return rows


def _close(found: Counters, expected: Counters) -> bool:
    return all(getattr(found, n) == pytest.approx(getattr(expected, n)) for n in NAMES)


async def test_writes_add_to_buckets_and_days_keeping_the_longest_wait(store: Store) -> None:
    """Several writes land on the same rows: each counter is the sum of every increment, the
    longest wait the largest, and a local day holds its buckets (days that cross the clock change
    included)."""
    reports = ReportStore(store.engine, ZONE)
    rng = random.Random(7)
    expected: dict[Row, Counters] = {}
    for _ in range(4):
        changes = _changes(rng, 30)
        await reports.add(changes)
        for c in changes:
            _added(expected, (c.kind, c.start, c.key), c.delta)
            _added(expected, (c.kind, local_day(c.start, ZONE), c.key), c.delta)
    found: dict[Row, Counters] = {}
    for kind in ("agent", "queue", "outcome"):
        found.update(await _read(reports, kind))
    assert found.keys() == expected.keys()
    assert len({k[1] for k in found if isinstance(k[1], str)}) == 2  # the buckets span two local days
    wrong = [k for k in expected if not _close(found[k], expected[k])]
    assert wrong == []


async def test_records_of_the_wrong_width_are_refused_naming_the_table(store: Store) -> None:
    reports = ReportStore(store.engine, ZONE)
    async with reports._sessions.begin() as s:
        with pytest.raises(ValueError, match="report_buckets"):
            await execute_records(
                s, reports._bucket_upsert, ("kind", "start", "key", *NAMES), [("agent", FIRST, "a1", 1)]
            )
