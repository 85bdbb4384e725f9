"""An agent follows the billing script on a real call over loopback TCP (server, PBX simulator, REST):
the run starts on answer, moves forward and back, saves the payment plan, sets the outcome,
schedules the callback, holds the wrap-up until the end, and is stored with every answer, shown
in the next pop and exported."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from callserver.acd.model import AgentStatus
from callserver.callbacks.model import CallbackKind, CallbackStatus
from callserver.facts.model import CallWrappedUp, ScriptRunEnded, ScriptRunStarted, ScriptStepReached
from callserver.web.app import PARTS

from .rig import CSRF, JEANNE, SUPERVISOR, TIMEZONE, Centre, billing_settings, callback_day, running

pytestmark = [pytest.mark.slow]


@pytest.fixture
async def centre(tmp_path: Path) -> AsyncIterator[Centre]:
    async with running(billing_settings(tmp_path)) as c:
        yield c


async def _json(resp: aiohttp.ClientResponse) -> Any:
    return await resp.json()


async def move(agent: aiohttp.ClientSession, centre: Centre, view: dict[str, Any], **body: Any) -> Any:
    body.setdefault("position", view["position"])
    async with agent.post(
        f"{centre.url}api/script-runs/{view['run_id']}/move", json=body, headers=CSRF
    ) as resp:
        data = await resp.json()
        return resp.status, data


async def test_agent_follows_the_billing_script_on_a_call_to_its_end(centre: Centre) -> None:
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    caller = centre.call(JEANNE["phone"])
    started = await centre.until_fact(lambda f: isinstance(f, ScriptRunStarted) and f.agent_id == "agent1")
    assert isinstance(started, ScriptRunStarted)
    assert started.script_id == "billing" and started.customer_id is not None
    call_id = started.call_id
    agent = await centre.login("agent1", "agent1-pass")
    boss = await centre.login(*SUPERVISOR)
    try:
        async with agent.get(centre.url + "api/script-runs/mine") as resp:
            view = (await resp.json())["run"]
        assert (view["step"], view["position"], view["call_id"]) == ("greet", 0, call_id)
        assert view["texts"][0] == {
            "kind": "say",
            "text": "Hello Jeanne Dupont, thank you for getting in touch about your bill.",
        }
        assert view["texts"][1]["kind"] == "note"
        assert [p["kind"] for p in view["pending"]] == ["end"]

        status, data = await move(agent, centre, view, op="forward")
        assert status == 200, data
        view = data["view"]
        assert view["step"] == "balance_due"
        assert view["texts"][0]["text"] == "The balance of account 100101 is €42.10."
        # the supervisor sees which step the agent is on
        async with boss.get(centre.url + "api/script-runs/active") as resp:
            (active,) = (await resp.json())["runs"]
        assert (active["agent_id"], active["step"], active["title"]) == ("agent1", "balance_due", "Balance")
        await centre.until_fact(
            lambda f: isinstance(f, ScriptStepReached) and f.step == "balance_due" and f.agent_id == "agent1"
        )

        status, data = await move(agent, centre, view, op="forward", value="yes")
        assert data["view"]["step"] == "plan_months"
        stale = await move(agent, centre, view, op="forward", value="no")  # a second tab at the old step
        assert stale[0] == 409 and stale[1]["view"]["step"] == "plan_months"
        status, data = await move(agent, centre, data["view"], op="back")
        assert data["view"]["step"] == "balance_due"
        assert data["view"]["question"]["answer"] == "true"  # the answer is kept going back
        status, data = await move(agent, centre, data["view"], op="forward", value="yes")
        view = data["view"]
        status, data = await move(agent, centre, view, op="forward", value="20")
        assert status == 400 and data["error"] == "Enter a value from 2 to 12."
        status, data = await move(agent, centre, view, op="forward", value="6")
        view = data["view"]
        assert view["step"] == "plan_day" and view["question"]["kind"] == "date"
        status, data = await move(agent, centre, view, op="forward", value=callback_day().isoformat())
        assert status == 200, data
        notices = {n["kind"]: n for n in data["notices"]}
        assert notices["field"]["message"] == "Saved payment_plan: requested: 6 months"
        assert notices["outcome"]["message"] == "Outcome set: follow-up"
        assert notices["callback"]["ok"] and "by agent1" in notices["callback"]["message"]
        view = data["view"]
        assert view["step"] == "plan_done" and view["outcome"] == "follow-up"

        # the caller hangs up: wrap-up waits for the end of the script
        caller.hangup()
        await centre.until(lambda: centre.server.service.agent("agent1").state.value == "wrapup")  # type: ignore[union-attr]
        wrapup = {"outcome": "follow-up", "note": "plan over 6 months"}
        async with agent.post(f"{centre.url}api/calls/{call_id}/wrapup", json=wrapup, headers=CSRF) as resp:
            assert resp.status == 409
            assert "Finish the script 'Billing enquiry' first" in (await resp.json())["error"]
        status, data = await move(agent, centre, view, op="forward")
        assert data["view"]["status"] == "finished"
        async with agent.post(f"{centre.url}api/calls/{call_id}/wrapup", json=wrapup, headers=CSRF) as resp:
            assert resp.status == 200, await resp.text()
        await centre.until_fact(lambda f: isinstance(f, ScriptRunEnded) and f.call_id == call_id)
        await centre.server.writer.flush()

        # stored: the run, each answer with who and when, the field, the outcome, the callback
        store = centre.server.store
        (run,) = await store.script_runs(call_id=call_id)
        assert (run.status, run.outcome, run.version, run.channel) == ("finished", "follow-up", 1, "agent")
        assert run.path == ("greet", "balance_due", "plan_months", "plan_day", "plan_done")
        assert [(a.question, a.shown, a.by) for a in run.answers] == [
            ("wants_plan", "yes", "agent1"),
            ("months", "6", "agent1"),
            ("callback_day", callback_day().strftime("%-d %B %Y"), "agent1"),
        ]
        assert (await store.customer_fields(run.customer_id or 0))["payment_plan"] == "requested: 6 months"
        row = await store.call(call_id)
        assert row is not None and (row.wrapup_outcome, row.wrapup_note) == (
            "follow-up",
            "plan over 6 months",
        )
        assert any(
            isinstance(f, CallWrappedUp) and f.note == "" and f.code == "follow-up" for f in centre.facts
        )
        (callback,) = await centre.server.callbacks.visible_to("agent1")  # type: ignore[union-attr]
        assert (callback.kind, callback.status, callback.reserved_for) == (
            CallbackKind.CALLBACK,
            CallbackStatus.SCHEDULED,
            "agent1",
        )
        due = datetime.combine(callback_day(), time(9, 0), ZoneInfo(TIMEZONE))
        assert callback.due_at == due and callback.number == JEANNE["phone"]
        assert [q for q, _ in callback.lines] == [
            "Would you like to pay this amount in monthly instalments?",
            "Over how many months would you like to pay?",
            "Which day suits you for that call?",
        ]

        # exported, one CSV row per answer
        async with boss.get(centre.url + "api/script-runs?format=csv&script_id=billing") as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            rows = list(csv.DictReader(io.StringIO(await resp.text())))
        assert [r["question"] for r in rows] == ["wants_plan", "months", "callback_day"]
        assert {r["contact_id"] for r in rows} == {call_id}
        async with agent.get(centre.url + "api/script-runs") as resp:
            assert resp.status == 403  # agents do not export
    finally:
        await agent.close()
        await boss.close()

    # Jeanne calls again: her pop shows the earlier run with its answers
    centre.set_status("agent1", AgentStatus.AVAILABLE)
    await centre.until(lambda: centre.server.service.agent("agent1").state.value == "idle")  # type: ignore[union-attr]
    centre.call(JEANNE["phone"])
    second = await centre.until_fact(
        lambda f: isinstance(f, ScriptRunStarted) and f.call_id != call_id and f.agent_id == "agent1"
    )
    entry = await centre.server.web_runner.app[PARTS].hub.pops.for_call(second.call_id)
    assert entry is not None
    (customer,) = entry.data["customers"]
    (earlier,) = customer["scripts"]
    assert (earlier["call_id"], earlier["status"], earlier["outcome"]) == (call_id, "finished", "follow-up")
    assert [a["shown"] for a in earlier["answers"]][:2] == ["yes", "6"]


async def test_a_run_left_when_the_wrapup_ends_is_recorded_as_abandoned(centre: Centre) -> None:
    centre.set_status("agent2", AgentStatus.AVAILABLE)
    caller = centre.call(JEANNE["phone"])
    started = await centre.until_fact(lambda f: isinstance(f, ScriptRunStarted))
    caller.hangup()
    await centre.until(lambda: centre.server.service.agent("agent2").state.value == "wrapup")  # type: ignore[union-attr]
    centre.server.service.wrapup_done("agent2")
    ended = await centre.until_fact(lambda f: isinstance(f, ScriptRunEnded))
    assert isinstance(ended, ScriptRunEnded) and ended.call_id == started.call_id
    assert ended.ended_as == "abandoned"
    await centre.server.writer.flush()
    (run,) = await centre.server.store.script_runs(call_id=started.call_id)
    assert (run.status, run.path) == ("abandoned", ("greet",))
