"""Password guessing in parallel: attempts are counted before the (slow) argon2 check, only a few
checks run at once, and a flood from one address does not lock the user out at their own desk."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp

from callserver.web.app import PARTS
from tests.web.conftest import CSRF, PASSWORD, Env

GUESSES = 200


def _from(env: Env, address: str) -> aiohttp.ClientSession:
    """A client whose connections come from `address` (any of 127.0.0.0/8 on Linux)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0), force_close=True, limit=0)
    return aiohttp.ClientSession(str(env.server.make_url("/")), connector=connector)


async def _login(http: aiohttp.ClientSession, login: str, password: str) -> int:
    async with http.post("/api/login", json={"login": login, "password": password}, headers=CSRF) as resp:
        await resp.read()
        return resp.status


async def test_parallel_guesses_are_counted_before_they_are_checked(env: Env) -> None:
    async with _from(env, "127.0.0.1") as attacker:
        statuses = Counter(
            await asyncio.gather(*(_login(attacker, "agent1", f"guess {i}") for i in range(GUESSES)))
        )
    verified = statuses[401]  # a 401 means the password was really checked, and was wrong
    print(f"{GUESSES} parallel guesses for one login: {verified} checked, {statuses[429]} refused at once")
    assert verified <= 5
    assert statuses[429] == GUESSES - verified
    assert set(statuses) <= {401, 429}


async def test_a_flood_from_elsewhere_does_not_lock_the_agent_out_of_their_desk(env: Env) -> None:
    async with _from(env, "127.0.0.2") as attacker:
        for round_ in range(3):
            await asyncio.gather(*(_login(attacker, "agent1", f"guess {round_}.{i}") for i in range(20)))
        assert await _login(attacker, "agent1", PASSWORD) == 429  # the attacker's own address waits
    async with _from(env, "127.0.0.3") as desk:
        assert await _login(desk, "agent1", PASSWORD) == 200


async def test_only_a_few_password_checks_run_at_once(env: Env) -> None:
    addresses = [f"127.0.1.{i}" for i in range(1, 11)]
    sessions = [_from(env, a) for a in addresses]
    try:
        statuses = Counter(
            await asyncio.gather(*(_login(s, "agent2", PASSWORD) for s in sessions for _ in range(3)))
        )
    finally:
        for s in sessions:
            await s.close()
    print(f"30 parallel logins from 10 addresses: {dict(statuses)}")
    assert statuses[200] >= 1
    assert statuses[200] + statuses[429] == 30
    assert statuses[429] > 0  # the rest are told to come back, not queued behind argon2
    throttle = env.server.app[PARTS].logins
    assert 1 <= throttle.peak_checks <= throttle.max_checks
