"""An agent's day over real TCP (REST -> engine -> AMI -> simulated Asterisk -> facts -> database):
wrap-up that is never lost, transfers that arrive, logging out of the queues, and every agent state
interval in the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from callserver.acd.model import AgentState, AgentStatus, CallState
from callserver.facts.model import Fact, TransferProgress, TransferState

from .conftest import OUTSIDE, Rig, rig_with

pytestmark = pytest.mark.slow

SHORT = {"wrapup": 1.5, "wrapup_max": 20.0}


async def _hang_up_caller(rig: Rig, call_id: str) -> None:
    assert rig.sim.hangup_channel(rig.call(call_id).channel)


async def test_wrapup_half_filled_is_saved_when_its_time_runs_out(tmp_path: Path) -> None:
    async with rig_with(tmp_path, **SHORT) as rig:
        call_id, agent, _leg = await rig.connected_call()
        status, _ = await rig.post(
            agent, f"/api/calls/{call_id}/wrapup/draft", {"outcome": "sale", "note": "two se"}
        )
        assert status == 200
        await _hang_up_caller(rig, call_id)
        await rig.until(lambda: rig.agent(agent).state is AgentState.WRAPUP)
        await rig.until(lambda: rig.agent(agent).state is AgentState.IDLE, timeout=5)
        await rig.server.writer.flush()
        row = await rig.server.store.call(call_id)
        assert row is not None
        assert (row.wrapup_outcome, row.wrapup_note, row.wrapup_timed_out) == ("sale", "two se", True)


async def test_wrapup_timing_out_with_nothing_chosen_is_marked_so(tmp_path: Path) -> None:
    async with rig_with(tmp_path, **SHORT) as rig:
        call_id, agent, _leg = await rig.connected_call()
        await _hang_up_caller(rig, call_id)
        await rig.until(lambda: rig.agent(agent).state is AgentState.WRAPUP)
        await rig.until(lambda: rig.agent(agent).state is AgentState.IDLE, timeout=5)
        await rig.server.writer.flush()
        row = await rig.server.store.call(call_id)
        assert row is not None and row.outcome == "answered"
        assert (row.wrapup_outcome, row.wrapup_timed_out) == (None, True)


async def test_required_codes_come_from_the_queue_and_wrapup_extends_up_to_its_maximum(
    tmp_path: Path,
) -> None:
    lists = {"care": {"required": True, "codes": [{"code": "fixed", "label": "Problem fixed"}, "refund"]}}
    async with rig_with(tmp_path, outcomes="care", outcome_lists=lists, wrapup=10.0, wrapup_max=25.0) as rig:
        call_id, agent, _leg = await rig.connected_call()
        status, codes = await rig.get(agent, f"/api/outcomes?call_id={call_id}")
        assert status == 200
        assert codes["required"] is True and codes["codes"][0] == {"code": "fixed", "label": "Problem fixed"}
        await _hang_up_caller(rig, call_id)
        await rig.until(lambda: rig.agent(agent).state is AgentState.WRAPUP)
        first = rig.agent(agent).wrapup_until
        assert first is not None
        status, body = await rig.post(agent, f"/api/agents/{agent}/wrapup/extend", {"seconds": 10})
        assert status == 200 and body["until"] == pytest.approx(first + 10, abs=0.5)
        status, body = await rig.post(agent, f"/api/agents/{agent}/wrapup/extend", {"seconds": 600})
        assert status == 200 and body["until"] == pytest.approx(body["limit"]) == pytest.approx(
            first + 15, abs=0.5
        )
        assert (await rig.post(agent, f"/api/calls/{call_id}/wrapup", {"note": "x"}))[0] == 400
        assert (await rig.post(agent, f"/api/calls/{call_id}/wrapup", {"outcome": "sale"}))[0] == 400
        status, _ = await rig.post(agent, f"/api/calls/{call_id}/wrapup", {"outcome": "refund", "note": "ok"})
        assert status == 200
        assert rig.agent(agent).state is AgentState.IDLE
        row = await rig.server.store.call(call_id)
        assert row is not None and (row.wrapup_outcome, row.wrapup_timed_out) == ("refund", False)


async def test_transfer_to_a_busy_agent_is_offered_to_them_once_free_and_both_see_it(tmp_path: Path) -> None:
    async with rig_with(tmp_path, wrapup=1.0, acd={"transfer_timeout": 20.0}) as rig:
        seen: list[Fact] = []
        rig.server.bus.subscribe(seen.append)
        first_call, first, _ = await rig.connected_call()
        second_call, busy, _ = await rig.connected_call("+33140000002")
        status, body = await rig.post(
            first, f"/api/calls/{first_call}/transfer", {"kind": "agent", "target": busy}
        )
        assert status == 200, body
        await rig.until(lambda: rig.call(first_call).state is CallState.WAITING)
        await _hang_up_caller(rig, second_call)  # the target's own call ends; wrap-up 1 s
        await rig.until(
            lambda: (
                rig.call(first_call).state is CallState.CONNECTED and rig.call(first_call).agent_id == busy
            ),
            timeout=10,
        )
        states = [f.state for f in seen if isinstance(f, TransferProgress) and f.call_id == first_call]
        assert states == [TransferState.WAITING, TransferState.RINGING, TransferState.ANSWERED]
        assert rig.agent(first).state is not AgentState.ON_CALL


async def test_blind_transfer_to_a_queue_never_rings_the_transferring_agent(tmp_path: Path) -> None:
    async with rig_with(tmp_path, wrapup=0.0) as rig:
        call_id, first, _ = await rig.connected_call()
        others = [a for a in ("agent1", "agent2", "agent3") if a != first]
        for other in others:  # nobody else to take it for now
            rig.server.service.set_status(other, AgentStatus.PAUSED, "lunch")
        status, _ = await rig.post(
            first, f"/api/calls/{call_id}/transfer", {"kind": "queue", "target": "support"}
        )
        assert status == 200
        await rig.until(lambda: rig.agent(first).state is AgentState.IDLE)
        assert rig.call(call_id).state is CallState.WAITING  # not offered back to `first`
        rig.server.service.set_status(others[0], AgentStatus.AVAILABLE)
        await rig.until(lambda: rig.call(call_id).state is CallState.CONNECTED)
        assert rig.call(call_id).agent_id == others[0]


async def test_numbers_with_spaces_are_normalised_and_the_directory_remembers_them(rig: Rig) -> None:
    call_id, agent, _ = await rig.connected_call()
    spaced = f"{OUTSIDE[:3]} {OUTSIDE[3]} {OUTSIDE[4:6]}-{OUTSIDE[6:8]}-{OUTSIDE[8:]}"
    status, body = await rig.post(
        agent, f"/api/calls/{call_id}/transfer", {"kind": "number", "target": spaced}
    )
    assert (status, body["target"]) == (200, OUTSIDE)
    bad = await rig.post(agent, f"/api/calls/{call_id}/transfer", {"kind": "number", "target": "12"})
    assert bad[0] in (400, 404)
    await rig.until(lambda: rig.server.service.call(call_id) is None)
    await rig.server.writer.flush()
    status, directory = await rig.get(agent, "/api/directory")
    assert status == 200
    assert directory["numbers"] == [OUTSIDE]
    assert [q["name"] for q in directory["queues"]] == ["support"]
    assert agent not in {a["id"] for a in directory["agents"]}
    assert {a["id"]: a["status"] for a in directory["agents"]} == {
        a: "available" for a in ("agent1", "agent2", "agent3") if a != agent
    }


async def test_consulting_a_number_reports_ringing_answered_and_cancelled(rig: Rig) -> None:
    seen: list[Fact] = []
    rig.server.bus.subscribe(seen.append)
    call_id, agent, _ = await rig.connected_call()
    status, _ = await rig.post(agent, f"/api/calls/{call_id}/consult", {"kind": "number", "target": OUTSIDE})
    assert status == 200

    def states() -> list[TransferState]:
        return [f.state for f in seen if isinstance(f, TransferProgress) and f.call_id == call_id]

    await rig.until(lambda: TransferState.ANSWERED in states())
    assert (await rig.post(agent, f"/api/calls/{call_id}/consult/cancel"))[0] == 200
    assert states() == [TransferState.RINGING, TransferState.ANSWERED, TransferState.CANCELLED]


async def test_logout_on_a_call_asks_first_then_logs_the_agent_out_of_the_queues(rig: Rig) -> None:
    _call_id, agent, _ = await rig.connected_call()
    status, body = await rig.post(agent, "/api/logout")
    assert (status, body["on_call"]) == (409, True)
    assert rig.agent(agent).status is AgentStatus.AVAILABLE
    status, _ = await rig.post(agent, "/api/logout", {"force": True})
    assert status == 200
    assert rig.agent(agent).status is AgentStatus.LOGGED_OUT
    assert (await rig.get(agent, "/api/me"))[0] == 401


async def test_every_agent_state_interval_is_in_the_database(tmp_path: Path) -> None:
    async with rig_with(tmp_path, **SHORT) as rig:
        call_id, agent, _ = await rig.connected_call()
        assert (await rig.post(agent, f"/api/calls/{call_id}/hold"))[0] == 200
        assert (await rig.post(agent, f"/api/calls/{call_id}/resume"))[0] == 200
        await _hang_up_caller(rig, call_id)
        await rig.until(lambda: rig.agent(agent).state is AgentState.WRAPUP)
        await rig.until(lambda: rig.agent(agent).state is AgentState.IDLE, timeout=5)
        rig.server.service.set_status(agent, AgentStatus.PAUSED, "lunch")
        rig.server.service.set_status(agent, AgentStatus.LOGGED_OUT)
        await rig.server.writer.flush()
        rows = await rig.server.store.agent_intervals(agent_id=agent)
        states = [(r.kind, r.state, r.reason) for r in rows]
        assert ("login", "logged_in", "") in states
        assert ("status", "available", "") in states and ("status", "paused", "lunch") in states
        calls = [r.state for r in rows if r.kind == "state" and r.call_id == call_id]
        assert calls == ["ringing", "on_call", "on_hold", "on_call", "wrapup"]
        assert all(r.ended_at is not None and r.ended_at >= r.started_at for r in rows if r.kind != "state")
        assert next(r for r in rows if r.kind == "state" and r.ended_at is None).state == "idle"


async def test_today_counters_come_from_the_database_after_a_restart(tmp_path: Path) -> None:
    async with rig_with(tmp_path, wrapup=0.0) as rig:
        call_id, agent, _ = await rig.connected_call()
        await _hang_up_caller(rig, call_id)
        await rig.until(lambda: rig.server.service.call(call_id) is None)
        await rig.server.writer.flush()
    async with rig_with(tmp_path, wrapup=0.0) as restarted:  # same database, new process state
        status, queues = await restarted.get("boss", "/api/queues")
        assert status == 200
        (support,) = queues
        assert (support["answered_today"], support["service_level_today"]) == (1, 1.0)
        status, me = await restarted.get(agent, "/api/me")
        assert me["agent"]["calls_today"] == 1


async def test_an_agent_whose_desktop_is_gone_is_paused_with_a_reason(tmp_path: Path) -> None:
    async with rig_with(tmp_path, web={"away_pause_after": 0.3}) as rig:
        headers = {"Authorization": f"Bearer {rig.tokens['agent1']}"}
        async with rig.http.ws_connect(rig.base + "/api/live", headers=headers) as ws:
            await ws.receive(timeout=5)  # hello: the desktop is there
            assert rig.agent("agent1").status is AgentStatus.AVAILABLE
        await rig.until(lambda: rig.agent("agent1").status is AgentStatus.PAUSED, timeout=5)
        assert rig.agent("agent1").reason == "desktop closed"
        assert rig.agent("agent2").status is AgentStatus.AVAILABLE  # never opened a desktop


async def test_a_supervisors_wrapup_correction_leaves_the_agents_wrapup_running(rig: Rig) -> None:
    call_id, agent, _ = await rig.connected_call()
    await _hang_up_caller(rig, call_id)
    await rig.until(lambda: rig.agent(agent).state is AgentState.WRAPUP)
    status, _ = await rig.post("boss", f"/api/calls/{call_id}/wrapup", {"outcome": "escalated"})
    assert status == 200
    assert rig.agent(agent).state is AgentState.WRAPUP  # the agent still has their wrap-up time
    status, _ = await rig.post(agent, f"/api/calls/{call_id}/wrapup", {"outcome": "sale", "note": "done"})
    assert status == 200 and rig.agent(agent).state is AgentState.IDLE
    row = await rig.server.store.call(call_id)
    assert row is not None and (row.wrapup_outcome, row.wrapup_note) == ("sale", "done")
