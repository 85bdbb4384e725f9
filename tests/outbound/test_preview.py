"""Preview dialling and dialling by hand, end to end over TCP: the agent's card shows the lead,
a skip (with its reason) brings the next one, a dial rings the lead for this agent alone; a
click-to-call goes through a campaign's rules and do-not-call lists."""

from __future__ import annotations

from callserver.facts.campaign import AttemptConnected, AttemptStarted, PreviewOffered, PreviewSkipped

from .conftest import NY, Outbound, campaign, csv_of


async def test_the_agent_skips_a_previewed_lead_with_a_reason_then_dials_the_next(outbound: Outbound) -> None:
    rig = outbound
    rig.sim.set_called(f"{NY}0202", kind="person", answer_after=0.3, talk=30, patience=30)
    await rig.create(campaign(mode="preview", agents=["agent1"]))
    text = csv_of([("P1", "Paula", f"{NY}0201"), ("P2", "Pierre", f"{NY}0202")], "ref,name,phone")
    status, _ = await rig.import_list("spring", "leads", text, stream="0")
    assert status == 200
    await rig.post("boss", "/api/campaigns/spring/start")
    await rig.until(lambda: len(rig.of(PreviewOffered)) == 1)
    status, desk = await rig.get("agent1", "/api/campaign-desk")
    assert desk["slot"] == "reserved" and desk["preview"]["id"] == "P1"
    assert desk["preview"]["fields"] == {"name": "Paula"} and desk["preview"]["number"] == f"{NY}0201"
    assert rig.of(AttemptStarted) == []  # nothing is dialled before the agent says so
    status, body = await rig.post("agent1", "/api/campaign-desk/preview/skip", {"reason": "asked for e-mail"})
    assert status == 200, body
    (skipped,) = rig.of(PreviewSkipped)
    assert (skipped.lead_id, skipped.reason) == ("P1", "asked for e-mail")
    await rig.until(lambda: len(rig.of(PreviewOffered)) == 2)
    status, desk = await rig.get("agent1", "/api/campaign-desk")
    assert desk["preview"]["id"] == "P2"
    status, body = await rig.post("agent1", "/api/campaign-desk/preview/dial")
    assert status == 200, body
    await rig.until(lambda: len(rig.of(AttemptConnected)) == 1)
    (started,) = rig.of(AttemptStarted)
    assert (started.lead_id, started.agent_id) == ("P2", "agent1")
    status, desk = await rig.get("agent1", "/api/campaign-desk")
    assert desk["slot"] == "on_call" and desk["attempt"]["lead"]["id"] == "P2"
    assert [o["code"] for o in desk["outcomes"]][:2] == ["sale", "not_interested"]
    status, _ = await rig.post("agent1", "/api/campaign-desk/hangup")
    assert status == 200
    await rig.until(lambda: desk_slot(rig) == "wrapup")


def desk_slot(rig: Outbound) -> str:
    entry = rig.campaigns.campaign_of_agent("agent1")
    return entry.engine.agents["agent1"].slot.value if entry is not None else "off"


async def test_click_to_call_goes_through_the_campaigns_rules_and_do_not_call_list(
    outbound: Outbound,
) -> None:
    rig = outbound
    rig.sim.set_called(f"{NY}0301", kind="person", answer_after=0.3, talk=30, patience=30)
    await rig.create(campaign(agents=["agent2"]))
    await rig.post("boss", "/api/campaigns/spring/start")
    await rig.until(lambda: rig.slot("spring", "agent2").value == "ready")
    status, body = await rig.request(
        "boss", "POST", "/api/dnc?campaign=spring", text="number\n+1 212 555 0302\n"
    )
    assert status == 200 and body["added"] == 1, body
    status, body = await rig.post("agent2", "/api/campaign-desk/dial", {"number": "(212) 555-0302"})
    assert status == 409 and "not to call" in body["error"]
    status, body = await rig.post(
        "agent2", "/api/campaign-desk/dial", {"number": "212 555 0301", "fields": {"name": "Zoe"}}
    )
    assert status == 202 and body["attempt_id"].startswith("spring-"), body
    await rig.until(lambda: len(rig.of(AttemptConnected)) == 1)
    (started,) = rig.of(AttemptStarted)
    assert (started.number, started.agent_id) == (f"{NY}0301", "agent2")
    status, desk = await rig.get("agent2", "/api/campaign-desk")
    assert desk["attempt"]["lead"]["fields"] == {"name": "Zoe"}
