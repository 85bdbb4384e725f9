"""The aggregated tables on SQLite and PostgreSQL: reports per interval in the centre's time zone,
equal to a SQL query over the call rows written from docs/metrics.md, CSV equal to JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from callserver import figures
from callserver.reports.output import csv_chunks, json_chunks
from callserver.reports.service import ReportParamError, Reports
from callserver.store.store import Store
from tests.reports.helpers import ZONE, filled, settings
from tests.reports.scenario import START, morning

DAY = datetime.fromtimestamp(START, ZoneInfo(ZONE)).date().isoformat()

# docs/metrics.md, "The figures in SQL": per queue, the calls that arrived in [:t0, :t1)
OUTCOMES_SQL = """
SELECT queue,
  SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS answered,
  SUM(CASE WHEN answered_at IS NOT NULL AND wait <= :t THEN 1 ELSE 0 END) AS answered_in_time,
  SUM(CASE WHEN answered_at IS NULL AND outcome = 'abandoned' AND wait >= :short THEN 1 ELSE 0 END)
    AS abandoned,
  SUM(CASE WHEN answered_at IS NULL AND outcome = 'abandoned' AND wait < :short THEN 1 ELSE 0 END)
    AS short_abandoned,
  SUM(CASE WHEN answered_at IS NULL AND outcome = 'timed_out' THEN 1 ELSE 0 END) AS timed_out,
  SUM(CASE WHEN answered_at IS NOT NULL THEN wait ELSE 0 END) AS wait_answered
FROM calls WHERE arrived_at >= :t0 AND arrived_at < :t1
GROUP BY queue
"""
OFFERED_SQL = """
SELECT first_queue AS queue, COUNT(*) AS offered,
  SUM(CASE WHEN queue <> first_queue THEN 1 ELSE 0 END) AS overflowed_out
FROM calls WHERE arrived_at >= :t0 AND arrived_at < :t1
GROUP BY first_queue
"""
OVERFLOWED_IN_SQL = """
SELECT queue, COUNT(*) AS overflowed_in
FROM calls WHERE arrived_at >= :t0 AND arrived_at < :t1 AND queue <> first_queue
GROUP BY queue
"""


async def _report(reports: Reports, name: str, **params: str) -> list[dict[str, object]]:
    prepared = reports.prepare(name, {"from": [DAY], "to": [DAY], **{k: [v] for k, v in params.items()}})
    return [row async for row in reports.rows(prepared)]


async def _sql_counts(store: Store, t0: datetime, t1: datetime) -> dict[str, figures.CallCounts]:
    bounds = {"t0": t0, "t1": t1, "t": 20.0, "short": figures.DEFAULT_SHORT_ABANDON}
    found: dict[str, dict[str, float]] = {}
    async with store.engine.connect() as conn:
        for sql in (OUTCOMES_SQL, OFFERED_SQL, OVERFLOWED_IN_SQL):
            for row in (await conn.execute(text(sql), bounds)).mappings():
                found.setdefault(row["queue"], {}).update({k: v for k, v in row.items() if k != "queue"})
    return {
        q: figures.CallCounts(
            offered=int(v.get("offered", 0)),
            overflowed_in=int(v.get("overflowed_in", 0)),
            overflowed_out=int(v.get("overflowed_out", 0)),
            answered=int(v.get("answered", 0)),
            answered_in_time=int(v.get("answered_in_time", 0)),
            abandoned=int(v.get("abandoned", 0)),
            short_abandoned=int(v.get("short_abandoned", 0)),
            timed_out=int(v.get("timed_out", 0)),
            wait_answered=float(v.get("wait_answered", 0.0)),
        )
        for q, v in found.items()
    }


async def test_hourly_queue_report_equals_sql_over_the_call_rows(store: Store) -> None:
    facts = morning()
    await store.apply(facts)
    reports = await filled(store, facts, settings())
    rows = await _report(reports, "queue_intervals", interval="60m")
    assert rows, "the morning produced no report rows"
    checked = 0
    for row in rows:
        start = datetime.fromisoformat(str(row["interval_start"]))
        counts = (
            await _sql_counts(store, start.astimezone(UTC), (start + timedelta(hours=1)).astimezone(UTC))
        )[str(row["dimension"])]
        for name in ("offered", "overflowed_in", "overflowed_out", "answered", "answered_in_time"):
            assert row[name] == getattr(counts, name), (row["interval_start"], row["dimension"], name)
        for name in ("abandoned", "short_abandoned", "timed_out"):
            assert row[name] == getattr(counts, name), (row["interval_start"], row["dimension"], name)
        assert row["service_level"] == figures.service_level(counts)
        assert row["abandon_rate"] == figures.abandon_rate(counts)
        assert row["asa"] == pytest.approx(figures.average_speed_of_answer(counts))
        checked += 1
    assert checked >= 6  # two queues, three hours


async def test_rollups_add_up_in_the_centres_time_zone(store: Store) -> None:
    facts = morning()
    reports = await filled(store, facts, settings())
    quarter = await _report(reports, "queue_intervals", interval="15m")
    half = await _report(reports, "queue_intervals", interval="30m")
    day = await _report(reports, "queue_intervals", interval="day")
    week = await _report(reports, "queue_intervals", interval="week")
    month = await _report(reports, "queue_intervals", interval="month")
    for queue in ("sales", "support"):
        offered = [
            sum(int(str(r["offered"])) for r in rows if r["dimension"] == queue)
            for rows in (quarter, half, day)
        ]
        assert offered[0] == offered[1] == offered[2] > 0
    # 08:00 UTC is 09:00 in Paris in December: the first interval starts at local nine
    assert quarter[0]["interval_start"] == f"{DAY}T09:00:00+01:00"
    assert {r["interval_start"] for r in half} <= {r["interval_start"] for r in quarter}
    assert day[0]["interval_start"] == f"{DAY}T00:00:00+01:00"
    assert [r["offered"] for r in week] == [r["offered"] for r in day]  # one day of data: the same sums
    assert str(month[0]["interval_start"]).endswith("-01T00:00:00+01:00")


async def test_skill_report_adds_up_the_queues_that_need_the_skill(store: Store) -> None:
    reports = await filled(store, morning(), settings())
    queues = {(r["interval_start"], r["dimension"]): r for r in await _report(reports, "queue_intervals")}
    skills = await _report(reports, "skill_intervals")
    assert skills
    for row in skills:
        queue = {"selling": "sales", "helping": "support"}[str(row["dimension"])]
        assert row["offered"] == queues[(row["interval_start"], queue)]["offered"]
        assert row["service_level"] == queues[(row["interval_start"], queue)]["service_level"]


async def test_filters_and_service_level_variant_per_queue(store: Store) -> None:
    conf = settings(service_level={"sales": "offered_minus_short"})
    reports = await filled(store, morning(), conf)
    rows = await _report(reports, "queue_intervals", interval="day", queue="sales")
    (row,) = rows
    assert row["dimension"] == "sales"
    kept = int(str(row["offered"])) + int(str(row["overflowed_in"])) - int(str(row["overflowed_out"]))
    kept -= int(str(row["short_abandoned"]))
    assert row["service_level"] == int(str(row["answered_in_time"])) / kept
    # the other queue reports the default variant: over answered calls
    (other,) = await _report(reports, "queue_intervals", interval="day", queue="support")
    assert other["service_level"] == int(str(other["answered_in_time"])) / int(str(other["answered"]))
    assert row["service_level"] != int(str(row["answered_in_time"])) / int(str(row["answered"]))


async def test_agent_report_holds_each_agents_day(store: Store) -> None:
    reports = await filled(store, morning(), settings())
    rows = await _report(reports, "agent_intervals", interval="day")
    assert [r["dimension"] for r in rows] == ["a1", "a2", "a3"]
    for row in rows:
        assert row["logged_in"] == pytest.approx(3 * 3600, abs=400)  # logged out at the end of the morning
        assert 0 < float(str(row["occupancy"])) <= 1
        assert row["utilisation"] == pytest.approx(float(str(row["busy"])) / float(str(row["logged_in"])))
    paused = {r["dimension"]: r["paused"] for r in await _report(reports, "pause_reasons", interval="day")}
    assert paused == {"break": 700.0, "lunch": 600.0, "training": 800.0}


async def test_csv_holds_exactly_what_json_holds(store: Store) -> None:
    reports = await filled(store, morning(), settings())
    prepared = reports.prepare("agent_intervals", {"from": [DAY], "to": [DAY], "interval": ["15m"]})
    body = "".join([c async for c in json_chunks(prepared.meta, prepared.columns, reports.rows(prepared))])
    table = "".join([c async for c in csv_chunks(prepared.columns, reports.rows(prepared))])
    answer = json.loads(body)
    lines = list(csv.reader(io.StringIO(table)))
    assert lines[0] == [c["key"] for c in answer["columns"]]
    assert len(lines) - 1 == len(answer["rows"]) > 20
    for line, row in zip(lines[1:], answer["rows"], strict=True):
        assert line == [
            "" if row[k] is None else row[k] if isinstance(row[k], str) else json.dumps(row[k])
            for k in lines[0]
        ]


async def test_bad_parameters_are_named(store: Store) -> None:
    reports = await filled(store, morning()[:50], settings())
    cases = {
        "from": {"to": [DAY]},
        "to": {"from": [DAY], "to": ["2025-13-01"]},
        "interval": {"from": [DAY], "to": [DAY], "interval": ["7m"]},
        "format": {"from": [DAY], "to": [DAY], "format": ["xml"]},
        "agent": {"from": [DAY], "to": [DAY], "agent": ["a1"]},
    }
    for param, params in cases.items():
        with pytest.raises(ReportParamError) as caught:
            reports.prepare("queue_intervals", params)
        assert caught.value.param == param
        assert f"'{param}'" in str(caught.value)


async def test_campaign_report_counts_dials_contacts_and_abandon_rate_per_day(store: Store) -> None:
    from tests.reports.test_fold import _dial

    facts = [f for n in range(10) for f in _dial(n, START + 600 + 40 * n, person=n < 7, connected=n < 5)]
    reports = await filled(store, facts, settings())
    (row,) = await _report(reports, "campaign_intervals", interval="day")
    assert (row["dimension"], row["attempts"], row["contacts"], row["connected"]) == ("winter", 10, 7, 5)
    assert row["campaign_abandoned"] == 2
    assert row["campaign_abandon_rate"] == pytest.approx(2 / 7)
    coded = {r["dimension"]: r["coded"] for r in await _report(reports, "campaign_outcomes", interval="day")}
    assert coded == {"winter/not_interested": 3, "winter/sale": 2}


async def test_ivr_reports_give_containment_per_flow_and_exits_per_node(store: Store) -> None:
    from tests.reports.test_fold import _ivr

    t = START + 600
    facts = [
        *_ivr("c1", t, "main", ["welcome", "menu", "balance"], "ended"),
        *_ivr("c2", t + 100, "main", ["welcome", "menu"], "hangup"),
        *_ivr("c3", t + 200, "main", ["welcome", "menu"], "queue"),
        *_ivr("c4", t + 4000, "main", ["welcome", "menu", "balance"], "ended"),  # another hour
        *_ivr("c5", t + 4100, "main", ["welcome", "menu"], "transfer"),
    ]
    reports = await filled(store, facts, settings(), every=4)
    (flow,) = await _report(reports, "ivr_flows", interval="day")
    assert flow["dimension"] == "main"
    assert (flow["ivr_entered"], flow["contained"], flow["ivr_abandoned"]) == (5, 2, 1)
    assert (flow["ivr_to_queue"], flow["ivr_to_transfer"], flow["ivr_to_voicemail"]) == (1, 1, 0)
    assert flow["containment"] == pytest.approx(2 / 5)
    hourly = await _report(reports, "ivr_flows", interval="60m")
    assert [(r["ivr_entered"], r["containment"]) for r in hourly] == [(3, pytest.approx(1 / 3)), (2, 0.5)]
    nodes = {r["dimension"]: r for r in await _report(reports, "ivr_nodes", interval="day")}
    assert sorted(nodes) == ["main/balance", "main/menu", "main/welcome"]
    assert {k: r["ivr_entered"] for k, r in nodes.items()} == {
        "main/balance": 2,
        "main/menu": 5,
        "main/welcome": 5,
    }
    menu = nodes["main/menu"]
    assert (menu["ivr_to_queue"], menu["ivr_hangup"], menu["ivr_to_transfer"], menu["ivr_ended"]) == (
        1,
        1,
        1,
        0,
    )
    assert nodes["main/balance"]["ivr_ended"] == 2
    only = await _report(reports, "ivr_nodes", interval="day", ivr_node="main/balance")
    assert [r["dimension"] for r in only] == ["main/balance"]
