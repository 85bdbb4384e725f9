"""Blended agents and persistent lines over TCP: an agent reserved for or talking to a campaign's
customer is never offered an inbound call; when they finish, inbound (priority by default) gets
them first, on their persistent line, and the campaign has them again once that call is over.
Agents who keep a line for inbound calls take every call on it; the others keep one leg per offer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from callserver.acd.model import AgentStatus
from callserver.facts.campaign import AttemptConnected, AttemptStarted
from callserver.facts.model import CallAnswered, CallEnded, CallOffered

from .conftest import NY, campaign, csv_of, running, settings_for
from .history import past_attempts, seed


async def test_inbound_waits_while_the_agent_is_the_campaigns_then_gets_them_first(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path, agents=1)) as rig:
        rig.sim.set_called(f"{NY}0801", kind="person", answer_after=1.0, talk=1.0, patience=30)
        rig.sim.set_called(f"{NY}0802", kind="person", answer_after=0.3, talk=30, patience=30)
        await rig.create(campaign())
        await rig.import_list(
            "spring", "b", csv_of([("B1", "One", f"{NY}0801"), ("B2", "Two", f"{NY}0802")]), stream="0"
        )
        await rig.post("boss", "/api/campaigns/spring/start")
        await rig.until(lambda: len(rig.of(AttemptStarted)) == 1)
        assert rig.of(AttemptStarted)[0].agent_id == "agent1"  # reserved: its line rings for agent1
        caller = rig.sim.place_call("+33140000001", "500", patience=60, talk_time=1.0)
        await rig.until(lambda: len(rig.of(AttemptConnected)) == 1)
        await rig.until(lambda: rig.slot("spring", "agent1").value == "wrapup", timeout=10)
        assert rig.of(CallOffered) == []  # reserved, then talking, then coding: no inbound offer
        (first,) = rig.of(AttemptConnected)
        status, _ = await rig.post(
            "agent1", "/api/campaign-desk/wrapup", {"attempt_id": first.attempt_id, "outcome": "sale"}
        )
        assert status == 200
        await rig.until(lambda: len(rig.of(CallAnswered)) == 1)
        (offer,) = rig.of(CallOffered)
        line = rig.server.lines.line("agent1") if rig.server.lines else None
        assert line is not None and offer.leg_id == line.uniqueid  # bridged into the persistent line
        assert len(rig.of(AttemptStarted)) == 1  # the campaign did not take them back meanwhile
        assert rig.slot("spring", "agent1").value == "off"
        record = await caller.outcome(timeout=10)
        assert record.agent_channel is not None
        await rig.until(lambda: len(rig.of(AttemptStarted)) == 2, timeout=10)
        order = [
            type(f).__name__ for f in rig.facts if isinstance(f, CallOffered | CallEnded | AttemptStarted)
        ]
        assert order == ["AttemptStarted", "CallOffered", "CallEnded", "AttemptStarted"]
        line = rig.server.lines.line("agent1") if rig.server.lines else None
        assert line is not None and line.state.value == "up"  # the same line all along


async def test_an_agent_keeping_a_line_takes_inbound_calls_on_it_and_the_others_get_a_leg_per_offer(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, agents=2)
    data = settings.model_dump(mode="json")
    data["agents"][0]["persistent_line"] = True
    data["agents"][1]["start_available"] = False
    settings = type(settings).model_validate(data)
    async with running(settings) as rig:
        lines = rig.server.lines
        assert lines is not None
        await rig.acd_until(lambda: lines.is_up("agent1"))
        legs = []
        for n in (1, 2):
            caller = rig.sim.place_call(f"+3314000000{n}", "500", patience=60, talk_time=0.5)
            await rig.acd_until(lambda n=n: len(rig.of(CallEnded)) == n)
            assert (await caller.outcome(timeout=5)).agent_channel is not None
            legs.append(rig.of(CallOffered)[-1].leg_id)
        line = lines.line("agent1")
        assert line is not None and legs == [line.uniqueid, line.uniqueid]
        assert rig.sim.channel(line.uniqueid) is not None  # survived both callers hanging up
        # agent2 has no line: a new leg rings their phone for each offer, as before
        status, _ = await rig.post("agent1", "/api/campaign-desk/line", {"enabled": False})
        assert status == 200
        rig.server.service.set_status("agent1", AgentStatus.LOGGED_OUT)
        rig.server.service.set_status("agent2", AgentStatus.AVAILABLE)
        caller = rig.sim.place_call("+33140000003", "500", patience=60, talk_time=0.5)
        await rig.acd_until(lambda: len(rig.of(CallEnded)) == 3)
        offer = rig.of(CallOffered)[-1]
        assert offer.agent_id == "agent2" and offer.leg_id.startswith("cs-")
        await rig.acd_until(lambda: not lines.is_up("agent1"))


async def test_a_line_hung_up_mid_call_takes_the_caller_with_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, agents=1)
    data = settings.model_dump(mode="json")
    data["agents"][0]["persistent_line"] = True
    settings = type(settings).model_validate(data)
    async with running(settings) as rig:
        lines = rig.server.lines
        assert lines is not None
        await rig.acd_until(lambda: lines.is_up("agent1"))
        line = lines.line("agent1")
        assert line is not None
        caller = rig.sim.place_call("+33140000001", "500", patience=60, talk_time=60)
        await rig.acd_until(lambda: len(rig.of(CallAnswered)) == 1)
        assert rig.sim.hangup_channel(line.uniqueid)  # the agent puts the phone down
        record = await caller.outcome(timeout=10)
        assert record.outcome.value == "agent_ended"  # not left in the hold music
        await rig.acd_until(lambda: len(rig.of(CallEnded)) == 1)
        assert rig.of(CallEnded)[0].outcome.value == "answered"


@pytest.mark.parametrize("inbound_first", [True, False])
async def test_inbound_priority_is_a_setting_of_the_campaign(tmp_path: Path, inbound_first: bool) -> None:
    mix = {"person": 0.0, "machine": 0.0, "nobody": 1.0, "busy": 0.0, "invalid": 0.0}
    settings = settings_for(tmp_path, agents=1, **mix)
    now = time.time()
    config = campaign(mode="predictive", ring_timeout=20, inbound_priority=inbound_first)
    leads = [(f"Q{i}", f"{NY}{5100 + i}") for i in range(10)]
    await seed(
        settings,
        config,
        leads,
        past_attempts("spring", now - 3000, people=60, machines=0, nobody=60),
        now - 3600,
    )
    async with running(settings) as rig:
        await rig.post("boss", "/api/campaigns/spring/start")
        # predictive: lines ring for nobody in particular while the agent waits, ready
        await rig.until(
            lambda: len(rig.of(AttemptStarted)) >= 1 and rig.slot("spring", "agent1").value == "ready"
        )
        assert all(s.agent_id is None for s in rig.of(AttemptStarted))
        rig.sim.place_call("+33140000001", "500", patience=60, talk_time=1.0)
        if inbound_first:
            await rig.acd_until(lambda: len(rig.of(CallAnswered)) == 1)
            assert rig.slot("spring", "agent1").value == "off"
        else:
            await rig.acd_until(lambda: len(rig.server.service.waiting_calls()) == 1)
            with pytest.raises(TimeoutError):
                await rig.acd_until(lambda: bool(rig.of(CallOffered)), timeout=2.0)
            view = rig.server.service.agent("agent1")
            assert view is not None and view.engaged == "campaign:spring"
