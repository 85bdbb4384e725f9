"""The supervisor sees, live in Chromium, an agent whose phone the PBX can no longer reach, and sees
it clear by itself when the phone is back; meanwhile the agent is not offered the waiting call."""

from __future__ import annotations

from typing import Any

import pytest

from callserver.acd.model import AgentStatus

from .conftest import CUSTOMERS, SUPERVISOR, Centre
from .test_agent_ui import _close, _expect, _login

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def test_supervisor_sees_a_phone_go_unreachable_and_come_back(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    page = await _login(browser, centre, *SUPERVISOR)
    row = page.locator("#agents-body tr[data-agent=agent1]")
    await expect(row).to_have_attribute("data-phone", "reachable")
    await expect(row.locator(".badge.unreachable")).to_have_count(0)

    centre.sim.set_reachable("PJSIP/1001", False)  # the phone stops answering qualify
    await expect(row).to_have_attribute("data-phone", "unreachable")
    await expect(row.locator(".badge.unreachable")).to_have_text("phone unreachable")
    await expect(row).to_contain_text("Available")  # still her status: not paused for it
    caller = centre.call(CUSTOMERS[0]["phones"])
    await centre.until(lambda: len(centre.server.service.calls()) == 1)
    await expect(page.locator("#waiting-body tr")).to_have_count(1)
    assert centre.agent_state("agent1") == "idle"

    centre.sim.set_reachable("PJSIP/1001", True)  # back: the waiting caller reaches her
    await expect(row.locator(".badge.unreachable")).to_have_count(0)
    await centre.until(lambda: centre.agent_state("agent1") == "on_call")
    await expect(row).to_have_attribute("data-state", "on_call")
    caller.hangup()
    await centre.until(lambda: not centre.server.service.calls())
    await _close(page)
