"""The live channel under churn and abuse: streams per session are bounded, closed ones buffer
nothing, and every unreadable frame counts against the bad-frame budget. (Memory under churn is
measured on a server process: tests/integration/test_live_churn.py.)"""

from __future__ import annotations

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from callserver.acd.model import AgentStatus
from callserver.web.live import PING_GRID_SHARE, next_ping
from tests.web.conftest import Env, receive


async def _open_and_close(client: TestClient) -> None:
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)  # hello
        await receive(ws)  # snapshot


async def test_streams_per_session_are_bounded_and_closed_ones_buffer_nothing(env: Env) -> None:
    client = await env.client("boss")
    hub = env.deps_hub()
    for _ in range(30):
        await _open_and_close(client)
    kept = list(hub.streams.values())
    assert len(kept) <= hub.streams_per_session
    env.set_status("agent1", AgentStatus.AVAILABLE)
    assert all(not stream.buffer for stream in kept)  # numbered, not stored, while nobody reads


async def test_a_stream_resumed_after_a_gap_is_rebuilt_from_a_snapshot(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        stream = (await receive(ws))["data"]["stream"]
        last_seq = (await receive(ws))["seq"]
    env.set_status("agent1", AgentStatus.AVAILABLE)  # sent while the tab was away
    async with client.ws_connect(f"/api/live?resume={stream}&last_seq={last_seq}") as ws:
        hello = await receive(ws)
        assert (hello["data"]["stream"], hello["data"]["resumed"]) == (stream, False)
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == last_seq + 2  # the numbering went on while nobody listened
        assert snapshot["data"]["me"]["status"] == "available"


async def test_deeply_nested_frames_count_as_bad_frames(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)
        await receive(ws)
        for depth in (1000, 1010, 1020, 1005, 1015):  # under the 1,024-character frame limit here
            await ws.send_str("[" * depth)
        codes = [(await receive(ws))["data"]["code"] for _ in range(5)]
        assert codes == ["invalid_json"] * 5
        closing = await ws.receive(timeout=5)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        assert ws.close_code == 1008  # the fifth bad frame used up the budget
    me = await client.get("/api/me")
    assert me.status == 200


def test_pings_fall_on_a_grid_so_sockets_share_a_wake_up() -> None:
    """Sockets pinged at different moments within one step of the grid are due at the same
    moment, never before a whole interval and at most a step after it."""
    interval = 20.0
    step = interval * PING_GRID_SHARE
    lasts = [1000.0 + (i + 1) * step / 8 for i in range(7)]  # seven sockets within one step
    dues = {next_ping(last, interval) for last in lasts}
    assert len(dues) == 1
    (due,) = dues
    assert all(interval <= due - last <= interval + step for last in lasts)
    assert next_ping(lasts[0] + step, interval) == pytest.approx(due + step)  # a step later: the next point
