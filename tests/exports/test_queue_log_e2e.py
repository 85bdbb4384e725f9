"""queue_log over a real simulator run: the file written as calls happen, read by the independent
reader, says what happened to each caller and agent, and equals the on-demand export (REST and CLI)
of the same period."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from callserver.acd.model import AgentStatus, CallState
from callserver.app import agent_queues
from callserver.queuelog.command import export_queue_log
from callserver.sim import Outcome

from .queue_log_reader import Line, parse
from .rig import running, settings_for
from .stays import stays

pytestmark = pytest.mark.slow


def events_of(lines: list[Line], callid: str) -> list[str]:
    return [line.event for line in lines if line.callid == callid]


async def test_a_days_events_are_in_the_file_as_app_queue_writes_them_and_match_the_export(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    start = time.time() - 5
    async with running(settings) as rig:
        service = rig.server.service
        # agent2 at lunch, agent1's phone rings unanswered: the caller waits out max_wait
        service.set_status("agent2", AgentStatus.PAUSED, "lunch")
        rig.sim.set_phone("PJSIP/1001", answers=False)
        timed_out = await rig.sim.place_call("+33140000001", "500", patience=30).outcome(15)
        assert timed_out.outcome is Outcome.PBX_HANGUP
        await rig.until(lambda: not service.calls())
        # nobody available at all: the next caller gives up
        service.set_status("agent1", AgentStatus.PAUSED, "meeting")
        abandoned = await rig.sim.place_call("+33140000002", "500", patience=1.0).outcome(10)
        assert abandoned.outcome is Outcome.ABANDONED
        await rig.until(lambda: not service.calls())  # callserver has seen the caller go too
        # both back: an answered call the caller ends
        rig.sim.set_phone("PJSIP/1001", answers=True)
        service.set_status("agent1", AgentStatus.AVAILABLE)
        service.set_status("agent2", AgentStatus.AVAILABLE)
        answered = await rig.sim.place_call("+33140000003", "500", talk_time=1.0).outcome(10)
        assert answered.outcome is Outcome.COMPLETED
        status, _ = await rig.post("boss", f"/api/calls/{answered.uniqueid}/wrapup", {"outcome": "sale"})
        assert status == 200
        # a call transferred to the sales queue, taken there by the other agent, who hangs up
        call_id, first = await rig.connected_call("+33140000004")
        status, body = await rig.post(
            first, f"/api/calls/{call_id}/transfer", {"kind": "queue", "target": "sales"}
        )
        assert status == 200, body
        await rig.until(
            lambda: (
                (c := service.call(call_id)) is not None
                and c.state is CallState.CONNECTED
                and c.agent_id != first
            )
        )
        second = service.call(call_id)
        assert second is not None and second.agent_id is not None
        status, body = await rig.post(second.agent_id, f"/api/calls/{call_id}/hangup")
        assert status == 200, body
        await rig.until(lambda: service.call(call_id) is None)
        service.set_status("agent2", AgentStatus.LOGGED_OUT)
        await rig.server.writer.flush()
        end = time.time() + 5

        # the file, through the independent reader
        text = settings.queue_log_path().read_text(encoding="utf-8")
        lines = parse(text)
        by_call = stays(lines)

        assert events_of(lines, timed_out.uniqueid)[:3] == ["DID", "ENTERQUEUE", "RINGNOANSWER"]
        assert events_of(lines, timed_out.uniqueid)[-1] == "EXITWITHTIMEOUT"
        rna = [line for line in lines if line.callid == timed_out.uniqueid and line.event == "RINGNOANSWER"]
        assert {line.agent for line in rna} == {"Agent/agent1"}
        assert all(900 <= line.number("ringtime_ms") <= 5000 for line in rna)  # ring_timeout is 1 s
        exit_line = by_call[timed_out.uniqueid][0].ended
        assert exit_line is not None and 3 <= exit_line.number("waittime") <= 8  # max_wait 4 s

        assert events_of(lines, abandoned.uniqueid) == ["DID", "ENTERQUEUE", "ABANDON"]
        gave_up = by_call[abandoned.uniqueid][0].ended
        assert gave_up is not None and gave_up.data["position"] == gave_up.data["origposition"] == "1"

        assert events_of(lines, answered.uniqueid) == [
            "DID",
            "ENTERQUEUE",
            "CONNECT",
            "COMPLETECALLER",
            "CALLSTATUS",
        ]
        assert [line.data for line in lines if line.callid == answered.uniqueid][-1] == {"status": "sale"}
        talk = by_call[answered.uniqueid][0].ended
        assert talk is not None and 0 <= talk.number("calltime") <= 6

        moved = by_call[call_id]
        assert [(s.queue, s.ended.event if s.ended else None) for s in moved] == [
            ("support", "BLINDTRANSFER"),
            ("sales", "COMPLETEAGENT"),  # the agent ended it (the hang-up button)
        ]
        assert moved[0].connected is not None and moved[0].connected.agent == f"Agent/{first}"
        assert moved[1].connected is not None and moved[1].connected.agent == f"Agent/{second.agent_id}"

        members = [
            (line.event, line.queue, line.agent, line.data) for line in lines if line.callid == "MANAGER"
        ]
        assert ("ADDMEMBER", "sales", "Agent/agent1", {"paused": ""}) in members
        assert ("REMOVEMEMBER", "support", "Agent/agent2", {"empty": ""}) in members
        pauses = {(line.agent, line.data["reason"]) for line in lines if line.event == "PAUSE"}
        assert {("Agent/agent2", "lunch"), ("Agent/agent1", "meeting")} <= pauses

        # the same period, made from the database: over REST (supervisors only)...
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start))
        until = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(end))
        url = f"{rig.base}/api/queue-log?from={iso}Z&to={until}Z"
        assert (await rig.text(url, {"Authorization": f"Bearer {rig.tokens['agent1']}"}))[0] == 403
        status, exported = await rig.text(
            f"{rig.base}/api/queue-log?from={iso}Z&to={until}Z",
            {"Authorization": f"Bearer {rig.tokens['boss']}"},
        )
        assert status == 200
        assert exported == text
        status, _ = await rig.text(
            f"{rig.base}/api/queue-log?from={iso}", {"Authorization": f"Bearer {rig.tokens['boss']}"}
        )
        assert status == 400
        status, body = await rig.text(
            f"{rig.base}/api/queue-log?from={iso}Z&to=2026-02-30",
            {"Authorization": f"Bearer {rig.tokens['boss']}"},
        )
        assert (status, json.loads(body)["parameter"]) == (400, "to")  # no 30 February
    # ...and from the CLI, once the server has stopped
    out = tmp_path / "exported_queue_log"
    code = await asyncio.to_thread(export_queue_log, settings, agent_queues(settings), start, end, out)
    assert code == 0
    assert out.read_text(encoding="utf-8") == text
