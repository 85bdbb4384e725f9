"""Sessions slide with use but end at a fixed time after login, live sockets with them."""

from __future__ import annotations

from aiohttp import WSMsgType

from callserver.web.app import PARTS
from callserver.web.auth import Principal, Role
from callserver.web.sessions import SessionStore
from tests.web.conftest import Env, receive

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_in_constant_use_still_ends_at_its_lifetime() -> None:
    clock = Clock()
    store = SessionStore(clock, ttl=8 * HOUR, lifetime=12 * HOUR)
    token = store.create(Principal("agent1", "Agent 1", Role.AGENT, "agent1")).token
    alive_for = 0.0
    while store.get(token) is not None and alive_for < 48 * HOUR:
        clock.now += HOUR  # used every hour
        alive_for += HOUR
    print(f"a session used every hour lasts {alive_for / HOUR:.0f} h")
    assert alive_for == 12 * HOUR


def test_an_idle_session_ends_after_the_sliding_expiry() -> None:
    clock = Clock()
    store = SessionStore(clock, ttl=8 * HOUR, lifetime=12 * HOUR)
    token = store.create(Principal("boss", "Boss", Role.SUPERVISOR)).token
    clock.now += 8 * HOUR - 1
    assert store.get(token) is not None
    clock.now += 8 * HOUR + 1
    assert store.get(token) is None


async def test_the_live_socket_closes_when_its_session_ends(env: Env) -> None:
    client = await env.client("agent1")
    async with client.ws_connect("/api/live") as ws:
        await receive(ws)
        await receive(ws)
        sessions = env.server.app[PARTS].sessions
        for session in sessions._sessions.values():
            session.expires_at = session.ends_at = 0.0  # the session's lifetime is over
        while (msg := await ws.receive(timeout=5)).type is WSMsgType.TEXT:
            pass  # a heartbeat may come first
        assert (msg.type, msg.data) == (WSMsgType.CLOSE, 4401)
    assert (await client.get("/api/me")).status == 401
