"""Voicemail and IVR in the browser, against the real server and the PBX simulator: a caller goes
through an IVR menu (the supervisor sees them at the node), leaves a voicemail, which the ACD offers
to the available agent as a task; the agent's desktop shows the voicemail card with the customer,
plays the recording, calls back and closes it with an outcome; the supervisor's backlog goes to 0.
"""

from __future__ import annotations

import asyncio
import re
import wave
from pathlib import Path
from typing import Any

import pytest

from callserver.voicemail import VoicemailStatus

from .conftest import CUSTOMERS, IVR_DNIS, SUPERVISOR, Centre
from .test_agent_ui import PAGE_ERRORS, _agent_available, _expect, _login

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

KNOWN = CUSTOMERS[0]


def _write_recording(path: str) -> None:
    """A known 2 s of 8 kHz PCM in place of what the simulated Asterisk recorded."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10\x00\xf0" * 8000)


async def test_voicemail_from_the_ivr_is_worked_on_the_desktop_and_leaves_the_backlog(
    ivr_centre: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    centre = ivr_centre
    boss = await _login(browser, centre, *SUPERVISOR)
    await expect(boss.locator("#vm-open")).to_have_text("0")
    page = await _agent_available(browser, centre)

    # the caller sits in the IVR menu (typing nothing) until its timeout sends them to voicemail
    # ... and then speaks for 2 s: the simulated Asterisk records that
    caller = centre.sim.place_call(KNOWN["phones"], IVR_DNIS, patience=30, talk_time=2)
    in_menu = boss.locator("#ivr-body tr[data-node=menu]")
    await expect(in_menu).to_have_count(1)
    await expect(in_menu.locator(".ivr-flow")).to_have_text("voicemail")
    await expect(in_menu).to_contain_text(KNOWN["phones"])  # the caller, by number, not call id
    await boss.screenshot(path=str(screenshots / "supervisor-ivr-voicemail.png"), full_page=True)

    # the message becomes a task offered to agent1: the card, with the customer's pop
    card = page.locator("#voicemail")
    await expect(card).to_be_visible(timeout=20_000)
    vm_id = int(await card.get_attribute("data-voicemail") or "0")
    # what the IVR learnt travels with the task: the menu timed out into the message
    await expect(page.locator("#pop-ivr")).to_contain_text("no key")
    async with asyncio.timeout(5):  # the row is marked assigned just after the offer
        vm = await centre.server.voicemail.wait_for_status(vm_id, VoicemailStatus.ASSIGNED)
    assert vm.agent_id == "agent1" and vm.path is not None
    await caller.outcome(timeout=20)
    await expect(boss.locator("#ivr-body tr[data-call]")).to_have_count(0)
    await expect(page.locator("#vm-caller")).to_contain_text(KNOWN["phones"])
    await expect(page.locator("#pop .customer-name")).to_have_text(KNOWN["name"])
    await expect(page.locator("#vm-status")).to_have_text("Assigned")
    await expect(page.locator(f"#my-voicemails-list li[data-voicemail='{vm_id}']")).to_have_count(1)
    await expect(boss.locator("#vm-open")).to_have_text("1")
    row = boss.locator(f"#vm-backlog-body tr[data-voicemail='{vm_id}']")
    await expect(row).to_have_attribute("data-status", "assigned")

    # the recording: served as WAV, and the page's audio element loads it
    _write_recording(vm.path)
    fetched = await page.evaluate(
        """async (src) => {
            const r = await fetch(src);
            const head = new Uint8Array(await r.arrayBuffer()).slice(0, 4);
            return [r.status, r.headers.get("content-type"), String.fromCharCode(...head)];
        }""",
        await page.locator("#vm-audio").get_attribute("src"),
    )
    assert fetched == [200, "audio/wav", "RIFF"]
    await page.evaluate("document.querySelector('#vm-audio').load()")
    await page.wait_for_function("() => document.querySelector('#vm-audio').readyState >= 1")
    length = await page.evaluate("document.querySelector('#vm-audio').duration")
    assert length == pytest.approx(2.0, abs=0.05)
    await expect(page.locator("#vm-length")).to_have_text("0:02")

    # call back: the server originates the agent leg and the card shows the callback call id
    async with page.expect_response(lambda r: r.url.endswith(f"/api/voicemails/{vm_id}/callback")) as info:
        await page.click("#vm-callback-btn")
    assert (await info.value).status == 202
    await expect(page.locator("#vm-callback")).to_have_text(re.compile(r"^cb-"))
    await expect(page.locator("#vm-status")).to_have_text("In progress")
    vm = await centre.server.voicemail.get(vm_id)
    assert vm is not None and vm.status is VoicemailStatus.IN_PROGRESS
    assert await page.locator("#vm-callback").text_content() == vm.callback_call_id
    await page.screenshot(path=str(screenshots / "agent-voicemail.png"), full_page=True)

    # close with an outcome: the card goes, the task's wrap-up starts with that outcome
    await page.select_option("#vm-outcome", "resolved")
    async with page.expect_response(lambda r: r.url.endswith(f"/api/voicemails/{vm_id}/close")) as info:
        await page.click("#vm-close-btn")
    assert (await info.value).status == 200
    await expect(card).to_be_hidden()
    # the callback is still up: the agent stays on it (no new call on top) until it ends
    await expect(page.locator("#my-state")).to_have_text("On call")
    assert centre.agent_state("agent1") == "on_call"
    assert centre.sim.hangup_channel(vm.callback_call_id or "")
    await expect(page.locator("#wrapup-outcome")).to_have_value("resolved")
    async with asyncio.timeout(5):
        closed = await centre.server.voicemail.wait_for_status(vm_id, VoicemailStatus.DONE)
    assert closed.outcome == "resolved"
    await expect(page.locator("#my-voicemails-list li[data-voicemail]")).to_have_count(0)
    await expect(boss.locator("#vm-open")).to_have_text("0")
    await expect(boss.locator("#vm-backlog-body tr[data-voicemail]")).to_have_count(0)
    # the task's wrap-up is saved like a call's and frees the agent
    await page.click("#wrapup-submit")
    await expect(page.locator("#wrapup")).to_be_hidden()
    await expect(page.locator("#my-state")).to_have_text("Idle")
    for p in (page, boss):
        assert PAGE_ERRORS.get(p) == [], PAGE_ERRORS.get(p)
