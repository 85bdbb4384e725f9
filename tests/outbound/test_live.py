"""The live channel during a campaign, over real websockets: every message the supervisor and the
agent receive while a preview campaign runs (tiles, the card, the pop, the outcome, a callback) is
checked against the published schema, and each side gets what is meant for it."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import jsonschema

from callserver.web.app import PARTS

from .conftest import NY, Outbound, campaign, csv_of


async def collect(
    ws: aiohttp.ClientWebSocketResponse, into: list[dict[str, Any]], errors: list[str], seen: asyncio.Event
) -> None:
    """Read until the socket closes, validating every message against the schema; `seen` is set
    after each message."""
    async for msg in ws:
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        message = json.loads(msg.data)
        try:
            VALIDATOR.validate(message)
        except jsonschema.ValidationError as exc:
            errors.append(f"{message.get('type')}: {exc.message}")
        into.append(message)
        seen.set()


SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "callserver/web/schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def types(messages: list[dict[str, Any]]) -> set[str]:
    return {m["type"] for m in messages}


async def test_campaign_messages_on_the_live_channel_follow_the_schema(outbound: Outbound) -> None:
    rig = outbound
    rig.sim.set_called(f"{NY}0401", kind="person", answer_after=0.3, talk=30, patience=30)
    headers = {"Authorization": f"Bearer {rig.tokens['boss']}"}
    boss_seen: list[dict[str, Any]] = []
    agent_seen: list[dict[str, Any]] = []
    errors: list[str] = []
    async with (
        rig.http.ws_connect(rig.base + "/api/live", headers=headers) as boss,
        rig.http.ws_connect(
            rig.base + "/api/live", headers={"Authorization": f"Bearer {rig.tokens['agent1']}"}
        ) as agent,
    ):
        arrived = asyncio.Event()
        readers = [
            asyncio.create_task(collect(boss, boss_seen, errors, arrived)),
            asyncio.create_task(collect(agent, agent_seen, errors, arrived)),
        ]
        await rig.create(campaign(mode="preview", agents=["agent1"]))
        status, _ = await rig.import_list(
            "spring", "leads", csv_of([("P1", "Paula", f"{NY}0401")]), stream="0"
        )
        assert status == 200
        await rig.post("boss", "/api/campaigns/spring/start")
        await rig.until(lambda: rig.slot("spring", "agent1").value == "reserved")
        status, body = await rig.post("agent1", "/api/campaign-desk/preview/dial")
        assert status == 200, body
        await rig.until(lambda: rig.slot("spring", "agent1").value == "on_call")
        status, desk = await rig.get("agent1", "/api/campaign-desk")
        attempt_id = desk["attempt"]["attempt_id"]
        await rig.post("agent1", "/api/campaign-desk/hangup")
        await rig.until(lambda: rig.slot("spring", "agent1").value == "wrapup")
        when = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=1)).replace(
            hour=11, minute=0, second=0, microsecond=0, tzinfo=None
        )
        status, body = await rig.post(
            "agent1",
            "/api/campaign-desk/wrapup",
            {"attempt_id": attempt_id, "outcome": "call_back", "callback_at": when.isoformat()},
        )
        assert status == 200, body
        await rig.stored()
        async with asyncio.timeout(5):
            while "campaign.callback_booked" not in types(agent_seen) or "campaign.stats" not in types(
                boss_seen
            ):
                arrived.clear()
                await arrived.wait()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    assert errors == []
    assert {
        "campaign.saved",
        "campaign.state",
        "campaign.list_imported",
        "campaign.stats",
        "campaign.agent_slot",
        "campaign.attempt_started",
        "campaign.attempt_connected",
        "campaign.attempt_ended",
        "campaign.attempt_coded",
        "campaign.callback_booked",
    } <= types(boss_seen)
    assert {
        "campaign.preview",
        "campaign.pop",
        "campaign.attempt_coded",
        "campaign.callback_booked",
    } <= types(agent_seen)
    pop = next(m for m in agent_seen if m["type"] == "campaign.pop")
    assert pop["data"]["lead"]["fields"] == {"name": "Paula"}
    # the agent is not sent the supervisor's tiles
    assert "campaign.stats" not in types(agent_seen)


async def test_campaign_messages_after_the_live_channel_closed_are_dropped(outbound: Outbound) -> None:
    """At shutdown the web app (and its live channel) stops before the campaigns and the lines, which
    may still tell agents about their cards."""
    rig = outbound
    headers = {"Authorization": f"Bearer {rig.tokens['agent1']}"}
    async with rig.http.ws_connect(rig.base + "/api/live", headers=headers) as ws:
        hello = json.loads((await ws.receive(timeout=5)).data)
        assert hello["type"] == "hello"
        hub = rig.server.web_runner.app[PARTS].hub
        await hub.close()
        card = {"agent_id": "agent1", "campaign": "spring", "at": 0.0, "lead": None}
        hub.send("campaign.preview", card | {"auto_dial_at": None, "script": None}, "agent1")
        assert hub.streams == {}
