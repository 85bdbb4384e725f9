"""A supervisor's monitoring call: the phone from their profile, one call however often they click,
another mode or agent without a new call, who is being monitored, and a stop."""

from __future__ import annotations

import asyncio

from .conftest import CSRF, SUPERVISOR_PHONE, Rig


async def _set_phone(rig: Rig, phone: str) -> int:
    headers = {"Authorization": f"Bearer {rig.tokens['boss']}", **CSRF}
    async with rig.http.put(rig.base + "/api/me/phone", json={"phone": phone}, headers=headers) as resp:
        return resp.status


def _spy_channels(rig: Rig) -> list[dict[str, str]]:
    return [
        m
        for m in rig.events.messages
        if m.get("Event") == "Newchannel" and m.get("Channel", "").startswith(SUPERVISOR_PHONE + "-")
    ]


async def test_clicks_ring_one_phone_once_and_modes_switch_on_the_same_call(rig: Rig) -> None:
    call_id, agent, leg = await rig.connected_call()
    status, body = await rig.post("boss", f"/api/agents/{agent}/spy", {"mode": "listen"})
    assert status == 400 and "profile" in body["error"]  # no phone yet
    assert await _set_phone(rig, SUPERVISOR_PHONE.removeprefix("PJSIP/")) == 200
    me = await rig.get("boss", "/api/me")
    assert me[1]["phone"] == SUPERVISOR_PHONE
    clicks = await asyncio.gather(
        *(rig.post("boss", f"/api/agents/{agent}/spy", {"mode": "listen"}) for _ in range(3))
    )
    assert {s for s, _ in clicks} == {200}
    legs = {b["leg_id"] for _, b in clicks}
    assert len(legs) == 1
    (spy_leg,) = legs
    first = await rig.events.wait(lambda m: m.get("Event") == "ChanSpyStart")
    assert first["SpyeeUniqueid"] == leg and first["SpyerUniqueid"] == spy_leg
    mark = len(rig.events.messages)
    status, body = await rig.post("boss", f"/api/agents/{agent}/spy", {"mode": "barge"})
    assert status == 200 and body["leg_id"] == spy_leg and body["spy"]["mode"] == "barge"
    await rig.events.wait(lambda m: m.get("Event") == "ChanSpyStop", mark)
    again = await rig.events.wait(lambda m: m.get("Event") == "ChanSpyStart", mark)
    assert again["SpyerUniqueid"] == spy_leg
    spy = rig.sim.channel(spy_leg)
    assert spy is not None and spy.variables["CS_SPY_OPTS"] == "qBE"
    assert len(_spy_channels(rig)) == 1  # one monitoring call from start to end
    status, now = await rig.get("boss", "/api/spy")
    assert status == 200 and (now["spy"]["agent_id"], now["spy"]["mode"], now["spy"]["state"]) == (
        agent,
        "barge",
        "active",
    )
    assert rig.call(call_id).leg_id == leg


async def test_stop_hangs_up_the_monitoring_call(rig: Rig) -> None:
    _call_id, agent, _leg = await rig.connected_call()
    status, body = await rig.post("boss", f"/api/agents/{agent}/spy", {"mode": "whisper", "phone": "9003"})
    assert status == 200
    await rig.events.wait(lambda m: m.get("Event") == "ChanSpyStart")
    status, stopped = await rig.post("boss", "/api/spy/stop")
    assert status == 200 and stopped["spy"]["state"] == "ended"
    await rig.events.wait(lambda m: m.get("Event") == "Hangup" and m.get("Uniqueid") == body["leg_id"])
    assert (await rig.get("boss", "/api/spy"))[1]["spy"] is None
    assert (await rig.post("boss", "/api/spy/stop"))[0] == 404


async def test_a_mode_that_is_not_a_word_is_a_400_naming_the_modes(rig: Rig) -> None:
    _call_id, agent, _leg = await rig.connected_call()
    for mode in ([], {"listen": 1}, 3, None):
        status, body = await rig.post("boss", f"/api/agents/{agent}/spy", {"mode": mode, "phone": "9003"})
        assert status == 400, mode
        assert "'mode' must be one of: listen, whisper, barge" in body["error"]
    assert not _spy_channels(rig)
