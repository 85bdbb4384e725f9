"""Settings and a filled report store for the report tests."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from callserver.config import Settings, parse_settings
from callserver.facts.model import Fact
from callserver.reports.fold import ReportFold
from callserver.reports.service import Reports, fold_of
from callserver.reports.writer import ReportWriter
from callserver.store.reports import ReportStore
from callserver.store.store import Store
from tests.reports.scenario import AGENTS, DNIS

ZONE = "Europe/Paris"


def settings(database: dict[str, str] | None = None, **reports: object) -> Settings:
    data = {
        "skills": ["selling", "helping"],
        "agents": [
            {"id": a, "name": a, "login": a, "interface": f"PJSIP/{a}", "skills": {s: 5 for s in _skills(qs)}}
            for a, qs in AGENTS.items()
        ],
        "queues": [
            {"name": "sales", "dnis": [DNIS["sales"]], "skills": ["selling"]},
            {"name": "support", "dnis": [DNIS["support"]], "skills": ["helping"]},
        ],
        "reports": {"timezone": ZONE, **reports},
    }
    if database is not None:
        data["database"] = database
    return parse_settings(data, "<report test settings>", env={})


def _skills(queues: list[str]) -> list[str]:
    return [{"sales": "selling", "support": "helping"}[q] for q in queues]


def fold(conf: Settings) -> ReportFold:
    return fold_of(conf, AGENTS)


async def filled(store: Store, facts: list[Fact], conf: Settings, *, every: int = 50) -> Reports:
    """The facts through the report writer (written every `every` facts) into the tables."""
    report_store = ReportStore(store.engine, ZoneInfo(conf.reports.timezone))
    clock = [0.0]
    writer = ReportWriter(report_store, fold(conf), lambda: clock[0])
    for i, fact in enumerate(facts, 1):
        clock[0] = fact.at
        writer.submit(fact)
        if i % every == 0:
            await writer.flush()
    clock[0] = facts[-1].at + 1
    await writer.stop()
    return Reports(report_store, conf)
