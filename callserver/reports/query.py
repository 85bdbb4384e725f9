"""A report over a date range: aggregated rows rolled up per interval in the centre's time zone.

Rows are streamed in the order the tables give them (by time, then dimension id), so a month of
15-minute rows for every agent never sits in memory: only the rows of one interval do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from ..figures import ServiceLevelVariant
from ..store.reports import ReportStore, StoredRow
from .catalogue import Basis, Dimension, Interval, ReportDefinition
from .counters import Counters

Row = dict[str, object]
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class ReportRequest:
    definition: ReportDefinition
    first: date
    last: date
    interval: Interval
    filters: tuple[str, ...] | None = None  # dimension ids; None: all


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    unit: str


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What a report needs from the configuration: skills' queues and each queue's SL variant."""

    zone: ZoneInfo
    skill_queues: Mapping[str, frozenset[str]]
    service_level: Mapping[str, ServiceLevelVariant]


def columns(definition: ReportDefinition) -> list[Column]:
    return [
        Column("interval_start", "Interval", "time"),
        Column("dimension", definition.dimension.value.replace("_", " ").capitalize(), "id"),
        *(Column(f.key, f.label, f.unit) for f in definition.figures),
    ]


def _period_start(local: datetime, interval: Interval) -> datetime:
    minutes = interval.minutes
    if minutes is not None:
        return local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    day = local.date()
    if interval is Interval.WEEK:
        day -= timedelta(days=day.weekday())
    elif interval is Interval.MONTH:
        day = day.replace(day=1)
    return datetime.combine(day, time(), local.tzinfo)


def _local(row: StoredRow, zone: ZoneInfo) -> datetime:
    if isinstance(row.start, int):
        return datetime.fromtimestamp(row.start, zone)
    return datetime.combine(date.fromisoformat(row.start), time(), zone)


async def report_rows(
    store: ReportStore, request: ReportRequest, context: ReportContext
) -> AsyncIterator[Row]:
    """The rows of a report, by interval start then dimension id."""
    definition, zone = request.definition, context.zone
    wanted = request.filters or (
        (definition.filters or {}).get(definition.dimension.value) if definition.filters else None
    )
    keys: Collection[str] | None = None
    expand: Mapping[str, tuple[str, ...]] | None = None  # stored key -> dimension ids (skills)
    if definition.dimension is Dimension.SKILL:
        skills = set(wanted) if wanted is not None else set(context.skill_queues)
        mapping: dict[str, list[str]] = {}
        for skill in sorted(skills):
            for queue in context.skill_queues.get(skill, ()):
                mapping.setdefault(queue, []).append(skill)
        expand = {q: tuple(s) for q, s in mapping.items()}
        keys = set(mapping)
    elif wanted is not None:
        keys = set(wanted)
    if keys is not None and not keys:
        return
    kind = definition.dimension.kind
    if request.interval.minutes is not None:
        first = int(datetime.combine(request.first, time(), zone).timestamp())
        end = int(datetime.combine(request.last + timedelta(days=1), time(), zone).timestamp())
        source = store.buckets(kind, first, end, keys)
    else:
        source = store.days(kind, request.first.isoformat(), request.last.isoformat(), keys)
    plan = _Plan.of(definition)
    current: datetime | None = None
    group: dict[str, Counters] = {}
    seen: int | str | None = None
    start = datetime.min
    async for stored in source:
        if stored.start != seen:  # rows come by time: one period lookup per bucket, not per row
            seen = stored.start
            start = _period_start(_local(stored, zone), request.interval)
        if current is not None and start != current:
            for row in _emit(current, group, plan, definition, context):
                yield row
            group = {}
        current = start
        for dim in expand.get(stored.key, ()) if expand is not None else (stored.key,):
            known = group.get(dim)
            if known is None:
                group[dim] = stored.counters if expand is None else _copy(stored.counters)
            else:
                known.add(stored.counters)
    if current is not None:
        for row in _emit(current, group, plan, definition, context):
            yield row


@dataclass(frozen=True, slots=True)
class _Plan:
    """How a definition's row is made: plain counts read in one go, the rest computed."""

    keys: tuple[str, ...]
    counts: Callable[[Counters], tuple[object, ...]] | None
    count_keys: tuple[str, ...]
    computed: tuple[tuple[str, Callable[[Basis], object]], ...]

    @classmethod
    def of(cls, definition: ReportDefinition) -> _Plan:
        direct = [f for f in definition.figures if f.counter is not None]
        names = [f.counter for f in direct if f.counter is not None]
        getter = attrgetter(*names) if names else None
        counts: Callable[[Counters], tuple[object, ...]] | None = None
        if getter is not None:
            counts = getter if len(names) > 1 else (lambda c: (getter(c),))
        return cls(
            keys=tuple(f.key for f in definition.figures),
            counts=counts,
            count_keys=tuple(f.key for f in direct),
            computed=tuple((f.key, f.compute) for f in definition.figures if f.counter is None),
        )


def _emit(
    start: datetime,
    group: Mapping[str, Counters],
    plan: _Plan,
    definition: ReportDefinition,
    context: ReportContext,
) -> list[Row]:
    stamp = start.isoformat()
    rows: list[Row] = []
    per_queue = definition.dimension is Dimension.QUEUE
    for dim in sorted(group):
        counters = group[dim]
        variant = (
            context.service_level.get(dim, ServiceLevelVariant.ANSWERED)
            if per_queue
            else ServiceLevelVariant.ANSWERED
        )
        values: dict[str, object] = {}
        if plan.counts is not None:
            values.update(zip(plan.count_keys, plan.counts(counters), strict=True))
        if plan.computed:
            basis = Basis.of(counters, variant)
            for key, compute in plan.computed:
                values[key] = compute(basis)
        row: Row = {"interval_start": stamp, "dimension": dim}
        for key in plan.keys:
            row[key] = values[key]
        rows.append(row)
    return rows


def _copy(counters: Counters) -> Counters:
    fresh = Counters()
    fresh.add(counters)
    return fresh
