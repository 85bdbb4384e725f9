"""Call control end to end over real TCP: REST request -> AMI actions -> simulated Asterisk -> facts.

Each test checks what the caller, the agents and the database end up with, not which actions ran.
"""

from __future__ import annotations

import pytest

from callserver.acd.model import AgentState, CallState
from callserver.facts.model import CallWrappedUp, Fact

from .conftest import CUSTOMER_NUMBER, OUTSIDE, Rig

pytestmark = pytest.mark.slow


async def test_hold_plays_music_then_resume_reconnects_the_same_agent(rig: Rig) -> None:
    call_id, agent, leg = await rig.connected_call()
    caller = rig.call(call_id).channel
    mark = len(rig.events.messages)
    assert await rig.post(agent, f"/api/calls/{call_id}/hold") == (200, {"ok": True, "call_id": call_id})
    await rig.events.wait(lambda m: m.get("Event") == "MusicOnHoldStart" and m.get("Channel") == caller, mark)
    assert rig.call(call_id).on_hold
    parked = rig.sim.channel(leg)  # the agent leg stays up, out of the bridge, until resume
    assert parked is not None and not parked.hanging_up
    assert rig.bridged_with(call_id) == set()

    mark = len(rig.events.messages)
    status, _ = await rig.post(agent, f"/api/calls/{call_id}/resume")
    assert status == 200
    await rig.events.wait(lambda m: m.get("Event") == "BridgeEnter" and m.get("Uniqueid") == leg, mark)
    call = rig.call(call_id)
    assert (call.state, call.agent_id, call.leg_id, call.on_hold) == (CallState.CONNECTED, agent, leg, False)
    assert rig.bridged_with(call_id) == {leg}


async def test_blind_transfer_to_queue_is_answered_by_another_agent(rig: Rig) -> None:
    call_id, first, _leg = await rig.connected_call()
    status, _ = await rig.post(
        first, f"/api/calls/{call_id}/transfer", {"kind": "queue", "target": "support"}
    )
    assert status == 200
    await rig.until(
        lambda: rig.call(call_id).state is CallState.CONNECTED and rig.call(call_id).agent_id != first
    )
    call = rig.call(call_id)
    await rig.events.wait(lambda m: m.get("Event") == "BridgeEnter" and m.get("Uniqueid") == call.leg_id)
    assert rig.bridged_with(call_id) == {call.leg_id}
    assert rig.agent(first).state is AgentState.WRAPUP


async def test_transfer_to_a_number_leaves_callserver(rig: Rig) -> None:
    call_id, agent, _leg = await rig.connected_call()
    caller = rig.call(call_id).channel
    status, _ = await rig.post(agent, f"/api/calls/{call_id}/transfer", {"kind": "number", "target": OUTSIDE})
    assert status == 200
    await rig.until(lambda: rig.server.service.call(call_id) is None)
    await rig.events.wait(
        lambda m: (
            m.get("Event") == "BridgeEnter"
            and m.get("Channel", "").startswith("PJSIP/trunk")
            and m.get("Channel") != caller
        )
    )
    await rig.server.writer.flush()
    row = await rig.server.store.call(call_id)
    assert row is not None and row.outcome == "transferred"


async def _consult(rig: Rig) -> tuple[str, str, str, str, str]:
    call_id, first, leg = await rig.connected_call()
    target = next(a for a in ("agent1", "agent2", "agent3") if a != first)
    status, body = await rig.post(first, f"/api/calls/{call_id}/consult", {"kind": "agent", "target": target})
    assert status == 200, body
    consult_leg = body["leg_id"]
    # the colleague talks with the first agent while the caller hears music
    await rig.events.wait(lambda m: m.get("Event") == "BridgeEnter" and m.get("Uniqueid") == consult_leg)
    assert rig.call(call_id).on_hold
    return call_id, first, leg, target, consult_leg


async def test_consult_complete_hands_the_caller_to_the_colleague(rig: Rig) -> None:
    call_id, first, _leg, target, consult_leg = await _consult(rig)
    mark = len(rig.events.messages)
    status, body = await rig.post(first, f"/api/calls/{call_id}/consult/complete")
    assert status == 200, body
    caller = rig.call(call_id).channel
    await rig.events.wait(lambda m: m.get("Event") == "BridgeEnter" and m.get("Channel") == caller, mark)
    call = rig.call(call_id)
    assert (call.agent_id, call.leg_id, call.on_hold) == (target, consult_leg, False)
    assert rig.bridged_with(call_id) == {consult_leg}
    assert rig.agent(first).state is AgentState.WRAPUP


async def test_consult_cancel_gives_the_caller_back_to_the_first_agent(rig: Rig) -> None:
    call_id, first, leg, target, consult_leg = await _consult(rig)
    mark = len(rig.events.messages)
    status, body = await rig.post(first, f"/api/calls/{call_id}/consult/cancel")
    assert status == 200, body
    await rig.events.wait(lambda m: m.get("Event") == "BridgeEnter" and m.get("Uniqueid") == leg, mark)
    await rig.until(lambda: rig.server.service.leg(consult_leg) is None)
    call = rig.call(call_id)
    assert (call.agent_id, call.leg_id, call.on_hold) == (first, leg, False)
    assert rig.bridged_with(call_id) == {leg}
    assert rig.agent(target).state is not AgentState.ON_CALL


async def test_wrapup_outcome_and_note_show_in_contact_history(rig: Rig) -> None:
    call_id, agent, _leg = await rig.connected_call()
    assert (await rig.post(agent, f"/api/calls/{call_id}/hangup"))[0] == 200
    await rig.until(lambda: rig.agent(agent).state is AgentState.WRAPUP)
    status, _ = await rig.post(agent, f"/api/calls/{call_id}/wrapup", {"outcome": "nope"})
    assert status == 400
    status, _ = await rig.post(
        agent, f"/api/calls/{call_id}/wrapup", {"outcome": "sale", "note": "two seats"}
    )
    assert status == 200
    await rig.until(lambda: rig.agent(agent).state is not AgentState.WRAPUP)
    (customer,) = await rig.server.store.find_customers_by_number(CUSTOMER_NUMBER)
    history = await rig.server.store.contact_history(customer.id)
    assert [(r.id, r.wrapup_outcome, r.wrapup_note) for r in history] == [(call_id, "sale", "two seats")]
    assert (await rig.get(agent, "/api/outcomes"))[1]["outcomes"][3] == "sale"


async def test_wrapup_is_a_fact_on_the_bus_and_in_the_call_log_when_the_reply_comes(rig: Rig) -> None:
    published: list[Fact] = []
    rig.server.bus.subscribe(published.append)
    call_id, agent, _leg = await rig.connected_call()
    assert (await rig.post(agent, f"/api/calls/{call_id}/hangup"))[0] == 200
    await rig.until(lambda: rig.agent(agent).state is AgentState.WRAPUP)
    status, _ = await rig.post(
        agent, f"/api/calls/{call_id}/wrapup", {"outcome": "sale", "note": " two seats "}
    )
    assert status == 200
    login = next(a.login for a in rig.server.settings.agents if a.id == agent)
    (wrapped,) = [f for f in published if isinstance(f, CallWrappedUp)]
    assert (wrapped.call_id, wrapped.agent_id, wrapped.code, wrapped.note, wrapped.by) == (
        call_id,
        agent,
        "sale",
        "two seats",
        login,
    )
    logged = [e for e in await rig.server.store.call_events(call_id) if e.kind == "CallWrappedUp"]
    assert [(e.agent_id, e.payload["code"], e.payload["by"]) for e in logged] == [(agent, "sale", login)]


async def test_supervisor_spy_rings_the_phone_into_chanspy_on_the_agent(rig: Rig) -> None:
    call_id, agent, leg = await rig.connected_call()
    assert (await rig.post(agent, f"/api/agents/{agent}/spy", {"mode": "listen", "phone": "9003"}))[0] == 403
    status, body = await rig.post("boss", f"/api/agents/{agent}/spy", {"mode": "whisper", "phone": "9003"})
    assert status == 200, body
    agent_channel = rig.call(call_id).leg_id
    start = await rig.events.wait(lambda m: m.get("Event") == "ChanSpyStart")
    assert start["SpyeeUniqueid"] == agent_channel == leg
    assert start["SpyerUniqueid"] == body["leg_id"]
    spy = rig.sim.channel(body["leg_id"])
    assert spy is not None and spy.variables["CS_SPY_OPTS"] == "qwE"


async def test_agents_act_only_on_their_own_call(rig: Rig) -> None:
    call_id, agent, _leg = await rig.connected_call()
    other = next(a for a in ("agent1", "agent2", "agent3") if a != agent)
    assert (await rig.post(other, f"/api/calls/{call_id}/hold"))[0] == 403
    assert (await rig.post(other, f"/api/calls/{call_id}/transfer", {"kind": "queue", "target": "support"}))[
        0
    ] == 403
    status, body = await rig.post(agent, f"/api/calls/{call_id}/transfer", {"kind": "moon", "target": "x"})
    assert status == 400 and "kind" in body["error"]
    status, body = await rig.post(agent, f"/api/calls/{call_id}/transfer", {"kind": "number", "target": "x1"})
    assert status == 400
    headers = {"Authorization": f"Bearer {rig.tokens[agent]}"}
    async with rig.http.post(f"{rig.base}/api/calls/{call_id}/hold", headers=headers) as resp:
        assert resp.status == 403  # no CSRF header
    assert (await rig.post("boss", f"/api/calls/{call_id}/hold"))[0] == 200
    assert rig.call(call_id).on_hold
