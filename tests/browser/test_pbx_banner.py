"""While callserver has lost its link to the PBX, the agent desktop and the supervisor monitor both
say so, pushed over the live channel, and the banner goes away once the link is back."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import SUPERVISOR, Centre
from .test_agent_ui import _close, _expect, _login

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def test_desktops_show_a_banner_while_the_pbx_link_is_down(centre: Centre, browser: Any) -> None:
    expect = await _expect()
    agent = await _login(browser, centre, "agent1", "agent1-pass")
    supervisor = await _login(browser, centre, *SUPERVISOR)
    pages = (agent, supervisor)
    for page in pages:
        await expect(page.locator("#pbx-banner")).to_be_hidden()

    sim_ami = centre.sim.ami
    assert sim_ami is not None
    await sim_ami.stop()  # Asterisk's manager interface goes away; the server keeps retrying
    for page in pages:
        banner = page.locator("#pbx-banner")
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("Telephone system unreachable")
        await expect(banner).to_have_attribute("role", "alert")

    # a tab opened during the outage learns it from its snapshot
    late = await _login(browser, centre, "agent2", "agent2-pass")
    await expect(late.locator("#pbx-banner")).to_be_visible()

    await sim_ami.start()  # same port: the server's next attempt logs in again
    for page in (*pages, late):
        await expect(page.locator("#pbx-banner")).to_be_hidden()
        await _close(page)
