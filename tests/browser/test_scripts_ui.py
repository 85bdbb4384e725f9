"""Dialogue scripts in headless Chromium, against the real server and the PBX simulator: an agent
follows the billing script on a billing call (balance read, payment plan, outcome, callback) while
the supervisor sees the step; a customer on a phone-sized screen runs the same script on the
public page to the same end, and another asks for a callback, which reaches an agent with the
answers on screen; an admin edits the script and saves a new version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from callserver.acd.model import AgentStatus
from callserver.callbacks.model import CallbackStatus
from callserver.facts.model import CallAnswered, ScriptRunEnded, ScriptRunStarted

from ..scripts_e2e.rig import (
    ADMIN,
    JEANNE,
    SUPERVISOR,
    TIMEZONE,
    Centre,
    billing_settings,
    callback_day,
    running,
)

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

WAIT = 10_000  # ms: the longest any page update may take
PHONE = {"width": 375, "height": 667}  # a small phone screen
ERRORS: dict[Any, list[str]] = {}


@pytest_asyncio.fixture(loop_scope="module")
async def centre(tmp_path: Path) -> AsyncIterator[Centre]:
    async with running(billing_settings(tmp_path)) as c:
        yield c


async def _expect() -> Any:
    from playwright.async_api import expect

    return expect


async def _page(browser: Any, viewport: dict[str, int] | None = None) -> Any:
    page = await browser.new_page(viewport=viewport or {"width": 1440, "height": 900})
    page.set_default_timeout(WAIT)
    errors = ERRORS.setdefault(page, [])
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    return page


async def _login(browser: Any, centre: Centre, login: str, password: str) -> Any:
    page = await _page(browser)
    await page.goto(centre.url)
    await page.fill("#login", login)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#link[data-state=open]")
    return page


async def _available(browser: Any, centre: Centre, agent: str) -> Any:
    expect = await _expect()
    page = await _login(browser, centre, agent, f"{agent}-pass")
    await page.select_option("#status-select", "available")
    await expect(page.locator("#my-status")).to_have_text("Available")
    return page


async def _close(*pages: Any) -> None:
    for page in pages:
        errors = ERRORS.pop(page, [])
        await page.close()
        assert errors == []


async def test_agent_follows_the_billing_script_on_a_billing_call(
    centre: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    boss = await _login(browser, centre, *SUPERVISOR)
    page = await _available(browser, centre, "agent1")
    caller = centre.call(JEANNE["phone"])

    panel = page.locator("#script")
    await expect(panel.locator("#script-title")).to_have_text("Billing enquiry")
    await expect(panel.locator(".script-say")).to_have_text(
        "Hello Jeanne Dupont, thank you for getting in touch about your bill."
    )
    await expect(panel.locator(".script-note")).to_contain_text("Check the account number")
    await expect(panel.locator("#script-pending")).to_contain_text("Required before wrap-up")
    await expect(page.locator("#pop .customer-name")).to_have_text(JEANNE["name"])
    await page.click("#script-next")

    # the balance is read from the customer's record, formatted for the script's language
    await expect(panel.locator(".script-say")).to_have_text("The balance of account 100101 is €42.10.")
    row = boss.locator("#agents-body tr[data-agent=agent1] .agent-script")
    await expect(row).to_contain_text("Balance")  # the supervisor sees the step
    await panel.get_by_label("Yes").check()
    await page.click("#script-next")
    await expect(panel.locator("#script-step-title")).to_have_text("Payment plan")
    await expect(row).to_contain_text("Payment plan")
    # back and forward: the answer given is still there
    await page.click("#script-back")
    await expect(panel.get_by_label("Yes")).to_be_checked()
    await page.click("#script-next")
    await panel.get_by_label("Over how many months would you like to pay?").fill("20")
    await page.click("#script-next")
    await expect(panel.locator("#script-error")).to_have_text("Enter a value from 2 to 12.")
    await panel.get_by_label("Over how many months would you like to pay?").fill("6")
    await page.click("#script-next")
    day = callback_day()
    await panel.get_by_label("Which day suits you for that call?").fill(day.isoformat())
    await page.click("#script-next")

    notices = panel.locator("#script-notices")
    await expect(notices).to_contain_text("Saved payment_plan: requested: 6 months")
    await expect(notices).to_contain_text("Outcome set: follow-up")
    await expect(notices).to_contain_text(
        f"Callback scheduled by agent1 for {day.day} {day.strftime('%B %Y')}, 09:00"
    )
    await expect(panel.locator(".script-say")).to_have_text(
        f"Thank you. We will call you on {day.day} {day.strftime('%B %Y')} to set up your plan."
    )
    await expect(page.locator("#my-callbacks-list li")).to_have_count(1)
    await page.screenshot(path=str(screenshots / "agent-script-panel.png"), full_page=True)
    await boss.screenshot(path=str(screenshots / "supervisor-script-steps.png"), full_page=True)

    # the call ends: the wrap-up starts with the script's outcome and waits for its end
    caller.hangup()
    await expect(page.locator("#wrapup-outcome")).to_have_value("follow-up")
    await page.click("#wrapup-submit")
    await expect(page.locator(".toast.error").last).to_contain_text(
        "Finish the script 'Billing enquiry' first"
    )
    await expect(page.locator("#wrapup")).to_be_visible()
    await page.click("#script-next")  # Finish
    await expect(panel.locator("#script-ended")).to_contain_text("Script finished · outcome follow-up")
    await expect(row).to_have_text("—")
    await page.click("#wrapup-submit")
    await expect(page.locator("#wrapup")).to_be_hidden()

    ended = await centre.until_fact(lambda f: isinstance(f, ScriptRunEnded) and f.agent_id == "agent1")
    assert isinstance(ended, ScriptRunEnded) and ended.ended_as == "finished"
    await centre.server.writer.flush()
    (run,) = await centre.server.store.script_runs(call_id=ended.call_id)
    assert (run.outcome, [a.value for a in run.answers]) == ("follow-up", ["true", "6", day.isoformat()])
    callbacks = centre.server.callbacks
    assert callbacks is not None
    (callback,) = await callbacks.visible_to("agent1")
    assert callback.due_at == datetime.combine(day, time(9, 0), ZoneInfo(TIMEZONE))
    assert callback.status is CallbackStatus.SCHEDULED and callback.reserved_for == "agent1"
    await _close(page, boss)


async def test_customer_on_a_phone_runs_the_script_and_a_callback_reaches_an_agent_with_the_answers(
    centre: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    phone = await _page(browser, PHONE)

    async def identify() -> None:
        await phone.goto(centre.url + "self/billing")
        await expect(phone.locator("#step-title")).to_have_text("Billing enquiry")
        await phone.get_by_label("Account number").fill(JEANNE["account"])
        await phone.get_by_label("Postcode").fill("75011")
        await phone.get_by_label("Postcode").press("Enter")  # the keyboard is enough
        await expect(phone.locator("#step-title")).to_have_text("Welcome")

    # a wrong postcode is refused without saying whether the account exists
    await phone.goto(centre.url + "self/billing")
    await phone.get_by_label("Account number").fill(JEANNE["account"])
    await phone.get_by_label("Postcode").fill("00000")
    await phone.click("#identify-submit")
    await expect(phone.locator("#identify-error")).to_have_text(
        "We could not find an account with these details."
    )

    # the same script to the same end: balance, payment plan, callback day, outcome
    await identify()
    await expect(phone.locator(".script-note")).to_have_count(0)  # agents' notes stay with agents
    await expect(phone.locator("#step-title")).to_be_focused()  # read out by a screen reader
    await phone.keyboard.press("Tab")
    await phone.keyboard.press("Enter")  # Next, from the keyboard
    await expect(phone.locator(".script-say")).to_have_text("The balance of account 100101 is €42.10.")
    await phone.get_by_label("Yes").focus()
    await phone.keyboard.press("Space")
    await phone.click("#next")
    await phone.get_by_label("Over how many months would you like to pay?").fill("6")
    await phone.click("#next")
    day = callback_day()
    await phone.get_by_label("Which day suits you for that call?").fill(day.isoformat())
    await phone.click("#next")
    await expect(phone.locator(".script-say")).to_have_text(
        f"Thank you. We will call you on {day.day} {day.strftime('%B %Y')} to set up your plan."
    )
    width = await phone.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"
    await phone.screenshot(path=str(screenshots / "selfservice-phone.png"), full_page=True)
    await phone.click("#next")  # Finish
    await expect(phone.locator("#done")).to_have_text("Thank you. You can close this page.")
    finished = await centre.until_fact(lambda f: isinstance(f, ScriptRunEnded) and f.agent_id is None)
    assert isinstance(finished, ScriptRunEnded) and (finished.ended_as, finished.outcome) == (
        "finished",
        "follow-up",
    )
    callbacks = centre.server.callbacks
    assert callbacks is not None
    (planned,) = await callbacks.visible_to(None)
    assert (
        planned.due_at == datetime.combine(day, time(9, 0), ZoneInfo(TIMEZONE))
        and planned.reserved_for is None
    )

    # another time, she asks for a person at the payment plan: an agent gets her answers
    agent = await _available(browser, centre, "agent2")
    await identify()
    await phone.click("#next")
    await phone.get_by_label("Yes").check()
    await phone.click("#next")
    await phone.get_by_label("Over how many months would you like to pay?").fill("4")
    await phone.click("#talk")
    await expect(phone.locator("#done")).to_have_text(
        "Thank you. Someone will call you back as soon as possible."
    )

    card = agent.locator("#callback")
    await expect(card).to_be_visible()
    answers = card.locator("#callback-answers tbody tr")
    await expect(answers).to_have_count(2)
    await expect(answers.nth(0)).to_contain_text("Would you like to pay this amount in monthly instalments?")
    await expect(answers.nth(0).locator(".answer")).to_have_text("yes")
    await expect(answers.nth(1).locator(".answer")).to_have_text("4")
    await expect(card.locator("#callback-number")).to_have_text(JEANNE["phone"])
    await expect(agent.locator("#pop .customer-name")).to_have_text(JEANNE["name"])
    # her web contacts are in her history, with what she answered
    history = agent.locator("#pop .script-history details")
    await expect(history).to_have_count(2)
    await expect(history.first).to_contain_text("customer on the web")
    await agent.screenshot(path=str(screenshots / "agent-callback-card.png"), full_page=True)
    answered = next(f for f in centre.facts if isinstance(f, CallAnswered) and f.call_id.startswith("sc-"))
    assert answered.agent_id == "agent2"

    await agent.click("#callback-call")
    await expect(card.locator("#callback-status")).to_have_text("In progress")
    await agent.select_option("#callback-outcome", "resolved")
    await agent.click("#callback-close")
    await expect(card).to_be_hidden()
    await expect(agent.locator("#wrapup-outcome")).to_have_value("resolved")
    await agent.click("#wrapup-submit")
    await expect(agent.locator("#my-state")).to_have_text("Idle")
    item = await callbacks.get(int(answered.call_id.removeprefix("sc-")))
    assert item is not None and (item.status, item.outcome) == (CallbackStatus.DONE, "resolved")
    await _close(phone, agent)


async def test_admin_edits_the_script_checks_previews_and_saves_a_new_version(
    centre: Centre, browser: Any, tmp_path: Path
) -> None:
    expect = await _expect()
    page = await _login(browser, centre, *ADMIN)
    await page.click("#editor-link")
    await expect(page.locator("#version")).to_have_text("file at v1")
    tree = page.locator("#tree li")
    await expect(tree).to_have_count(10)
    await expect(page.locator("#tree li[data-step=take_card]")).to_contain_text("agents only")
    await expect(page.locator("#check-state")).to_have_text("valid")

    # preview as the customer: the balance of the sample customer, no agents' note
    customer = page.locator("#preview-customer")
    await expect(customer.locator(".script-say")).to_contain_text("Hello Sample Customer")
    await expect(page.locator("#preview-agent .script-note")).to_contain_text("Check the account number")
    await customer.get_by_role("button", name="Next").click()
    await expect(customer.locator(".script-say")).to_have_text("The balance of account 000000 is €42.10.")

    # a mistake is shown with its line and step while typing; the fix makes it valid again
    source = page.locator("#source")
    text = await source.input_value()
    await source.fill(text.replace('<set-outcome code="follow-up"/>', '<set-outcome code="folow-up"/>'))
    problem = page.locator("#problems li")
    await expect(problem).to_contain_text(
        "step 'plan_day': unknown outcome code 'folow-up' (did you mean 'follow-up'?)"
    )
    await expect(problem).to_contain_text("line ")
    await page.click("#save")
    await expect(page.locator(".toast.error").last).to_contain_text("the script has errors")
    changed = text.replace("Thank you. We will call you on", "Thank you! We will call you on")
    await source.fill(changed)
    await expect(page.locator("#check-state")).to_have_text("valid")
    await page.click("#save")
    await expect(page.locator("#version")).to_have_text("file at v2 · kept: v1")

    folder = centre.server.settings.scripts.dir
    assert folder is not None
    saved = (folder / "billing.xml").read_text(encoding="utf-8")
    assert 'version="2"' in saved and "Thank you! We will call you on" in saved
    kept = folder / "versions" / "billing" / "billing.v1.xml"
    assert kept.read_text(encoding="utf-8") == text
    scripts = centre.server.scripts
    assert scripts is not None
    assert scripts.files.catalog.scripts["billing"].version == 2
    # new runs use the new version
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    centre.call(JEANNE["phone"])
    started = await centre.until_fact(lambda f: isinstance(f, ScriptRunStarted) and f.agent_id == "agent1")
    assert isinstance(started, ScriptRunStarted) and started.version == 2
    await _close(page)
