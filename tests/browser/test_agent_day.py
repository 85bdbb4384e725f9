"""An agent's whole day in headless Chromium, against the real server and the PBX simulator: log in,
take calls from two queues, wrap up with codes (one wrap-up running out half-filled), transfer blind
to a queue and to a busy colleague, consult an outside number and hand the caller over, work a
voicemail and call back, log out. Then the database holds every call with its outcome and code and
every agent state interval, and the supervisor's tiles equal a SQL query over the same rows.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from callserver.acd.model import AgentStatus, CallState
from callserver.config import parse_settings
from callserver.figures import DEFAULT_SHORT_ABANDON
from callserver.voicemail import VoicemailStatus
from callserver.web.views import today_start

from ..helpers import fast_settings
from .conftest import CUSTOMERS, IVR_DNIS, IVR_FLOW, SUPERVISOR, Centre, _running, _seed
from .test_agent_ui import PAGE_ERRORS, _expect, _login

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

OUTSIDE = "+33199000042"
SPACED = "+33 1 99 00 00 42"
SALES_DNIS = "501"
CARE = {"required": True, "codes": [{"code": "fixed", "label": "Problem fixed"}, "refund", "escalated"]}


@pytest_asyncio.fixture(loop_scope="module")
async def day(tmp_path: Path) -> AsyncIterator[Centre]:
    """Alice and Bruno (logged out at start) on "support" (codes required, 20 s wrap-up) and "sales"
    (default codes, 6 s wrap-up), an IVR voicemail for support, an outside number that answers."""
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
    queue = {"max_wait": 120.0, "ring_timeout": 5.0, "on_timeout": {"message": "vm-goodbye"}}
    base = fast_settings(
        tmp_path,
        skills=["support", "sales"],
        queues=[
            {
                "name": "support",
                "dnis": ["500"],
                "skills": ["support"],
                "wrapup": 20.0,
                "wrapup_max": 60.0,
                "outcomes": "care",
                **queue,
            },
            {"name": "sales", "dnis": [SALES_DNIS], "skills": ["sales"], "wrapup": 6.0, **queue},
        ],
        outcomes={"care": CARE},
        customers={"seed_file": str(_seed(tmp_path / "customers.csv"))},
        web_users=[{"login": SUPERVISOR[0], "name": "Sue", "role": "supervisor", "password": SUPERVISOR[1]}],
    )
    data = {
        **base.model_dump(mode="json"),
        "agents": agents,
        "ivr": {"flows": {"voicemail": IVR_FLOW}},
        "voicemail": {"recordings_dir": str(tmp_path / "recordings")},
    }
    data["acd"].update(transfer_timeout=60.0)
    async with _running(parse_settings(data, "<day test>", env={})) as centre:
        centre.sim.set_phone(f"PJSIP/{OUTSIDE}@trunk", answers=True, answer_delay=0.2)
        yield centre


def _call(centre: Centre, number: str, dnis: str = "500") -> Any:
    return centre.sim.place_call(number, dnis, patience=120, talk_time=600)


async def _connected_to(centre: Centre, handle: Any, agent_id: str) -> str:
    """The ACD's id of the simulated caller, once connected to `agent_id`."""
    call_id: str = handle.record.uniqueid  # the caller's channel, known from the start

    def talking() -> bool:
        call = centre.server.service.call(call_id)
        return call is not None and call.state is CallState.CONNECTED and call.agent_id == agent_id

    await centre.until(talking, timeout=15)
    return call_id


def _hang_up(centre: Centre, call_id: str) -> None:
    call = centre.server.service.call(call_id)
    assert call is not None and centre.sim.hangup_channel(call.channel)


async def _bruno_wraps_up(centre: Centre, call_id: str, code: str) -> None:
    """Bruno (no browser here) sends his wrap-up form: the same service verb the REST handler calls."""
    await centre.until(lambda: centre.agent_state("agent2") == "wrapup")
    assert centre.server.service.wrap_up(call_id, "agent2", code, "done by Bruno", "agent2")
    # out of wrap-up: idle, or already rung for a caller who was waiting for him
    await centre.until(lambda: centre.agent_state("agent2") in ("idle", "ringing", "on_call"))


async def _save_wrapup(page: Any, code: str, note: str) -> None:
    expect = await _expect()
    await expect(page.locator("#wrapup-countdown")).to_have_text(re.compile(r"^\d+:\d\d left$"))
    await page.select_option("#wrapup-outcome", code)
    await page.fill("#wrapup-note", note)
    await page.click("#wrapup-submit")
    await expect(page.locator("#wrapup")).to_be_hidden()


async def test_an_agents_day_ends_with_every_call_coded_every_interval_stored_and_tiles_matching_sql(
    day: Centre, browser: Any, screenshots: Path
) -> None:
    expect = await _expect()
    centre = day
    service = centre.server.service
    page = await _login(browser, centre, "agent1", "agent1-pass")
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.select_option("#status-select", "available")
    await expect(page.locator("#my-status")).to_have_text("Available")
    coded: dict[str, str] = {}

    # 1. a support call: the wrap-up has a countdown, more time, and the queue's required codes
    first = await _connected_to(centre, _call(centre, CUSTOMERS[0]["phones"]), "agent1")
    await expect(page.locator("#pop .customer-name")).to_have_text(CUSTOMERS[0]["name"])
    _hang_up(centre, first)
    await expect(page.locator("#wrapup-countdown")).to_have_text(re.compile(r"left$"))
    before = int(await page.locator("#wrapup-countdown").get_attribute("data-left") or "0")
    await page.click("#wrapup-more")
    await expect(page.locator("#wrapup-countdown")).not_to_have_attribute("data-left", str(before))
    after = int(await page.locator("#wrapup-countdown").get_attribute("data-left") or "0")
    assert after > before + 20
    await expect(page.locator("#wrapup-required")).to_have_text("(required)")
    await page.click("#wrapup-submit")  # nothing chosen: refused on the page
    await expect(page.locator(".toast.error")).to_contain_text("requires one")
    await _save_wrapup(page, "fixed", "Router restarted.")
    coded[first] = "fixed"

    # 2. a sales call: its wrap-up runs out half-filled; what was chosen and typed is kept
    second = await _connected_to(centre, _call(centre, CUSTOMERS[1]["phones"], SALES_DNIS), "agent1")
    _hang_up(centre, second)
    await expect(page.locator("#wrapup-outcome")).to_be_visible()
    await page.select_option("#wrapup-outcome", "sale")
    await page.fill("#wrapup-note", "two seats, call back")
    await expect(page.locator("#wrapup")).to_be_hidden(timeout=15_000)
    await expect(page.locator(".toast.ok").last).to_contain_text("was saved")
    coded[second] = "sale"

    # 3. blind transfer to a queue: never offered back to Alice; Bruno takes it
    third = await _connected_to(centre, _call(centre, "+33140000003"), "agent1")
    centre.set_status("agent2", AgentStatus.AVAILABLE)
    await page.click("#xfer-directory .dir-entry[data-kind=queue][data-target=support]")
    await page.click("#btn-transfer")
    await _connected_to(centre, _Known(third), "agent2")
    await _save_wrapup(page, "escalated", "Passed to second line.")
    _hang_up(centre, third)
    await _bruno_wraps_up(centre, third, "fixed")
    coded[third] = "fixed"

    # 4. blind transfer to a busy colleague: the caller waits for Bruno, both desks follow it
    centre.set_status("agent1", AgentStatus.PAUSED)
    busy = await _connected_to(centre, _call(centre, "+33140000004"), "agent2")
    await page.select_option("#status-select", "available")
    fourth = await _connected_to(centre, _call(centre, "+33140000005"), "agent1")
    await expect(
        page.locator("#xfer-directory .dir-entry[data-kind=agent][data-target=agent2]")
    ).to_contain_text("On call")
    await page.click("#xfer-directory .dir-entry[data-kind=agent][data-target=agent2]")
    await page.click("#btn-transfer")
    await expect(page.locator("#transfer-state")).to_have_attribute("data-state", "waiting")
    assert service.call(fourth) is not None and service.call(fourth).state is CallState.WAITING  # type: ignore[union-attr]
    _hang_up(centre, busy)
    await _bruno_wraps_up(centre, busy, "refund")
    coded[busy] = "refund"
    await _connected_to(centre, _Known(fourth), "agent2")
    await expect(page.locator("#transfer-state")).to_have_attribute("data-state", "answered")
    await _save_wrapup(page, "escalated", "Bruno handles refunds.")
    _hang_up(centre, fourth)
    await _bruno_wraps_up(centre, fourth, "refund")
    coded[fourth] = "refund"
    centre.set_status("agent2", AgentStatus.PAUSED)

    # 5. consult an outside number typed with spaces, then hand the caller over
    fifth = await _connected_to(centre, _call(centre, "+33140000006"), "agent1")
    await page.select_option("#xfer-kind", "number")
    await page.fill("#xfer-target", SPACED)
    await page.click("#btn-consult")
    await expect(page.locator("#consult-state")).to_contain_text("answered")
    await page.click("#btn-consult-complete")
    await centre.until(lambda: service.call(fifth) is None)
    await _save_wrapup(page, "escalated", "Handed to the supplier.")
    coded[fifth] = "escalated"

    # 6. a voicemail: offered as a task, called back, closed; the agent is busy until the callback ends
    caller = centre.sim.place_call(CUSTOMERS[0]["phones"], IVR_DNIS, patience=30, talk_time=2)
    card = page.locator("#voicemail")
    await expect(card).to_be_visible(timeout=20_000)
    vm_id = int(await card.get_attribute("data-voicemail") or "0")
    await caller.outcome(timeout=20)
    async with asyncio.timeout(5):
        await centre.server.voicemail.wait_for_status(vm_id, VoicemailStatus.ASSIGNED)
    await page.click("#vm-callback-btn")
    await expect(page.locator("#vm-status")).to_have_text("In progress")
    await page.select_option("#vm-outcome", "resolved")
    await page.click("#vm-close-btn")
    await expect(card).to_be_hidden()
    assert centre.agent_state("agent1") == "on_call"  # the callback is still up
    vm = await centre.server.voicemail.get(vm_id)
    assert vm is not None and vm.callback_call_id is not None
    assert centre.sim.hangup_channel(vm.callback_call_id)
    await _save_wrapup(page, "fixed", "Called back: fixed.")  # the support queue's own codes
    coded[vm.task_id] = "fixed"
    await page.screenshot(path=str(screenshots / "agent-day.png"), full_page=True)

    # 7. log out: out of the queues, not only out of the page
    await page.click("#logout")
    await expect(page.locator("#login")).to_be_visible()
    assert centre.agent_status("agent1") is AgentStatus.LOGGED_OUT
    assert PAGE_ERRORS.pop(page, []) == []

    # the database: every call with its outcome and code...
    await centre.server.writer.flush()
    store = centre.server.store
    since = datetime.fromtimestamp(today_start(centre.server.service.clock()), UTC)
    rows = {r.id: r for r in await store.calls(since=since)}
    assert set(rows) == set(coded)
    for call_id, code in coded.items():
        row = rows[call_id]
        assert row.outcome is not None, call_id
        assert row.wrapup_outcome == code, (call_id, row.wrapup_outcome)
    assert rows[fifth].outcome == "transferred"
    timed_out = rows[second]
    assert (timed_out.wrapup_note, timed_out.wrapup_timed_out) == ("two seats, call back", True)
    assert not any(r.wrapup_timed_out for r in rows.values() if r.id != second)

    # ...and every agent state interval
    intervals = await store.agent_intervals(agent_id="agent1", since=since)
    kinds = {(i.kind, i.state) for i in intervals}
    expected = {("login", "logged_in"), ("status", "available"), ("status", "paused")}
    expected |= {("state", s) for s in ("idle", "ringing", "on_call", "on_hold", "wrapup")}
    assert kinds >= expected
    assert all(i.ended_at is not None for i in intervals if i.kind in ("login", "status"))
    handled = {i.call_id for i in intervals if i.state == "wrapup"}
    assert handled >= {first, second, third, fourth, fifth, vm.task_id}

    # the supervisor's tiles are what SQL says of the same rows, written from docs/metrics.md: calls
    # that arrived today; abandoned counts neither short abandons nor time-outs apart from each
    # other on the tile (abandoned + timed out); service level = answered within T / answered
    boss = await _login(browser, centre, *SUPERVISOR)
    target = centre.server.settings.web.service_target
    async with store.sessions() as session:
        result = await session.execute(
            text(
                "SELECT queue, SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN (outcome = 'abandoned' AND wait >= :short) OR outcome = 'timed_out'"
                " THEN 1 ELSE 0 END),"
                " SUM(CASE WHEN outcome = 'answered' AND wait <= :target THEN 1 ELSE 0 END)"
                " FROM calls WHERE arrived_at >= :since AND outcome IS NOT NULL GROUP BY queue"
            ),
            {"target": target, "since": since, "short": DEFAULT_SHORT_ABANDON},
        )
        figures = {q: (int(a), int(ab), round(100 * int(t) / int(a))) for q, a, ab, t in result}
    assert set(figures) == {"support", "sales"}
    for queue, (answered, abandoned, sl) in figures.items():
        tile = boss.locator(f".tile[data-queue={queue}]")

        def stat(name: str, tile: Any = tile) -> Any:
            return tile.locator(".stat").filter(has=boss.locator(".stat-label", has_text=re.compile(name)))

        await expect(stat("^answered$").locator(".stat-value")).to_have_text(str(answered))
        await expect(stat("^abandoned$").locator(".stat-value")).to_have_text(str(abandoned))
        await expect(stat("^SL").locator(".stat-value")).to_have_text(f"{sl}%")
    await boss.screenshot(path=str(screenshots / "supervisor-after-the-day.png"), full_page=True)
    assert PAGE_ERRORS.pop(boss, []) == []
    await page.close()
    await boss.close()


class _Known:
    """A call already known to the ACD, for `_connected_to`."""

    def __init__(self, call_id: str) -> None:
        self.record = type("Record", (), {"uniqueid": call_id})()
