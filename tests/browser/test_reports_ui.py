"""The reports page in headless Chromium after simulated traffic: the supervisor sees the day per
half hour for each queue and each agent, the charts are drawn (Chart.js, vendored, under the
strict CSP), and the CSV downloaded is exactly the table shown."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callserver.acd.model import AgentStatus
from callserver.config import parse_settings

from ..helpers import fast_settings
from .conftest import SUPERVISOR, Centre, _running
from .test_agent_ui import PAGE_ERRORS, _expect, _login

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SALES_DNIS = "501"


@pytest_asyncio.fixture(loop_scope="module")
async def centre2(tmp_path: Path) -> AsyncIterator[Centre]:
    """Alice and Bruno on two queues, support (500) and sales (501), no wrap-up time."""
    agents = [
        {
            "id": f"agent{i}",
            "name": name,
            "login": f"agent{i}",
            "interface": f"PJSIP/{1000 + i}",
            "skills": {"support": 5, "sales": 5},
            "password": f"agent{i}-pass",
        }
        for i, name in ((1, "Alice Martin"), (2, "Bruno Petit"))
    ]
    queue = {"max_wait": 60.0, "ring_timeout": 5.0, "on_timeout": {"message": "vm-goodbye"}}
    base = fast_settings(
        tmp_path,
        skills=["support", "sales"],
        queues=[
            {"name": "support", "dnis": ["500"], "skills": ["support"], **queue},
            {"name": "sales", "dnis": [SALES_DNIS], "skills": ["sales"], **queue},
        ],
        web_users=[{"login": SUPERVISOR[0], "name": "Sue", "role": "supervisor", "password": SUPERVISOR[1]}],
    )
    data = {**base.model_dump(mode="json"), "agents": agents}
    async with _running(parse_settings(data, "<reports page test>", env={})) as running:
        yield running


async def _traffic(centre: Centre) -> None:
    """Answered calls on both queues, then one caller who gives up with nobody logged in."""
    service = centre.server.service
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    centre.set_status("agent2", AgentStatus.AVAILABLE)
    handles = [
        centre.sim.place_call(f"+3314000000{i}", dnis, patience=60, talk_time=0.4)
        for i, dnis in enumerate(("500", SALES_DNIS, "500", SALES_DNIS), start=1)
    ]
    for handle in handles:
        await handle.outcome(timeout=30)
    await centre.until(lambda: not service.calls(), timeout=15)
    service.set_status("agent1", AgentStatus.PAUSED, "lunch")
    centre.set_status("agent2", AgentStatus.LOGGED_OUT)
    gone = centre.sim.place_call("+33140000009", SALES_DNIS, patience=0.5, talk_time=1)
    await gone.outcome(timeout=15)
    await centre.until(lambda: not service.calls(), timeout=15)
    await centre.server.writer.flush()
    assert centre.server.reports is not None
    await centre.server.reports.flush()


async def _table(page: Any) -> tuple[list[str], list[list[str]]]:
    """The column keys and every row's raw values as the page shows them."""
    keys = await page.locator("#report-table thead th").evaluate_all("ths => ths.map(th => th.dataset.key)")
    rows = await page.locator("#report-body tr").evaluate_all(
        "trs => trs.map(tr => [...tr.querySelectorAll('td')].map(td => td.dataset.value))"
    )
    return keys, rows


def _same(a: str, b: str) -> bool:
    """Equal as the CSV and the page write them: numbers compared as numbers (12.0 is 12)."""
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


async def _csv_equals_table(page: Any, name: str) -> list[list[str]]:
    async with page.expect_download() as info:
        await page.click("#report-csv")
    download = await info.value
    assert download.suggested_filename.startswith(f"{name}_") and download.suggested_filename.endswith(".csv")
    path = await download.path()
    text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
    lines = list(csv.reader(io.StringIO(text)))
    keys, rows = await _table(page)
    assert lines[0] == keys
    assert len(lines) - 1 == len(rows) > 0
    for got, shown in zip(lines[1:], rows, strict=True):
        assert len(got) == len(shown)
        assert all(_same(a, b) for a, b in zip(got, shown, strict=True)), (got, shown)
    return rows


async def _drawn(page: Any, canvas: str) -> int:
    """How many datasets of the chart on `canvas` have something to draw, once it has painted
    pixels (0: blank or all zero)."""
    return int(
        await page.evaluate(
            """(id) => {
                const canvas = document.getElementById(id);
                const chart = window.Chart.getChart(canvas);
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let painted = false;
                for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) { painted = true; break; }
                if (!chart || !painted) return 0;
                return chart.data.datasets.filter(d => d.data.some(v => v !== null && v > 0)).length;
            }""",
            canvas,
        )
    )


async def test_supervisor_sees_the_day_per_half_hour_with_charts_and_the_csv_equals_the_table(
    centre2: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    await _traffic(centre2)
    page = await _login(browser, centre2, *SUPERVISOR)
    # every Content-Security-Policy violation of the pages opened from here on, as the browser reports it
    await page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));"
    )
    await page.click("#reports-link")
    await expect(page.locator("#report-name")).to_have_value("queue_intervals")
    await expect(page.locator("#report-interval")).to_have_value("30m")
    await expect(page.locator("#report-body tr[data-dimension]")).not_to_have_count(0)
    keys, rows = await _table(page)
    assert keys[:2] == ["interval_start", "dimension"]
    assert {r[1] for r in rows} == {"support", "sales"}
    assert all(r[0][14:16] in ("00", "30") for r in rows), rows  # half hours
    offered = keys.index("offered")
    assert sum(int(r[offered]) for r in rows) == 5
    assert await _drawn(page, "chart-series") == 2  # one line per queue
    assert await _drawn(page, "chart-stacked") >= 2  # answered and abandoned stacked
    await expect(page.locator("#chart-stacked-title")).to_contain_text("Outcomes")
    await _csv_equals_table(page, "queue_intervals")
    await page.screenshot(path=str(screenshots / "reports-queues.png"), full_page=True)

    # the same day per agent: each agent's rows, their time as bars, the CSV again equal
    await page.select_option("#report-name", "agent_intervals")
    await page.click("#report-run")
    await expect(page.locator("#report-title")).to_have_text("Agents per interval")
    await expect(page.locator("#report-body tr[data-dimension]")).not_to_have_count(0)
    keys, rows = await _table(page)
    assert {r[1] for r in rows} == {"agent1", "agent2"}
    answered = keys.index("answered")
    assert sum(int(r[answered]) for r in rows) == 4
    assert await _drawn(page, "chart-stacked") == 3  # ready, paused (Alice's lunch) and busy
    await expect(page.locator("#chart-stacked-title")).to_contain_text("Agents' time")
    await _csv_equals_table(page, "agent_intervals")
    await page.screenshot(path=str(screenshots / "reports-agents.png"), full_page=True)

    # keeping one queue only: the table and its CSV hold that queue alone
    await page.select_option("#report-name", "queue_intervals")
    await page.select_option("#report-filter", ["sales"])
    await page.click("#report-run")
    await expect(page.locator("#report-body tr[data-dimension=support]")).to_have_count(0)
    rows = await _csv_equals_table(page, "queue_intervals")
    assert {r[1] for r in rows} == {"sales"}
    assert await page.evaluate("window.cspViolations") == []
    errors = PAGE_ERRORS.pop(page, [])
    await page.close()
    assert errors == []
