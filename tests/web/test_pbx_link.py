"""The PBX link state on the live channel: pushed to every stream when it changes, in every
snapshot, and in the published schema."""

from __future__ import annotations

from tests.web.conftest import Env, receive, receive_event


async def test_link_down_and_back_reaches_agents_and_supervisors(env: Env) -> None:
    agent = await env.client("agent1")
    boss = await env.client("boss")
    hub = env.deps_hub()
    async with agent.ws_connect("/api/live") as a, boss.ws_connect("/api/live") as b:
        for ws in (a, b):
            await receive(ws)
            assert (await receive(ws))["data"]["pbx_link"]["up"] is True
        hub.pbx_link_changed(False, 1700000000.0, "connection closed by Asterisk")
        for ws in (a, b):
            down = await receive_event(ws)  # checked against the schema like every message
            assert (down["type"], down["data"]) == (
                "pbx.link",
                {"up": False, "since": 1700000000.0, "reason": "connection closed by Asterisk"},
            )
        async with agent.ws_connect("/api/live") as late:
            await receive(late)
            assert (await receive(late))["data"]["pbx_link"]["up"] is False
        hub.pbx_link_changed(True, 1700000060.0)
        for ws in (a, b):
            up = await receive_event(ws)
            assert (up["type"], up["data"]["up"], up["data"]["reason"]) == ("pbx.link", True, "")
