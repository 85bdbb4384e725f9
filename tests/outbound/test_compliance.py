"""Compliance end to end over TCP: calling hours judged in each lead's own time zone on an injected
clock, a number put on the do-not-call list mid-campaign never dialled again, a callback dialled at
the time booked in the lead's zone, for the agent who booked it."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from callserver.facts.campaign import (
    AttemptConnected,
    AttemptStarted,
    CallbackBooked,
    DialRefused,
    DncAdded,
    LeadUpdated,
)

from .conftest import NY, Outbound, campaign, coding, csv_of, running, settings_for

NEW_YORK = ZoneInfo("America/New_York")
LA = "+1213555"


async def test_calling_hours_hold_in_each_leads_own_time_zone(tmp_path: Path) -> None:
    opening = datetime(2025, 3, 4, 8, 0, tzinfo=NEW_YORK).timestamp()  # a Tuesday
    offset = [opening - 3600 - time.time()]  # set again just before the start
    settings = settings_for(tmp_path)
    async with running(settings, clock=lambda: time.time() + offset[0]) as rig:
        rig.sim.set_called(f"{NY}0501", kind="person", answer_after=0.3, talk=30, patience=30)
        rig.sim.set_called(f"{LA}0502", kind="person", answer_after=0.3, talk=30, patience=30)
        await rig.create(campaign(rule_set="us", ring_timeout=15))
        text = csv_of([("NYC", "New York", f"{NY}0501"), ("LAX", "Los Angeles", f"{LA}0502")])
        status, _ = await rig.import_list("spring", "two", text, stream="0")
        assert status == 200
        offset[0] = opening - 2.5 - time.time()
        status, body = await rig.post("boss", "/api/campaigns/spring/start")
        assert status == 200, body
        await rig.until(lambda: len(rig.of(DialRefused)) >= 2)
        assert rig.of(AttemptStarted) == []  # 07:59 in New York, 04:59 in Los Angeles
        refused = {r.lead_id: r for r in rig.of(DialRefused)}
        assert refused["NYC"].next_at == opening and refused["NYC"].rules == ("calling_hours",)
        assert refused["LAX"].next_at == opening + 3 * 3600  # 08:00 in Los Angeles
        assert "America/Los_Angeles" in refused["LAX"].reason
        await rig.until(lambda: len(rig.of(AttemptStarted)) == 1, timeout=8)
        (started,) = rig.of(AttemptStarted)
        assert started.lead_id == "NYC" and started.at >= opening
        status, view = await rig.get("boss", "/api/campaigns/spring")
        assert view["tile"]["refusals_by_rule"]["calling_hours"] >= 2
        await rig.stored()
        refusals = await rig.store().refusals_csv("spring")
        assert "calling_hours" in refusals and "LAX" in refusals


async def test_a_number_put_on_the_do_not_call_list_mid_campaign_is_never_dialled(outbound: Outbound) -> None:
    rig = outbound
    rig.sim.set_called(f"{NY}0601", kind="person", answer_after=0.3, talk=60, patience=30)
    rig.sim.set_called(f"{NY}0603", kind="person", answer_after=0.3, talk=60, patience=30)
    await rig.create(campaign(agents=["agent1"]))
    text = csv_of([("D1", "One", f"{NY}0601"), ("D2", "Two", f"{NY}0602"), ("D3", "Three", f"{NY}0603")])
    await rig.import_list("spring", "dnc-test", text, stream="0")
    await rig.post("boss", "/api/campaigns/spring/start")
    await rig.until(lambda: len(rig.of(AttemptConnected)) == 1)
    status, body = await rig.request("boss", "POST", "/api/dnc?campaign=spring", text=f"{NY}0602\n")
    assert status == 200 and body["added"] == 1
    (first,) = rig.of(AttemptConnected)
    status, _ = await rig.post("agent1", "/api/campaign-desk/hangup")
    assert status == 200
    async with coding(rig):
        await rig.until(lambda: len(rig.of(AttemptConnected)) == 2)
    assert [s.lead_id for s in rig.of(AttemptStarted)] == ["D1", "D3"]
    assert any(u.lead_id == "D2" and u.state == "dnc" for u in rig.of(LeadUpdated))
    # the agent puts the number they are talking to on the list, too
    status, body = await rig.post("agent1", "/api/campaign-desk/dnc")
    assert status == 200 and body["number"] == f"{NY}0603"
    added = [(d.campaign, d.number, d.source) for d in rig.of(DncAdded)]
    assert ("spring", f"{NY}0603", "agent:agent1") in added
    assert first.lead_id == "D1"


async def test_a_callback_is_dialled_at_the_time_booked_for_the_agent_who_booked_it(
    outbound: Outbound,
) -> None:
    rig = outbound
    rig.sim.set_called(f"{NY}0701", kind="person", answer_after=0.2, talk=0.5, patience=30)
    await rig.create(campaign(agents=["agent1"]))
    await rig.import_list("spring", "cb", csv_of([("C1", "Carla", f"{NY}0701")]), stream="0")
    await rig.post("boss", "/api/campaigns/spring/start")
    await rig.until(lambda: len(rig.of(AttemptConnected)) == 1)
    (first,) = rig.of(AttemptConnected)
    await rig.until(lambda: rig.slot("spring", "agent1").value == "wrapup")
    when = datetime.fromtimestamp(time.time() + 3.0, NEW_YORK).replace(tzinfo=None, microsecond=0)
    status, body = await rig.post(
        "agent1",
        "/api/campaign-desk/wrapup",
        {"attempt_id": first.attempt_id, "outcome": "call_back", "callback_at": when.isoformat()},
    )
    assert status == 200, body
    (booked,) = rig.of(CallbackBooked)
    assert booked.callback_at == when.replace(tzinfo=NEW_YORK).timestamp() and booked.agent_id == "agent1"
    assert len(rig.of(AttemptStarted)) == 1  # nothing before the time
    await rig.until(lambda: len(rig.of(AttemptStarted)) == 2, timeout=10)
    second = rig.of(AttemptStarted)[1]
    assert (second.lead_id, second.agent_id) == ("C1", "agent1")
    assert second.at >= booked.callback_at
