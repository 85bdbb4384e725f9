"""Reports for the REST API and the CLI: the catalogue, parameter checks, and a rebuild.

Both front ends go through `parse_request`, so `?interval=7m` and `--interval 7m` fail with the
same message naming the parameter, and through `report_rows`, so they give the same rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ..acd.specs import queue_spec
from ..config import Settings
from ..facts.model import Fact
from ..figures import ServiceLevelVariant
from ..store.reports import ReportStore
from .catalogue import Interval, ReportDefinition, catalogue
from .fold import ReportFold
from .query import MAX_DAYS, Column, ReportContext, ReportRequest, Row, columns, report_rows

FORMATS = ("json", "csv")


class ReportParamError(ValueError):
    """A bad parameter: `param` names it, the message says what is wrong."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"'{param}' {message}")
        self.param = param


class UnknownReport(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class PreparedReport:
    request: ReportRequest
    format: str
    meta: dict[str, object]
    columns: list[Column]

    @property
    def filename(self) -> str:
        return f"{self.request.definition.name}_{self.request.first}_{self.request.last}.{self.format}"


def context_of(settings: Settings) -> ReportContext:
    skill_queues: dict[str, set[str]] = {}
    for qc in settings.queues:
        for skill in queue_spec(qc, settings.acd.wrapup).skills:
            skill_queues.setdefault(skill, set()).add(qc.name)
    return ReportContext(
        zone=ZoneInfo(settings.reports.timezone),
        skill_queues={k: frozenset(v) for k, v in skill_queues.items()},
        service_level={q: ServiceLevelVariant(v) for q, v in settings.reports.service_level.items()},
    )


def fold_of(settings: Settings, agent_queues: Mapping[str, Sequence[str]]) -> ReportFold:
    """The fold the server keeps: the live book's queues, agents' queues and service target."""
    return ReportFold(
        [q.name for q in settings.queues], agent_queues=agent_queues, service_time=settings.web.service_target
    )


class Reports:
    def __init__(self, store: ReportStore, settings: Settings) -> None:
        self.store = store
        self.definitions = catalogue(settings.reports.definitions)
        self.context = context_of(settings)

    def listing(self) -> list[dict[str, object]]:
        return [
            {
                "name": d.name,
                "title": d.title,
                "dimension": d.dimension.value,
                "figures": [{"key": f.key, "label": f.label, "unit": f.unit} for f in d.figures],
                "intervals": [i.value for i in Interval],
                "interval": d.interval.value,
            }
            for d in self.definitions.values()
        ]

    def prepare(self, name: str, params: Mapping[str, Sequence[str]]) -> PreparedReport:
        """Check every parameter; raises UnknownReport or ReportParamError."""
        definition = self.definitions.get(name)
        if definition is None:
            raise UnknownReport(f"no report named '{name}'")
        first = _date(params, "from")
        last = _date(params, "to")
        if last < first:
            raise ReportParamError("to", f"must not be before 'from' ({first})")
        if last - first > timedelta(days=MAX_DAYS):
            raise ReportParamError("to", f"must be at most {MAX_DAYS} days after 'from'")
        interval = definition.interval
        raw = _one(params, "interval")
        if raw is not None:
            try:
                interval = Interval(raw)
            except ValueError:
                raise ReportParamError(
                    "interval", f"must be one of {', '.join(i.value for i in Interval)}"
                ) from None
        fmt = _one(params, "format") or "json"
        if fmt not in FORMATS:
            raise ReportParamError("format", f"must be one of {', '.join(FORMATS)}")
        dim = definition.dimension.value
        for key in params:
            if key not in ("from", "to", "interval", "format", dim):
                raise ReportParamError(key, f"is not a parameter of report {name} (filter on '{dim}')")
        filters = tuple(params[dim]) if dim in params else None
        for value in filters or ():
            if not value or len(value) > 128:
                raise ReportParamError(dim, "must be an id of 1 to 128 characters")
        request = ReportRequest(definition, first, last, interval, filters)
        meta: dict[str, object] = {
            "name": definition.name,
            "title": definition.title,
            "dimension": dim,
            "interval": interval.value,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "timezone": self.context.zone.key,
        }
        return PreparedReport(request, fmt, meta, columns(definition))

    def rows(self, prepared: PreparedReport) -> AsyncIterator[Row]:
        return report_rows(self.store, prepared.request, self.context)

    def definition(self, name: str) -> ReportDefinition | None:
        return self.definitions.get(name)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ReportParamError(name, "must be given once")
    return values[0]


def _date(params: Mapping[str, Sequence[str]], name: str) -> date:
    raw = _one(params, name)
    if raw is None:
        raise ReportParamError(name, "is required (a date YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_date(name)
    except ValueError:
        return _bad_date(name)


def _bad_date(name: str) -> date:
    raise ReportParamError(name, "must be a date YYYY-MM-DD")


async def rebuild(
    store: ReportStore, fold: ReportFold, facts: AsyncIterator[Fact], every: int = 20_000
) -> int:
    """Empty the report tables and fill them again from `facts` (the event log, in order).

    Run it with the server stopped: the live writer would add its increments on top."""
    await store.clear()
    count = 0
    last = 0.0
    async for fact in facts:
        fold.apply(fact)
        count += 1
        last = max(last, fact.at)
        if count % every == 0:
            await store.add(fold.changes(last))
    await store.add(fold.changes(last))
    return count
