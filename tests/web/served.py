"""The whole server built by the composition root (no PBX: AMI keeps retrying), with a supervisor
logged in over bearer auth: for tests that walk every REST route, voicemail ones included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from callserver.app import CallServer, start_server

from ..helpers import fast_settings

PASSWORD = "boss-pw"


@dataclass
class Served:
    server: CallServer
    url: str
    headers: dict[str, str]  # bearer token and the CSRF header


@asynccontextmanager
async def served_api(tmp_path: Path) -> AsyncIterator[Served]:
    settings = fast_settings(
        tmp_path,
        web={"host": "127.0.0.1", "port": 0},
        web_users=[{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}],
    )
    # agents log in too: their passwords are hashed into the store
    agents = [a.model_copy(update={"password": f"{a.login}-pw"}) for a in settings.agents]
    settings = settings.model_copy(update={"agents": agents})
    server = await start_server(settings)
    try:
        url = f"http://127.0.0.1:{server.web_port}"
        async with aiohttp.ClientSession(url) as http:
            resp = await http.post(
                "/api/login",
                json={"login": "boss", "password": PASSWORD, "bearer": True},
                headers={"X-Callserver": "1"},
            )
            token = (await resp.json())["token"]
        yield Served(server, url, {"Authorization": f"Bearer {token}", "X-Callserver": "1"})
    finally:
        await server.stop()
