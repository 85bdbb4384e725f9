"""Logging many simulated agents in for a benchmark.

The server checks only a few passwords at once and answers the others 429 with `retry_after`
(docs/security.md); a benchmark that logs hundreds of agents in waits as a browser would.
"""

from __future__ import annotations

import asyncio

import aiohttp


async def bearer_login(session: aiohttp.ClientSession, base: str, name: str, password: str) -> str:
    """The bearer token of `name`, retrying while the server says it is busy checking others."""
    for _ in range(120):
        async with session.post(
            f"{base}/api/login",
            json={"login": name, "password": password, "bearer": True},
            headers={"X-Callserver": "1"},
        ) as resp:
            body = await resp.json()
            if resp.status == 200:
                return str(body["token"])
            if resp.status != 429:
                raise RuntimeError(f"login {name}: {resp.status} {body}")
        await asyncio.sleep(float(body.get("retry_after", 1)))
    raise RuntimeError(f"login {name}: still refused as busy after 120 tries")
