"""Outbound campaigns in headless Chromium, against the real server and the PBX simulator dialling
out: a supervisor creates a campaign in the browser, imports a list (a bad one is refused with
every bad row named, the good one goes in with a progress bar), starts it in predictive mode and
watches the tiles and the compliance meter while agents, on their persistent lines, get answered
people with the lead on screen and code the calls; an agent previews leads, skips one with a
reason, dials the next and books a callback that is dialled at its time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from callserver.campaigns.lists import ColumnMapping
from callserver.config import CampaignConfig
from callserver.facts.campaign import AttemptConnected, AttemptStarted, CallbackBooked
from callserver.facts.model import AgentStatusChanged, Fact
from callserver.web.app import PARTS

from .conftest import SUPERVISOR, Centre, _centre_settings, _running
from .test_agent_ui import PAGE_ERRORS, _expect, _login

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

NY = "+1212555"
NEW_YORK = ZoneInfo("America/New_York")
GOOD = "ref,name,company,phone\n" + "".join(f"R{n},Lead {n},Acme {n},{NY}06{n:02d}\n" for n in range(1, 13))
BAD = "ref,name,company,phone\nR1,Ann,Acme,+1 212 555 0601\nR2,Bob,Acme,not a number\nR3,Cid,Acme,+1 000\n"


@pytest_asyncio.fixture(loop_scope="module")
async def outbound_centre(tmp_path: Path) -> AsyncIterator[tuple[Centre, list[Fact]]]:
    """The browser tests' centre, its simulator answering outside numbers as people (who talk a
    little while, then hang up)."""
    base = _centre_settings(tmp_path)
    data = base.model_dump(mode="json")
    data["simulator"]["outbound"] = {
        "enabled": True,
        "person": 1.0,
        "machine": 0.0,
        "nobody": 0.0,
        "busy": 0.0,
        "invalid": 0.0,
        "person_answer": [0.3, 0.8],
        "talk": [1.5, 2.5],
        "patience": [20.0, 20.0],
    }
    settings = type(base).model_validate(data)
    async with _running(settings) as centre:
        facts: list[Fact] = []
        centre.server.bus.subscribe(facts.append)
        yield centre, facts


async def _until(centre: Centre, predicate: Any, timeout: float = 10.0) -> None:
    assert centre.server.campaigns is not None
    async with asyncio.timeout(timeout):
        await centre.server.campaigns.wait_for(predicate)


async def _agent_ready(browser: Any, centre: Centre, login: str) -> Any:
    expect = await _expect()
    page = await _login(browser, centre, login, f"{login}-pass")
    await page.select_option("#status-select", "available")
    await expect(page.locator("#my-status")).to_have_text("Available")
    return page


async def _previewing(centre: Centre, browser: Any, campaign: str, leads: list[tuple[str, str, str]]) -> Any:
    """A preview campaign of `leads` (ref, name, number) for agent1, started, and agent1's page
    once it shows the first lead."""
    expect = await _expect()
    service = centre.server.campaigns
    assert service is not None
    service.create(
        CampaignConfig(
            name=campaign, mode="preview", rule_set="none", caller_id="+12025550100", agents=["agent1"]
        ),
        by="test",
    )
    lines = ["ref,name,phone\n", *(f"{ref},{name},{number}\n" for ref, name, number in leads)]
    mapping = ColumnMapping(phones=("phone",), id="ref")
    await service.import_list(campaign, campaign, lines, mapping, by="test")
    service.start_campaign(campaign, by="test")
    page = await _agent_ready(browser, centre, "agent1")
    await expect(page.locator("#preview-card")).to_have_attribute("data-lead", leads[0][0])
    return page


async def test_done_means_a_supervisor_runs_a_predictive_campaign_from_the_browser(
    outbound_centre: tuple[Centre, list[Fact]], browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    expect = await _expect()
    centre, facts = outbound_centre
    service = centre.server.campaigns
    assert service is not None
    boss = await _login(browser, centre, *SUPERVISOR)
    await boss.click("#new-campaign")
    await boss.fill("#c-name", "spring")
    await boss.select_option("#c-mode", "predictive")
    await boss.select_option("#c-rules", "none")
    await boss.fill("#c-caller-id", "+12025550100")
    await boss.fill("#c-caller-name", "Acme")
    await boss.fill("#c-agents", "agent1, agent2")
    await boss.fill("#c-outcomes", "sale | Sale | final,success\nno_thanks | Not interested | final,refusal")
    # no calling window of its own (the form proposes weekdays 09:00-20:00 in the called party's
    # time): with no jurisdiction rules either, the test runs the same at any hour of any day
    for day in await boss.locator("input[name=day]").all():
        await day.uncheck()
    await expect(boss.locator("input[name=day]:checked")).to_have_count(0)
    await boss.click("#campaign-create")
    tile = boss.locator('.campaign-tile[data-campaign="spring"]')
    await expect(tile).to_have_attribute("data-state", "stopped")

    # a list with bad rows: every bad cell named by line and column, nothing imported
    bad, good = tmp_path / "bad.csv", tmp_path / "spring-list.csv"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    await tile.locator('[data-act="import"]').click()
    await boss.set_input_files("#import-file", str(bad))
    await expect(boss.locator("#map-phone")).to_have_value("phone")
    await boss.click("#import-go")
    await expect(boss.locator("#import-refused")).to_contain_text("Nothing imported: 2 problems")
    errors = boss.locator("#import-errors tbody tr")
    await expect(errors).to_have_count(2)
    await expect(errors.nth(0)).to_contain_text("3")
    await expect(errors.nth(0)).to_contain_text("phone")
    await expect(errors.nth(1)).to_contain_text("'+1 000'")
    assert service.entry("spring").engine.leads.leads == {}

    # the good list, with its progress bar
    await boss.set_input_files("#import-file", str(good))
    await boss.fill("#import-list-name", "spring-list")
    await boss.click("#import-go")
    await expect(boss.locator("#import-ok")).to_contain_text("12 leads imported from 12 rows")
    assert await boss.locator("#import-progress").evaluate("p => p.value === p.max")
    await expect(tile.locator('[data-stat="leads"] .stat-value')).to_contain_text("of 12")

    agents = [await _agent_ready(browser, centre, login) for login in ("agent1", "agent2")]
    await tile.locator('[data-act="start"]').click()
    await expect(tile).to_have_attribute("data-state", "running")

    # agents get answered people, with the lead on screen, and code the calls
    for page in agents:
        call = page.locator("#campaign-call")
        await expect(call).to_be_visible(timeout=15_000)
        await expect(call.locator('[data-field="company"]')).to_contain_text("Acme")
        await expect(call.locator(".lead-number")).to_contain_text(NY)
        await expect(page.locator("#line-state")).to_have_text("line up")
    await agents[0].screenshot(path=str(screenshots / "campaign-agent-pop.png"), full_page=True)
    for page in agents:
        await expect(page.locator("#campaign-call h3")).to_contain_text("call ended", timeout=15_000)
        await page.select_option("#campaign-outcome", "sale")
        await page.click("#campaign-wrapup-submit")
    await _until(centre, lambda: len([f for f in facts if isinstance(f, AttemptConnected)]) >= 4, timeout=20)
    # the monitor: mode and why, lines, the compliance meter under the cap
    # two agents are too few to pace predictively: the campaign dials progressively and says why
    await expect(tile.locator(".badge.mode")).to_have_text("Predictive fallback")
    await expect(tile.locator(".mode-reason")).to_contain_text("team of 2 below the 4 agents")
    await expect(tile.locator('[data-stat="dials"] .stat-value')).not_to_have_text("0")
    meter = tile.locator('.meter[data-window="86400"]')
    await expect(meter).to_have_class("meter ok")
    await expect(meter.locator(".meter-value")).to_contain_text("0.00% abandoned")
    await expect(meter.locator(".meter-cap")).to_contain_text("cap 3%")
    await boss.screenshot(path=str(screenshots / "campaign-monitor.png"), full_page=True)
    # the target changed while running, typed across the tiles' redraws (one a second)
    target = tile.locator(".target-input")
    await target.fill("2.5")
    await tile.evaluate("t => { t.dataset.before = 'yes'; }")
    await expect(boss.locator('.campaign-tile[data-before="yes"]')).to_have_count(0)
    await expect(target).to_have_value("2.5")
    await tile.locator('[data-act="target"]').click()
    await _until(centre, lambda: service.entry("spring").engine.campaign.abandon_target == 0.025)
    async with boss.expect_download() as info:
        await tile.locator(".report-link").click()
    saved = await (await info.value).path()
    report = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    assert report.splitlines()[0].startswith("attempt_id,campaign,lead_id,number")
    assert ",connected," in report
    for page in [boss, *agents]:
        assert PAGE_ERRORS.pop(page, []) == []


async def test_a_desk_reload_answered_after_a_skip_does_not_bring_the_skipped_lead_back(
    outbound_centre: tuple[Centre, list[Fact]], browser: Any
) -> None:
    """The desk reloads itself on some messages (a status change); when its answer was taken before
    the agent skipped and arrives after the next lead's card, the card stays on the next lead."""
    expect = await _expect()
    centre, facts = outbound_centre
    page = await _previewing(
        centre, browser, "stale", [("S1", "Sam", f"{NY}0711"), ("S2", "Sue", f"{NY}0712")]
    )
    card = page.locator("#preview-card")
    # the desk's next GET is answered as the server has it now (S1 to preview), then held
    held, release, asked = asyncio.Event(), asyncio.Event(), []

    async def hold_first(route: Any) -> None:
        asked.append(route.request.url)
        if len(asked) > 1:
            await route.continue_()
            return
        answer = await route.fetch()
        held.set()
        await release.wait()
        await route.fulfill(response=answer)

    await page.route(lambda url: url.endswith("/api/campaign-desk"), hold_first)
    (status,) = [f for f in facts if isinstance(f, AgentStatusChanged) and f.agent_id == "agent1"][-1:]
    data = {"agent_id": "agent1", "at": time.time(), "status": status.status, "reason": status.reason}
    centre.server.web_runner.app[PARTS].hub.send("agent.status", data, "agent1", supervisors=False)
    async with asyncio.timeout(10):
        await held.wait()
    await page.fill("#skip-reason", "wrong person")
    await page.click("#preview-skip")
    await expect(card).to_have_attribute("data-lead", "S2")
    await page.eval_on_selector("#preview-card", "e => { e.dataset.before = 'yes'; }")
    release.set()
    # the held answer is in: the desk has drawn itself again, on the lead the server has now
    await expect(page.locator("#preview-card[data-before]")).to_have_count(0)
    await expect(card).to_have_attribute("data-lead", "S2")
    await page.unroute_all()
    assert PAGE_ERRORS.pop(page, []) == []


async def test_preview_skip_with_a_reason_dial_code_and_a_callback_at_its_time(
    outbound_centre: tuple[Centre, list[Fact]], browser: Any
) -> None:
    expect = await _expect()
    centre, facts = outbound_centre
    service = centre.server.campaigns
    assert service is not None
    page = await _previewing(
        centre, browser, "look", [("V1", "Vera", f"{NY}0701"), ("V2", "Victor", f"{NY}0702")]
    )
    card = page.locator("#preview-card")
    await expect(card.locator('[data-field="name"]')).to_have_text("Vera")
    await page.fill("#skip-reason", "asked to be e-mailed")
    # a live message redraws the desk while the agent types: what they typed stays
    await page.eval_on_selector("#skip-reason", "e => { e.dataset.before = 'yes'; }")
    view = service.desk("agent1")
    centre.server.web_runner.app[PARTS].hub.send(
        "campaign.preview",
        {"agent_id": "agent1", "campaign": "look", "at": time.time(), "lead": view["preview"]}
        | {"auto_dial_at": None, "script": None},
        "agent1",
        supervisors=False,
    )
    await expect(page.locator("#skip-reason[data-before]")).to_have_count(0)
    await expect(page.locator("#skip-reason")).to_have_value("asked to be e-mailed")
    await page.click("#preview-skip")
    await expect(card).to_have_attribute("data-lead", "V2")
    await page.click("#preview-dial")
    call = page.locator("#campaign-call")
    await expect(call).to_have_attribute("data-lead", "V2")
    await expect(call.locator("h3")).to_contain_text("call ended", timeout=15_000)
    when = datetime.fromtimestamp(time.time() + 4, NEW_YORK).replace(microsecond=0, tzinfo=None)
    await page.select_option("#campaign-outcome", "call_back")
    await page.fill("#callback-at", when.isoformat())
    await page.click("#campaign-wrapup-submit")
    await _until(centre, lambda: any(isinstance(f, CallbackBooked) for f in facts))
    (booked,) = [f for f in facts if isinstance(f, CallbackBooked)]
    assert (booked.lead_id, booked.agent_id) == ("V2", "agent1")
    assert booked.callback_at == when.replace(tzinfo=NEW_YORK).timestamp()
    await _until(
        centre,
        lambda: len([f for f in facts if isinstance(f, AttemptStarted) and f.lead_id == "V2"]) == 2,
        15,
    )
    again = [f for f in facts if isinstance(f, AttemptStarted) and f.lead_id == "V2"][1]
    assert again.agent_id == "agent1" and again.at >= booked.callback_at
    await expect(page.locator("#campaign-call")).to_have_attribute("data-lead", "V2", timeout=15_000)
    assert PAGE_ERRORS.pop(page, []) == []
