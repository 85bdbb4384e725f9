"""The billing script as a public page over loopback TCP: identification with an account number and
a postcode, CSRF and rate limits, no internal ids in what a customer gets, answers checked on the
server, and "talk to someone" becoming a callback the ACD gives to an agent with the answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from callserver.acd.model import AgentStatus
from callserver.callbacks.model import CallbackStatus
from callserver.facts.model import CallAnswered, ScriptRunEnded

from .rig import CSRF, JEANNE, Centre, billing_settings, running

pytestmark = [pytest.mark.slow]
OPEN = {"X-Callserver-Self": "1"}
# what must never reach a customer: run and contact ids, step ids, question names, record ids
INSIDE = (
    "run-",
    "web-",
    '"greet"',
    '"balance_due"',
    '"plan_months"',
    '"wants_plan"',
    '"months"',
    '"id"',
    "customer",
)


@pytest.fixture
async def centre(tmp_path: Path) -> AsyncIterator[Centre]:
    async with running(billing_settings(tmp_path)) as c:
        yield c


def customer() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def start(page: aiohttp.ClientSession, centre: Centre, headers: dict[str, str], **body: Any) -> Any:
    async with page.post(centre.url + "self/api/billing/start", json=body, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers


async def test_an_identified_customer_runs_the_script_and_a_callback_reaches_an_agent(centre: Centre) -> None:
    async with customer() as page:
        async with page.get(centre.url + "self/billing") as resp:
            assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
        async with page.get(centre.url + "self/api/billing") as resp:
            info = await resp.json()
        assert (info["identify"], info["factor_label"], info["handoff_label"]) == (
            "required",
            "Postcode",
            "Talk to someone",
        )
        # identification is required, and checked
        status, data, _ = await start(page, centre, OPEN)
        assert status == 400 and data["error"] == "Give your account number and postcode."
        status, data, _ = await start(page, centre, OPEN, account=JEANNE["account"], factor="99999")
        assert status == 401 and data["error"] == "We could not find an account with these details."
        status, data, headers = await start(page, centre, OPEN, account=JEANNE["account"], factor=" 75 011 ")
        assert status == 200, data
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
        assert headers["Cache-Control"] == "no-store"
        token, view = data["csrf"], data["page"]
        seen = [json.dumps(data)]
        assert view["texts"] == [
            {"kind": "say", "text": "Hello Jeanne Dupont, thank you for getting in touch about your bill."}
        ]  # the agents' note is not shown

        async def go(**body: Any) -> tuple[int, Any]:
            body.setdefault("position", view["position"])
            async with page.post(
                centre.url + "self/api/billing/move", json=body, headers={"X-Self-Token": token}
            ) as resp:
                got = await resp.json()
                seen.append(json.dumps(got))
                return resp.status, got

        # a move without the page's token is refused
        async with page.post(
            centre.url + "self/api/billing/move", json={"op": "next", "position": 0}
        ) as resp:
            assert resp.status == 403
        status, data = await go(op="next")
        view = data["page"]
        assert view["texts"][0]["text"] == "The balance of account 100101 is €42.10."
        status, data = await go(op="next", value={"yes": True})  # hostile shapes are just wrong answers
        assert status == 400 and data["error"]
        status, data = await go(op="next", value="yes")
        view = data["page"]
        assert view["question"]["label"] == "Over how many months would you like to pay?"
        status, data = await go(op="next", value="4")
        view = data["page"]
        assert view["question"]["kind"] == "date"

        centre.set_status("agent1", AgentStatus.AVAILABLE)
        status, data = await go(op="talk")
        assert status == 200, data
        assert data["page"] == {
            "status": "handed_off",
            "message": "Thank you. Someone will call you back as soon as possible.",
            "identified": True,
            "needs_number": False,
        }
        status, data = await go(op="next")
        assert status == 409  # the page is finished
        for text in seen:
            for inside in INSIDE:
                assert inside not in text, f"{inside!r} shown to a customer: {text}"

    # the callback request reaches agent1 with the answers
    answered = await centre.until_fact(lambda f: isinstance(f, CallAnswered) and f.call_id.startswith("sc-"))
    assert isinstance(answered, CallAnswered) and answered.agent_id == "agent1"
    callback_id = int(answered.call_id.removeprefix("sc-"))
    callbacks = centre.server.callbacks
    assert callbacks is not None
    item = await callbacks.get(callback_id)
    assert item is not None and item.status in (CallbackStatus.QUEUED, CallbackStatus.ASSIGNED)
    agent = await centre.login("agent1", "agent1-pass")
    try:
        async with agent.get(f"{centre.url}api/callbacks/{callback_id}") as resp:
            card = await resp.json()
        assert card["number"] == JEANNE["phone"] and card["status"] == "assigned"
        assert card["lines"] == [
            {"question": "Would you like to pay this amount in monthly instalments?", "answer": "yes"},
            {"question": "Over how many months would you like to pay?", "answer": "4"},
        ]
        assert card["note"] == "Web customer asked to talk to someone about their bill."
        async with agent.post(f"{centre.url}api/callbacks/{callback_id}/call", headers=CSRF) as resp:
            assert resp.status == 202, await resp.text()
        async with agent.post(
            f"{centre.url}api/callbacks/{callback_id}/close", json={"outcome": "resolved"}, headers=CSRF
        ) as resp:
            assert (await resp.json())["status"] == "done"
    finally:
        await agent.close()
    await centre.until(lambda: centre.server.service.agent("agent1").state.value != "on_call")  # type: ignore[union-attr]

    # the web contact is in Jeanne's history, answered by the customer
    ended = await centre.until_fact(lambda f: isinstance(f, ScriptRunEnded) and f.agent_id is None)
    assert isinstance(ended, ScriptRunEnded) and ended.ended_as == "handed_off"
    await centre.server.writer.flush()
    jeanne = await centre.server.store.find_customer_by_account(JEANNE["account"])
    assert jeanne is not None
    (run,) = await centre.server.store.script_runs(customer_id=jeanne.id)
    assert (run.channel, run.status, run.call_id) == ("web", "handed_off", ended.call_id)
    assert [(a.question, a.value, a.by) for a in run.answers] == [
        ("wants_plan", "true", "customer"),
        ("months", "4", "customer"),
    ]


async def test_pages_refuse_forged_openings_and_limit_identification_attempts(centre: Centre) -> None:
    async with customer() as page:
        status, _, _ = await start(page, centre, {})  # no opening header: a form posted from elsewhere
        assert status == 403
        status, _, _ = await start(page, centre, {**OPEN, "Origin": "https://evil.example"})
        assert status == 403
        for _ in range(5):
            status, _, _ = await start(page, centre, OPEN, account=JEANNE["account"], factor="00000")
            assert status == 401
        status, _, headers = await start(page, centre, OPEN, account=JEANNE["account"], factor="75011")
        assert status == 429 and int(headers["Retry-After"]) > 0
        async with page.get(centre.url + "self/api/nosuch") as resp:
            assert resp.status == 404
        async with page.get(centre.url + "self/api/billing/page") as resp:
            assert resp.status == 410  # no page was opened
        # the API's own rules are unchanged: nothing under /api/ without a session
        async with page.get(centre.url + "api/script-runs/mine") as resp:
            assert resp.status == 401
