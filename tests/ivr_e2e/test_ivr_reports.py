"""End to end over TCP: callers finish in self-service, reach a queue or hang up in the IVR on the
simulated Asterisk; the IVR reports read over HTTP count them per flow and per node, with the
containment docs/metrics.md defines, and each call's timeline shows the nodes it went through."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from callserver.facts.model import IvrLeft
from callserver.sim import Outcome

from .rig import BILLING_DNIS, CALLER, CLOSED, OPEN, PASSWORD, Rig, ivr_settings, running

pytestmark = pytest.mark.slow


async def _get(http: aiohttp.ClientSession, path: str) -> Any:
    async with http.get(path) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


def _left(rig: Rig) -> list[IvrLeft]:
    return [f for f in rig.facts if isinstance(f, IvrLeft)]


async def test_ivr_reports_count_self_service_queue_and_hang_ups_with_containment(tmp_path: Any) -> None:
    settings = ivr_settings(tmp_path)
    zone = ZoneInfo(settings.reports.timezone)
    first_day = datetime.now(zone).date()
    async with running(settings) as rig:
        assert rig.server is not None and rig.server.reports is not None
        # after hours, no key: the closed menu falls back to "bye", which ends the call (self-service)
        rig.ivr_now[0] = CLOSED
        closed = [rig.sim.place_call(CALLER, BILLING_DNIS, patience=10) for _ in range(2)]
        for handle in closed:
            record = await handle.outcome(timeout=20)
            assert record.outcome is Outcome.PBX_HANGUP, record
        async with asyncio.timeout(10):
            await rig.until(lambda: len(_left(rig)) == 2)
        # open: two callers press 1 for support and are answered; one hangs up in the menu
        rig.ivr_now[0] = OPEN
        queued = [
            rig.sim.place_call(CALLER, BILLING_DNIS, digits="1", patience=10, talk_time=0.3) for _ in range(2)
        ]
        gone = rig.sim.place_call(CALLER, BILLING_DNIS, patience=10)
        async with asyncio.timeout(10):
            await rig.until(lambda: rig.presence.where.get(gone.record.uniqueid) == "menu")
        gone.hangup()
        await gone.outcome(timeout=10)
        for handle in queued:
            record = await handle.outcome(timeout=30)
            assert record.outcome is Outcome.COMPLETED, record
        async with asyncio.timeout(15):
            await rig.until(lambda: len(_left(rig)) == 5)
            await rig.service.wait_for(lambda: not rig.service.calls())
        await rig.writer.flush()
        await rig.server.reports.flush()
        last_day = datetime.now(zone).date()
        base = f"http://127.0.0.1:{rig.server.web_port}"
        async with aiohttp.ClientSession(base) as anonymous:
            login = await anonymous.post(
                "/api/login",
                json={"login": "boss", "password": PASSWORD, "bearer": True},
                headers={"X-Callserver": "1"},
            )
            assert login.status == 200, await login.text()
            token = (await login.json())["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Callserver": "1"}
        query = f"from={first_day}&to={last_day}&interval=day"
        async with aiohttp.ClientSession(base, headers=headers) as http:
            flows = await _get(http, f"/api/reports/ivr_flows?{query}")
            nodes = await _get(http, f"/api/reports/ivr_nodes?{query}")
            gone_timeline = await _get(http, f"/api/calls/{gone.record.uniqueid}/timeline")

    outcomes = sorted(f.outcome for f in _left(rig))
    assert outcomes == ["ended", "ended", "hangup", "queue", "queue"]
    by_flow: dict[str, dict[str, int]] = {}
    for row in flows["rows"]:
        got = by_flow.setdefault(row["dimension"], {})
        for key in ("ivr_entered", "contained", "ivr_abandoned", "ivr_to_queue", "ivr_to_voicemail"):
            got[key] = got.get(key, 0) + row[key]
    assert by_flow == {
        "main": {
            "ivr_entered": 5,
            "contained": 2,
            "ivr_abandoned": 1,
            "ivr_to_queue": 2,
            "ivr_to_voicemail": 0,
        }
    }
    if len(flows["rows"]) == 1:  # one local day (not across midnight): the ratio is the day's
        assert flows["rows"][0]["containment"] == pytest.approx(2 / 5)
    by_node: dict[str, dict[str, int]] = {}
    for row in nodes["rows"]:
        got = by_node.setdefault(row["dimension"], {})
        for key in ("ivr_entered", "ivr_ended", "ivr_hangup", "ivr_to_queue"):
            got[key] = got.get(key, 0) + row[key]
    assert {k: v["ivr_entered"] for k, v in by_node.items()} == {
        "main/office": 5,
        "main/closed_menu": 2,
        "main/bye": 2,
        "main/menu": 3,
        "main/support_q": 2,
    }
    assert by_node["main/bye"]["ivr_ended"] == 2
    assert by_node["main/menu"]["ivr_hangup"] == 1
    assert by_node["main/support_q"]["ivr_to_queue"] == 2
    assert sum(v["ivr_hangup"] + v["ivr_ended"] + v["ivr_to_queue"] for v in by_node.values()) == 5
    # the caller who hung up: the nodes at the times they were reached, then where they left
    steps = [
        (e["kind"], e["detail"].get("node")) for e in gone_timeline["entries"] if e["kind"].startswith("ivr")
    ]
    assert steps == [("ivr_node", "office"), ("ivr_node", "menu"), ("ivr_left", "menu")]
    left = next(e for e in gone_timeline["entries"] if e["kind"] == "ivr_left")
    assert left["detail"]["outcome"] == "hangup"
