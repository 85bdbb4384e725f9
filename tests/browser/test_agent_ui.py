"""The agent desktop and supervisor monitor in headless Chromium, against the real server and the
PBX simulator: login, status, screen-pop with contact history, unknown callers, resume after a
dropped live connection, transfer, and the supervisor's live view.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from callserver.acd.model import AgentStatus
from callserver.facts.model import CallWrappedUp

from .conftest import CUSTOMERS, SUPERVISOR, Centre

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

KNOWN = CUSTOMERS[0]
EARLIER_NOTE = "Asked about the March renewal; call back with a quote."
UNKNOWN_NUMBER = "+33199000009"
WAIT = 10_000  # ms: the longest any page update may take
PAGE_ERRORS: dict[Any, list[str]] = {}


async def _expect() -> Any:
    from playwright.async_api import expect

    return expect


async def _login(browser: Any, centre: Centre, login: str, password: str) -> Any:
    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(WAIT)
    errors = PAGE_ERRORS.setdefault(page, [])
    page.on("pageerror", lambda err: errors.append(str(err)))
    # HTTP error statuses are part of the protocol (401 before login); script errors are not
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    await page.goto(centre.url)
    await page.fill("#login", login)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#link[data-state=open]")
    return page


async def _agent_available(browser: Any, centre: Centre) -> Any:
    """agent1 logs in on the desktop and makes themself available."""
    expect = await _expect()
    page = await _login(browser, centre, "agent1", "agent1-pass")
    await expect(page.locator("#my-status")).to_have_text("Logged out")
    await page.select_option("#status-select", "available")
    await expect(page.locator("#my-status")).to_have_text("Available")
    await centre.until(lambda: centre.agent_status("agent1") is AgentStatus.AVAILABLE)
    return page


async def _earlier_call_answered_by_agent2(centre: Centre) -> None:
    centre.set_status("agent2", AgentStatus.AVAILABLE)
    first = centre.call(KNOWN["phones"], talk_time=0.3)
    await first.outcome(10)
    await centre.until(lambda: not centre.server.service.calls())
    centre.server.bus.publish(
        CallWrappedUp(first.record.uniqueid, time.time(), "agent2", "follow-up", EARLIER_NOTE, "agent2")
    )
    await centre.server.writer.flush()
    centre.set_status("agent2", AgentStatus.LOGGED_OUT)


async def test_agent_goes_available_and_the_pop_shows_the_customer_and_history(
    centre: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    await _earlier_call_answered_by_agent2(centre)
    page = await _agent_available(browser, centre)

    caller = centre.call(KNOWN["phones"])
    pop = page.locator("#pop")
    await expect(pop.locator(".customer-name")).to_have_text(KNOWN["name"])
    await expect(pop.locator(".c-account")).to_have_text(KNOWN["account"])
    await expect(pop.locator(".badge.vip")).to_be_visible()
    await expect(pop.locator(".pop-queue")).to_have_text("support")
    history = pop.locator(".history tbody tr")
    await expect(history).to_have_count(1)
    await expect(history.first).to_contain_text("Bruno Petit")  # agent2, by name
    await expect(history.first).to_contain_text("Answered")
    await expect(history.first).to_contain_text("Follow-up")
    await expect(history.first).to_contain_text(EARLIER_NOTE)
    await expect(page.locator("#my-state")).to_have_text("On call")
    await expect(page.locator("#calls-today")).to_have_text("1")
    await expect(page.locator("#btn-hangup")).to_be_enabled()
    await page.screenshot(path=str(screenshots / "agent-desktop-pop.png"), full_page=True)

    # the caller hangs up: the desk moves to wrap-up and offers the wrap-up form
    caller.hangup()
    await expect(page.locator("#my-state")).to_have_text("Wrap-up")
    await expect(page.locator("#wrapup-outcome")).to_be_visible()
    await expect(pop.locator(".customer-name")).to_have_text(KNOWN["name"])
    await page.select_option("#wrapup-outcome", "resolved")
    await page.fill("#wrapup-note", "Renewal quote sent by e-mail.")
    await page.click("#wrapup-submit")
    await expect(page.locator("#wrapup")).to_be_hidden()
    row = await centre.server.store.call(caller.record.uniqueid)
    assert row is not None
    assert (row.wrapup_outcome, row.wrapup_note) == ("resolved", "Renewal quote sent by e-mail.")
    await _close(page)


async def test_unknown_caller_record_is_created_and_markup_stays_text(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    page = await _agent_available(browser, centre)
    await page.evaluate("window.__xss = 0")
    centre.call(UNKNOWN_NUMBER)
    pop = page.locator("#pop")
    await expect(pop.locator(".unknown-title")).to_have_text("Unknown caller")
    await expect(pop).to_contain_text(UNKNOWN_NUMBER)

    hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>Zoé'
    await pop.get_by_role("button", name="Create record").click()
    await expect(page.locator("#cf-phones")).to_have_value(UNKNOWN_NUMBER)
    await page.fill("#cf-name", "Nobody")
    await page.fill("#cf-phones", "not-a-number")
    await pop.locator("button[type=submit]").click()
    await expect(page.locator(".toast.error")).to_contain_text("is not a phone number")
    await page.fill("#cf-phones", UNKNOWN_NUMBER)
    await page.fill("#cf-name", hostile)
    await page.fill("#cf-notes", "<b>not bold</b>")
    await pop.locator("button[type=submit]").click()

    await expect(pop.locator(".customer-name")).to_have_text(hostile)
    await expect(pop.locator(".c-notes")).to_have_text("<b>not bold</b>")
    assert await pop.locator("img, script, b").count() == 0
    assert await page.evaluate("window.__xss") == 0
    found = await centre.server.store.find_customers_by_number(UNKNOWN_NUMBER)
    assert [c.name for c in found] == [hostile]
    await _close(page)


async def test_several_customers_on_one_number_are_offered_as_a_choice(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    await centre.add_customer(name="Luc Lambert", phones=[CUSTOMERS[1]["phones"]], account="ACC1003")
    page = await _agent_available(browser, centre)
    centre.call(CUSTOMERS[1]["phones"])
    pop = page.locator("#pop")
    choices = pop.locator(".choices li")
    await expect(choices).to_have_count(2)
    await pop.get_by_role("button", name="Luc Lambert").click()
    await expect(pop.locator(".customer-name")).to_have_text("Luc Lambert")
    await expect(pop.locator(".c-account")).to_have_text("ACC1003")
    await pop.get_by_role("button", name="Other matches").click()
    await expect(choices).to_have_count(2)
    await _close(page)


async def test_pop_sent_while_the_live_link_is_down_arrives_after_resume(
    centre: Centre, browser: Any
) -> None:
    expect = await _expect()
    page = await _agent_available(browser, centre)
    # record every frame, hold the reconnection until the pop has been sent, then drop the link
    await page.evaluate(
        """() => {
        const live = window.callserverLive;
        window.__frames = [];
        const receive = live.receive.bind(live);
        live.receive = (text) => { window.__frames.push(JSON.parse(text)); receive(text); };
        live.realConnect = live.connect.bind(live);
        live.connect = () => { window.__held = true; };
        live.reconnectNow();
    }"""
    )
    await page.wait_for_selector("#link[data-state=retrying]")
    await page.wait_for_function("() => window.__held === true")
    hub = centre.server.web_runner.app[_parts_key()].hub
    centre.call(KNOWN["phones"])
    await centre.until(lambda: centre.agent_state("agent1") == "on_call")
    await hub.idle()  # the pop has been built and queued on the tab's stream
    await expect(page.locator("#pop .customer-name")).to_have_count(0)

    await page.evaluate("() => { const l = window.callserverLive; l.connect = l.realConnect; l.connect(); }")
    await expect(page.locator("#pop .customer-name")).to_have_text(KNOWN["name"])
    frames = await page.evaluate("window.__frames")
    hello = next(f for f in frames if f["type"] == "hello")
    # the socket was closed while the pop was sent: the stream numbered it without keeping it, so
    # the resumed tab is rebuilt from a snapshot that carries the pop, once
    assert hello["data"]["resumed"] is False
    pops = [f for f in frames if f["type"] == "pop"]
    snapshots = [f for f in frames if f["type"] == "snapshot" and f["seq"] > hello["seq"]]
    assert len(pops) + sum(s["data"]["pop"] is not None for s in snapshots) == 1
    await _close(page)


async def _close(page: Any) -> None:
    """Close the page; the scripts must not have thrown or logged an error meanwhile."""
    errors = PAGE_ERRORS.pop(page, [])
    await page.close()
    assert errors == []


def _parts_key() -> Any:
    from callserver.web.app import PARTS

    return PARTS


async def test_agent_blind_transfers_a_call_to_a_queue(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    page = await _agent_available(browser, centre)
    centre.call(KNOWN["phones"])
    await expect(page.locator("#my-state")).to_have_text("On call")
    await page.select_option("#xfer-kind", "queue")
    await page.fill("#xfer-target", "support")
    await page.click("#btn-transfer")
    await expect(page.locator(".toast.ok")).to_contain_text("transferred")
    await centre.until(lambda: centre.agent_state("agent1") != "on_call")
    await expect(page.locator("#my-state")).not_to_have_text("On call")
    await _close(page)


async def test_supervisor_sees_the_agent_on_call_and_the_waiting_count(
    centre: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    page = await _login(browser, centre, *SUPERVISOR)
    await expect(page.locator("#agents-body tr")).to_have_count(2)
    tile = page.locator(".tile[data-queue=support]")
    await expect(tile.locator(".q-waiting")).to_have_text("0")

    # both calls arrive after the page is up: what follows is pushed, not loaded
    centre.call(KNOWN["phones"])
    await centre.until(lambda: centre.agent_state("agent1") == "on_call")
    centre.call(CUSTOMERS[1]["phones"])
    await centre.until(lambda: len(centre.server.service.calls()) == 2)

    row = page.locator("#agents-body tr[data-agent=agent1]")
    await expect(row).to_have_attribute("data-state", "on_call")
    await expect(row).to_contain_text("On call")
    await expect(row.locator(".calls-today")).to_have_text("1")
    await expect(page.locator("#agents-body tr[data-agent=agent2]")).to_contain_text("Logged out")
    await expect(tile.locator(".q-waiting")).to_have_text("1")
    await expect(page.locator("#waiting-body tr")).to_have_count(1)
    await expect(page.locator("#waiting-body")).to_contain_text(CUSTOMERS[1]["phones"])
    await page.screenshot(path=str(screenshots / "supervisor-monitor.png"), full_page=True)

    # forcing a status from the monitor reaches the engine and comes back over the live channel
    await page.locator("#agents-body tr[data-agent=agent2] select.force").select_option("available")
    await centre.until(lambda: centre.agent_status("agent2") is AgentStatus.AVAILABLE)
    await expect(tile.locator(".q-waiting")).to_have_text("0")

    await page.click("#logout")
    await expect(page.locator("#login")).to_be_visible()
    assert (await page.request.get(f"{centre.url}api/me")).status == 401
    await _close(page)


async def test_agent_holds_resumes_and_hangs_up_from_the_buttons(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    page = await _agent_available(browser, centre)
    caller = centre.call(KNOWN["phones"])
    await expect(page.locator("#my-state")).to_have_text("On call")
    await page.click("#btn-hold")
    await expect(page.locator(".badge.hold")).to_be_visible()
    await page.click("#btn-resume")
    await expect(page.locator(".badge.hold")).to_have_count(0)
    await page.click("#btn-hangup")
    await expect(page.locator("#my-state")).to_have_text("Wrap-up")
    await caller.outcome(10)
    await _close(page)


async def test_agent_consults_a_colleague_then_completes_the_transfer(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    page = await _agent_available(browser, centre)
    centre.call(KNOWN["phones"])
    await expect(page.locator("#my-state")).to_have_text("On call")
    centre.set_status("agent2", AgentStatus.AVAILABLE)
    await page.select_option("#xfer-kind", "agent")
    await page.fill("#xfer-target", "agent2")
    await page.click("#btn-consult")
    await expect(page.locator("#btn-consult-complete")).to_be_visible()
    await centre.until(lambda: centre.agent_state("agent2") == "on_call")  # the colleague answered
    await page.click("#btn-consult-complete")
    await expect(page.locator("#btn-consult-complete")).to_have_count(0)
    await centre.until(lambda: centre.agent_state("agent1") != "on_call")
    await expect(page.locator("#my-state")).not_to_have_text("On call")
    assert await page.locator(".toast.error").count() == 0
    await _close(page)
