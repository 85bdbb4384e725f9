"""The live websocket: snapshots per role, resume without loss or duplicates, hostile frames.

Every message the server sends here is checked against callserver/web/schema.json by `receive`.
"""

from __future__ import annotations

import json

from aiohttp import WSMsgType

from callserver.acd.model import AgentStatus
from callserver.facts.model import CallLinkedToCustomer, CallWrappedUp
from tests.web.conftest import CSRF, Env, receive, receive_event, receive_until


def _is(kind: str):  # type: ignore[no-untyped-def]
    return lambda m: m["type"] == kind


async def test_agent_gets_hello_then_snapshot_then_own_events(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        hello = await receive(ws)
        assert hello["type"] == "hello"
        assert hello["data"]["role"] == "agent"
        assert hello["data"]["resumed"] is False
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == 1
        assert snapshot["data"]["me"]["id"] == "agent1"
        assert snapshot["data"]["pop"] is None
        env.set_status("agent2", AgentStatus.PAUSED)  # someone else's change: not sent to agent1
        env.set_status("agent1", AgentStatus.AVAILABLE)
        status = await receive_event(ws)
        assert (status["type"], status["data"]["agent_id"], status["seq"]) == ("agent.status", "agent1", 2)
        env.call_arrives("c1")
        pop, before = await receive_until(ws, _is("pop"))
        assert sorted(m["type"] for m in before if m["type"] != "ping") == ["agent.state", "call.offered"]
        assert pop["data"]["call_id"] == "c1"
        assert pop["data"]["agent_id"] == "agent1"
        assert pop["data"]["match"] == "none"


async def test_supervisor_snapshot_and_queue_stats(env: Env) -> None:
    env.call_arrives("c1", caller_name="Walter")
    client = await env.client("boss")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)
        snapshot = (await receive(ws))["data"]
        assert [a["id"] for a in snapshot["agents"]] == ["agent1", "agent2"]
        assert snapshot["waiting"][0]["caller_name"] == "Walter"
        assert snapshot["queues"][0]["waiting"] == 1
        env.call_arrives("c2")
        queued = await receive_event(ws)
        assert (queued["type"], queued["data"]["call_id"]) == ("call.queued", "c2")
        stats = await receive_event(ws)
        assert (stats["type"], stats["data"]["waiting"]) == ("queue.stats", 2)


async def test_resume_after_a_closed_socket_delivers_the_missed_pop_in_the_snapshot(env: Env) -> None:
    env.set_status("agent1", AgentStatus.AVAILABLE)
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        stream = (await receive(ws))["data"]["stream"]
        last_seq = (await receive(ws))["seq"]
    # the tab lost its connection; meanwhile a call is offered to the agent
    env.call_arrives("c7", caller_num="+33140000077")
    await env.deps_hub().idle()
    async with client.ws_connect(f"/api/live?resume={stream}&last_seq={last_seq}") as ws:
        hello = await receive(ws)
        assert hello["data"] == hello["data"] | {"stream": stream, "resumed": False}
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        # two messages numbered while away (no pop is built for an agent with no browser), then
        # this one; the pop is built now that the agent is back, and follows it
        assert snapshot["seq"] == last_seq + 3
        assert snapshot["data"]["me"]["state"] == "ringing"
        pop = await receive(ws)
        assert (pop["type"], pop["seq"], pop["data"]["call_id"]) == ("pop", last_seq + 4, "c7")
        # nothing else is pending: the next message is a heartbeat, not the pop again
        ping = await receive(ws)
        assert ping["type"] == "ping"
        assert ping["seq"] == last_seq + 4
        await ws.send_json({"type": "pong", "data": {}})
    async with client.ws_connect(f"/api/live?resume={stream}&last_seq={last_seq + 4}") as ws:
        assert (await receive(ws))["data"]["resumed"] is True  # no gap: nothing to rebuild
        assert (await receive(ws))["type"] == "ping"


async def test_resume_before_the_old_socket_is_noticed_dead_replays_exactly_what_was_missed(
    env: Env,
) -> None:
    env.set_status("agent1", AgentStatus.AVAILABLE)
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as old:
        stream = (await receive(old))["data"]["stream"]
        last_seq = (await receive(old))["seq"]
        # the tab stops reading (its network went away) while the server still holds the socket
        env.call_arrives("c8", caller_num="+33140000078")
        await env.deps_hub().idle()
        async with client.ws_connect(f"/api/live?resume={stream}&last_seq={last_seq}") as ws:
            hello = await receive(ws)
            assert hello["data"] == hello["data"] | {"stream": stream, "resumed": True}
            missed = [await receive_event(ws) for _ in range(3)]
            assert sorted(m["type"] for m in missed) == ["agent.state", "call.offered", "pop"]
            assert [m["seq"] for m in missed] == [last_seq + 1, last_seq + 2, last_seq + 3]
            await ws.send_json({"type": "ack", "data": {"seq": last_seq + 3}})
            assert (await receive(ws))["type"] == "ping"
        while (last := await old.receive(timeout=5)).type is WSMsgType.TEXT:
            pass  # what it had been sent before the new connection took over
        assert (last.type, last.data) == (WSMsgType.CLOSE, 4001)  # replaced by the new connection


async def test_fresh_snapshot_when_the_buffer_no_longer_covers_the_gap(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        stream = (await receive(ws))["data"]["stream"]
        last_seq = (await receive(ws))["seq"]
    for _ in range(12):  # 24 messages for a buffer of 16
        env.set_status("agent1", AgentStatus.AVAILABLE)
        env.set_status("agent1", AgentStatus.LOGGED_OUT)
    async with client.ws_connect(f"/api/live?resume={stream}&last_seq={last_seq}") as ws:
        hello = await receive(ws)
        assert (hello["data"]["stream"], hello["data"]["resumed"]) == (stream, False)
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == last_seq + 24 + 1
        assert snapshot["data"]["me"]["status"] == "logged_out"


async def test_unknown_stream_starts_a_new_one(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live?resume=nope&last_seq=5") as ws:
        hello = await receive(ws)
        assert hello["data"]["resumed"] is False
        assert hello["data"]["stream"] != "nope"
        assert (await receive(ws))["type"] == "snapshot"


async def test_another_users_stream_cannot_be_resumed(env: Env) -> None:
    agent1 = await env.client("agent1")
    async with agent1.ws_connect("/api/live") as ws:
        stream = (await receive(ws))["data"]["stream"]
    agent2 = await env.client("agent2")
    async with agent2.ws_connect(f"/api/live?resume={stream}&last_seq=1") as ws:
        hello = await receive(ws)
        assert hello["data"]["stream"] != stream
        assert (await receive(ws))["data"]["me"]["id"] == "agent2"


async def test_hostile_frames_get_errors_and_the_server_survives(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)
        await receive(ws)
        frames = [
            (ws.send_bytes, b"\x00\x01binary"),
            (ws.send_str, "x" * 5000),
            (ws.send_str, "{not json"),
            (ws.send_str, json.dumps({"type": "rm -rf"})),
        ]
        codes = []
        for send, payload in frames:
            await send(payload)  # type: ignore[operator]
            error = await receive(ws)
            assert error["type"] == "error"
            codes.append(error["data"]["code"])
        assert codes == ["binary_not_supported", "frame_too_large", "invalid_json", "unknown_type"]
        env.set_status("agent1", AgentStatus.AVAILABLE)
        assert (await receive_until(ws, _is("agent.status")))[0]["data"]["status"] == "available"
    me = await client.get("/api/me")
    assert me.status == 200


async def test_repeated_abuse_closes_the_socket_with_the_policy_code(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)
        await receive(ws)
        for _ in range(5):
            await ws.send_str("[]")
        errors = [await receive(ws) for _ in range(5)]
        assert {e["data"]["code"] for e in errors} == {"not_an_object"}
        closing = await ws.receive(timeout=5)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        assert ws.close_code == 1008
    async with client.ws_connect("/api/live") as ws:
        assert (await receive(ws))["type"] == "hello"


async def test_cross_origin_websocket_is_refused(env: Env) -> None:
    client = await env.client("agent1")
    resp = await client.get(
        "/api/live",
        headers={
            "Origin": "http://evil.example",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert resp.status == 403


async def test_logout_closes_the_live_stream(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)
        await receive(ws)
        await client.post("/api/logout", headers=CSRF)
        msg = await ws.receive(timeout=5)
        assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
        assert ws.close_code == 4401


async def test_wrapup_and_customer_link_reach_supervisors_and_the_wrapup_its_agent(env: Env) -> None:
    boss, agent1, agent2 = await env.client("boss"), await env.client("agent1"), await env.client("agent2")
    async with (
        boss.ws_connect("/api/live") as sup,
        agent1.ws_connect("/api/live") as own,
        agent2.ws_connect("/api/live") as other,
    ):
        for ws in (sup, own, other):
            await receive(ws)  # hello
            await receive(ws)  # snapshot
        bus = env.deps.bus
        bus.publish(CallLinkedToCustomer("c1", 1.0, 7, "ivr"))
        bus.publish(CallWrappedUp("c1", 2.0, "agent1", "resolved", "sent the quote", "agent1"))
        bus.publish(CallWrappedUp("c2", 3.0, "agent2", "sale", "", "boss"))
        linked, wrapped = await receive_event(sup), await receive_event(sup)
        assert (linked["type"], linked["data"]["customer_id"], linked["data"]["by"]) == (
            "call.customer_linked",
            7,
            "ivr",
        )
        assert (wrapped["type"], wrapped["data"]["code"], wrapped["data"]["note"]) == (
            "call.wrapped_up",
            "resolved",
            "sent the quote",
        )
        mine = await receive_event(own)
        assert (mine["type"], mine["data"]["call_id"]) == ("call.wrapped_up", "c1")
        theirs = await receive_event(other)
        assert (theirs["type"], theirs["data"]["call_id"]) == ("call.wrapped_up", "c2")
