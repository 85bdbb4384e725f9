"""A script's transfer transfers the call through the ACD, and its task is routed by its own skill
requirement to an agent who meets it, with the answers; over loopback TCP with the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from callserver.acd.model import AgentStatus
from callserver.callbacks.model import CallbackKind
from callserver.config import parse_settings
from callserver.facts.model import CallAnswered, CallTransferred, ScriptRunEnded, ScriptRunStarted

from .rig import CSRF, JEANNE, Centre, billing_settings, running

pytestmark = [pytest.mark.slow]

TRIAGE = """<?xml version="1.0" encoding="UTF-8"?>
<script xmlns="urn:callserver:script:1" id="triage" version="1" start="ask" language="en-GB">
  <title>Triage</title>
  <step id="ask" title="Triage">
    <ask-yes-no name="technical"><label>Is it about the technical side?</label></ask-yes-no>
    <branch when="data.technical == true" to="to_technical"/>
    <next to="note"/>
  </step>
  <step id="to_technical" title="Transfer">
    <say>I am putting you through to a technician.</say>
    <set-outcome code="escalated"/>
    <transfer-to-queue queue="technical"/>
    <end/>
  </step>
  <step id="note" title="Follow-up">
    <ask-text name="topic"><label>What is it about?</label></ask-text>
    <create-task title="Follow up with {customer.name}" queue="billing" require="billing >= 7">
      <note>Topic: {data.topic}</note>
    </create-task>
    <end/>
  </step>
</script>
"""


@pytest.fixture
async def centre(tmp_path: Path) -> AsyncIterator[Centre]:
    settings = billing_settings(tmp_path)
    (tmp_path / "scripts" / "triage.xml").write_text(TRIAGE, encoding="utf-8")
    data: dict[str, Any] = settings.model_dump(mode="json")
    data["skills"] = ["billing", "technical"]
    data["agents"][1]["skills"] = {"billing": 5, "technical": 6}
    data["agents"].append(
        {
            "id": "agent3",
            "name": "Chloé Durand",
            "login": "agent3",
            "interface": "PJSIP/1003",
            "skills": {"billing": 8},
            "password": "agent3-pass",
        }
    )
    data["queues"].append(
        {**data["queues"][0], "name": "technical", "dnis": ["501"], "skills": ["technical"]}
    )
    data["scripts"]["queues"] = {"billing": "triage"}
    async with running(parse_settings(data, "<triage test>", env={})) as c:
        c.sim.set_phone("PJSIP/1003", answer_delay=0.2, answers=True)
        yield c


async def _first_view(centre: Centre, agent: str) -> tuple[Any, dict[str, Any]]:
    started = await centre.until_fact(lambda f: isinstance(f, ScriptRunStarted) and f.agent_id == agent)
    session = await centre.login(agent, f"{agent}-pass")
    async with session.get(centre.url + "api/script-runs/mine") as resp:
        view = (await resp.json())["run"]
    assert isinstance(started, ScriptRunStarted) and view["call_id"] == started.call_id
    return session, view


async def test_the_scripts_transfer_moves_the_call_to_the_technical_queue(centre: Centre) -> None:
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    caller = centre.call(JEANNE["phone"])
    session, view = await _first_view(centre, "agent1")
    try:
        centre.set_status("agent2", AgentStatus.AVAILABLE)  # the technician, free once the call moves
        body = {"op": "forward", "position": 0, "value": "yes"}
        async with session.post(
            f"{centre.url}api/script-runs/{view['run_id']}/move", json=body, headers=CSRF
        ) as r:
            assert r.status == 200, await r.text()
        body = {"op": "forward", "position": 1}
        async with session.post(
            f"{centre.url}api/script-runs/{view['run_id']}/move", json=body, headers=CSRF
        ) as r:
            moved = await r.json()
        assert [n["message"] for n in moved["notices"]] == [
            "Outcome set: escalated",
            "Call transferred to queue technical",
            "The script is finished",
        ]
    finally:
        await session.close()
    transferred = await centre.until_fact(lambda f: isinstance(f, CallTransferred))
    assert isinstance(transferred, CallTransferred) and (transferred.kind, transferred.target) == (
        "queue",
        "technical",
    )
    answered = await centre.until_fact(lambda f: isinstance(f, CallAnswered) and f.agent_id == "agent2")
    assert (
        isinstance(answered, CallAnswered)
        and answered.call_id == view["call_id"]
        and answered.queue == "technical"
    )
    ended = await centre.until_fact(lambda f: isinstance(f, ScriptRunEnded) and f.agent_id == "agent1")
    assert isinstance(ended, ScriptRunEnded) and (ended.ended_as, ended.outcome) == ("finished", "escalated")
    caller.hangup()


async def test_the_scripts_task_goes_to_an_agent_meeting_its_requirement_with_the_answers(
    centre: Centre,
) -> None:
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    caller = centre.call(JEANNE["phone"])
    session, view = await _first_view(centre, "agent1")
    try:
        # agent2 (billing 5) is free first, but the task wants billing >= 7: it waits for agent3
        centre.set_status("agent2", AgentStatus.AVAILABLE)
        run = f"{centre.url}api/script-runs/{view['run_id']}/move"
        async with session.post(run, json={"op": "forward", "position": 0, "value": "no"}, headers=CSRF) as r:
            assert r.status == 200
        body = {"op": "forward", "position": 1, "value": "Invoice sent twice"}
        async with session.post(run, json=body, headers=CSRF) as r:
            notices = (await r.json())["notices"]
        assert notices[0] == {
            "kind": "task",
            "message": "Task created: Follow up with Jeanne Dupont",
            "ok": True,
        }
    finally:
        await session.close()
    caller.hangup()
    callbacks = centre.server.callbacks
    assert callbacks is not None
    (task,) = [t for t in await callbacks.visible_to(None) if t.kind is CallbackKind.TASK]
    assert task.requirement == "billing >= 7" and task.note == "Topic: Invoice sent twice"
    assert task.lines == [
        ("Is it about the technical side?", "no"),
        ("What is it about?", "Invoice sent twice"),
    ]
    centre.set_status("agent3", AgentStatus.AVAILABLE)
    answered = await centre.until_fact(lambda f: isinstance(f, CallAnswered) and f.call_id == task.task_id)
    assert isinstance(answered, CallAnswered) and answered.agent_id == "agent3"
    assert not any(
        isinstance(f, CallAnswered) and f.call_id == task.task_id and f.agent_id == "agent2"
        for f in centre.facts
    )
