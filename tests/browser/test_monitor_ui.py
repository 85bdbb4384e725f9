"""The supervisor monitor at 1024 px in headless Chromium: callers by number and customer name,
timers from the server's start times, tiles with abandon rate and AHT coloured by thresholds,
one monitoring call per supervisor with a mode switch and a stop button; and the agent desktop's
customer search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callserver.acd.model import AgentStatus

from .conftest import CUSTOMERS, SUPERVISOR, Centre
from .test_agent_ui import PAGE_ERRORS, WAIT, _agent_available, _expect

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

KNOWN = CUSTOMERS[0]
SUPERVISOR_PHONE = "9003"


async def _monitor(browser: Any, centre: Centre, width: int = 1024) -> Any:
    page = await browser.new_page(viewport={"width": width, "height": 768})
    page.set_default_timeout(WAIT)
    errors = PAGE_ERRORS.setdefault(page, [])
    page.on("pageerror", lambda err: errors.append(str(err)))
    await page.goto(centre.url)
    await page.fill("#login", SUPERVISOR[0])
    await page.fill("#password", SUPERVISOR[1])
    await page.click("button[type=submit]")
    await page.wait_for_selector("#link[data-state=open]")
    return page


async def _close(page: Any) -> None:
    errors = PAGE_ERRORS.pop(page, [])
    await page.close()
    assert errors == [], errors


async def test_monitor_names_callers_keeps_server_timers_and_monitors_from_one_call(
    centre: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    centre.sim.set_phone(f"PJSIP/{SUPERVISOR_PHONE}", answers=True, answer_delay=0.1)
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    caller = centre.call(KNOWN["phones"], talk_time=120)
    await centre.until(lambda: centre.agent_state("agent1") == "on_call")

    page = await _monitor(browser, centre)  # opened after the call began
    row = page.locator("#agents-body tr[data-agent=agent1]")
    await expect(row).to_have_attribute("data-state", "on_call")
    await expect(row.locator(".agent-call")).to_contain_text(KNOWN["phones"])
    await expect(row.locator(".agent-call")).to_contain_text(KNOWN["name"])
    assert caller.record.uniqueid not in await row.inner_text()
    since = float(await row.locator("td.num [data-since]").first.get_attribute("data-since") or "0")
    status, agents = await _api(page, centre, "api/agents")
    assert status == 200
    (agent1,) = [a for a in agents if a["id"] == "agent1"]
    assert since == agent1["state_since"]  # the server's start time, not this page's load time

    tile = page.locator(".tile[data-queue=support]")
    await expect(tile.locator(".q-abandon")).to_be_visible()
    await expect(tile.locator(".q-aht")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024  # no sideways scroll

    # my phone, kept in my profile; then Listen twice and Barge: one monitoring call
    await page.fill("#spy-phone", SUPERVISOR_PHONE)
    await page.locator("#spy-phone").dispatch_event("change")
    await expect(page.locator(".toast.ok").last).to_have_text("Phone saved")
    listen = row.locator("button.spy-listen")
    await listen.click()
    bar = page.locator("#spy-bar")
    await expect(bar).to_be_visible()
    await expect(page.locator("#spy-agent")).to_have_text("Alice Martin")
    await expect(bar).to_contain_text("Monitoring")
    await listen.click()
    await expect(page.locator("#spy-mode")).to_have_text("Listen")
    await bar.get_by_role("button", name="Barge").click()
    await expect(page.locator("#spy-mode")).to_have_text("Barge")
    spies = [c for c in centre.sim.pbx.channels.values() if c.name.startswith(f"PJSIP/{SUPERVISOR_PHONE}-")]
    assert len(spies) == 1 and spies[0].variables["CS_SPY_OPTS"] == "qBE"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1024
    await page.screenshot(path=str(screenshots / "supervisor-monitor-1024.png"), full_page=True)
    await page.click("#spy-stop")
    await expect(bar).to_be_hidden()
    caller.hangup()
    await _close(page)


async def _api(page: Any, centre: Centre, path: str) -> tuple[int, Any]:
    resp = await page.request.get(f"{centre.url}{path}")
    return resp.status, await resp.json()


async def test_agent_searches_customers_and_opens_one_with_its_calls(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    page = await _agent_available(browser, centre)
    await page.fill("#customer-search", "lambert")
    hits = page.locator(".customer-hit")
    await expect(hits).to_have_count(1)
    await expect(page.locator("#customer-count")).to_have_text("1 found")
    await hits.first.click()
    card = page.locator("#customer-card")
    await expect(card.locator(".customer-name")).to_have_text(CUSTOMERS[1]["name"])
    await expect(card).to_contain_text(CUSTOMERS[1]["phones"])
    await page.fill("#customer-search", "0140000001")  # national digits find the E.164 record
    await page.press("#customer-search", "Enter")
    await expect(page.locator(".customer-hit")).to_have_count(1)
    await expect(page.locator(".customer-hit").first).to_contain_text(KNOWN["name"])
    await _close(page)
