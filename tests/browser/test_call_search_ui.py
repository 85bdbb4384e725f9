"""The supervisors' call search in headless Chromium: a call made through the PBX simulator, rung
out at one agent and answered by another, held and wrapped up, is found by its number typed in
another form and its timeline shows each of those moments in order, under the strict CSP."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from callserver.acd.model import AgentStatus, CallState

from .conftest import CUSTOMERS, IVR_DNIS, SUPERVISOR, Centre
from .test_agent_ui import PAGE_ERRORS, _expect, _login

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CSRF = {"X-Callserver": "1"}
TYPED = "+33 1 40 00 00 01"  # as a supervisor reads it; the caller ID came as +33140000001


async def _a_call_with_a_story(centre: Centre) -> str:
    """Alice's phone rings out, Bruno answers, puts the caller on hold and back, the caller hangs
    up, Bruno's wrap-up is saved with a code and a note."""
    service = centre.server.service
    centre.sim.set_phone("PJSIP/1001", answers=False)
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    handle = centre.call(CUSTOMERS[0]["phones"], talk_time=600, patience=120)
    call_id: str = handle.record.uniqueid
    await centre.until(lambda: centre.agent_state("agent1") == "ringing")
    await centre.until(lambda: centre.agent_state("agent1") != "ringing", timeout=15)
    centre.set_status("agent1", AgentStatus.LOGGED_OUT)
    centre.set_status("agent2", AgentStatus.AVAILABLE)

    def talking() -> bool:
        call = service.call(call_id)
        return call is not None and call.state is CallState.CONNECTED and call.agent_id == "agent2"

    await centre.until(talking, timeout=15)
    async with aiohttp.ClientSession() as http:
        # Bruno's desktop would send these: hold, then resume, over REST
        base = centre.url.rstrip("/")
        login = {"login": "agent2", "password": "agent2-pass", "bearer": True}
        async with http.post(f"{base}/api/login", json=login, headers=CSRF) as resp:
            token = (await resp.json())["token"]
        auth = {"Authorization": f"Bearer {token}", **CSRF}
        for verb, held in (("hold", True), ("resume", False)):
            async with http.post(f"{base}/api/calls/{call_id}/{verb}", json={}, headers=auth) as resp:
                assert resp.status == 200, await resp.text()
            await centre.until(lambda h=held: (c := service.call(call_id)) is not None and c.on_hold is h)
    call = service.call(call_id)
    assert call is not None and centre.sim.hangup_channel(call.channel)
    await centre.until(lambda: centre.agent_state("agent2") == "wrapup")
    assert service.wrap_up(call_id, "agent2", "escalated", "Router replaced.", "agent2")
    await centre.until(lambda: centre.agent_state("agent2") == "idle")
    await centre.server.writer.flush()
    return call_id


async def test_supervisor_finds_a_simulated_call_by_number_and_reads_its_timeline(
    centre: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    call_id = await _a_call_with_a_story(centre)
    page = await _login(browser, centre, *SUPERVISOR)
    await page.click("#calls-link")
    await expect(page.locator("#call-search")).to_be_visible()
    # today's calls are listed at once; the number narrows them to this caller's
    await expect(page.locator(f"#calls-body tr[data-call='{call_id}']")).to_be_visible()
    await page.fill("#calls-number", TYPED)
    await page.select_option("#calls-agent", "agent1")  # rang out at Alice: offered counts
    await page.click("#calls-submit")
    await expect(page.locator("#calls-body tr")).to_have_count(1)
    row = page.locator(f"#calls-body tr[data-call='{call_id}']")
    await expect(row).to_contain_text("Jeanne Dupont")
    await expect(row).to_contain_text("Bruno Petit")
    await expect(row).to_contain_text("Escalated")
    await row.locator(".call-open").click()
    entries = page.locator("#timeline-entries li")
    await expect(page.locator("#timeline-entries li[data-kind=wrapup_ended]")).to_have_count(1)
    kinds = [await e.get_attribute("data-kind") for e in await entries.all()]
    story = ["queued", "offered", "ring_no_answer", "offered", "answered", "held", "resumed", "ended"]
    assert [k for k in kinds if k in story] == story, kinds
    assert kinds.index("wrapped_up") > kinds.index("ended")
    await expect(page.locator("#timeline-entries li[data-kind=ring_no_answer]")).to_contain_text(
        "Alice Martin did not answer"
    )
    await expect(page.locator("#timeline-entries li[data-kind=answered]")).to_contain_text("Bruno Petit")
    await expect(page.locator("#timeline-entries li[data-kind=wrapped_up]")).to_contain_text(
        "Router replaced."
    )
    await expect(page.locator("#timeline-call")).to_contain_text("+33140000001")
    await page.screenshot(path=str(screenshots / "call-search.png"), full_page=True)
    # a search that matches nothing says so
    await page.fill("#calls-number", "+33 1 99 99 99 99")
    await page.click("#calls-submit")
    await expect(page.locator("#calls-count")).to_have_text("No call matches.")
    errors = PAGE_ERRORS.pop(page, [])
    await page.close()
    assert errors == []


def _write_recording(path: str) -> None:
    """A known 1 s of 8 kHz PCM in place of what the simulated Asterisk recorded."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10\x00\xf0" * 4000)


async def test_a_voicemail_left_through_the_ivr_is_found_with_its_path_and_its_recording(
    ivr_centre: Centre, browser: Any
) -> None:
    expect = await _expect()
    centre = ivr_centre
    assert centre.server.voicemail is not None
    # nobody is available: the caller waits out the menu, leaves a message, which waits as a task
    caller = centre.sim.place_call(CUSTOMERS[1]["phones"], IVR_DNIS, patience=30, talk_time=1)
    await caller.outcome(timeout=20)
    messages = await centre.server.voicemail.visible_to(None)
    assert len(messages) == 1 and messages[0].path is not None
    vm = messages[0]
    _write_recording(vm.path)
    await centre.server.writer.flush()

    page = await _login(browser, centre, *SUPERVISOR)
    await page.goto(centre.url + "ui/calls/index.html")
    await page.fill("#calls-number", "+33 1 40 00 00 02")
    await page.click("#calls-submit")
    row = page.locator(f"#calls-body tr[data-call='{vm.task_id}']")
    await expect(row).to_contain_text(CUSTOMERS[1]["name"])
    await row.locator(".call-open").click()
    await expect(page.locator("#timeline-entries li[data-kind=ivr]")).to_contain_text("menu \u203a message")
    await expect(page.locator("#timeline-entries li[data-kind=queued]")).to_contain_text("Voicemail task")
    audio = page.locator("#timeline-entries li[data-kind=voicemail] audio")
    await expect(audio).to_have_count(1)
    src = await audio.get_attribute("src")
    assert src == f"/api/voicemails/{vm.id}/audio"
    await page.evaluate("document.querySelector('li[data-kind=voicemail] audio').load()")
    await page.wait_for_function(
        "() => document.querySelector('li[data-kind=voicemail] audio').readyState >= 1"
    )
    length = await page.evaluate("document.querySelector('li[data-kind=voicemail] audio').duration")
    assert length == pytest.approx(1.0, abs=0.05)
    errors = PAGE_ERRORS.pop(page, [])
    await page.close()
    assert errors == []
