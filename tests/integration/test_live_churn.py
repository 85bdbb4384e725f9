"""A thousand live connections opened and closed, five times over, against a server process: its
resident memory after the first round (the warm-up) stays within 10 % for the next four."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
import yaml

from ..helpers import fast_settings, free_port
from .process import ServerProcess

pytestmark = pytest.mark.slow

ROUNDS = 5
CONNECTIONS = 1000
AT_ONCE = 50


async def _open_and_close(http: aiohttp.ClientSession) -> None:
    async with http.ws_connect("/api/live") as ws:
        for expected in ("hello", "snapshot"):
            msg = await ws.receive(timeout=10)
            assert json.loads(msg.data)["type"] == expected


async def test_a_thousand_live_connections_five_times_leave_server_memory_flat(tmp_path: Path) -> None:
    web_port = free_port()
    settings = fast_settings(
        tmp_path,
        web={"host": "127.0.0.1", "port": web_port},
        web_users=[{"login": "boss", "name": "Boss", "role": "supervisor", "password": "boss-pw"}],
    )
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude_unset=True)), encoding="utf-8")
    server = await ServerProcess.start(config)
    rss: list[int] = []
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{web_port}") as anonymous:
            login = await anonymous.post(
                "/api/login",
                json={"login": "boss", "password": "boss-pw", "bearer": True},
                headers={"X-Callserver": "1"},
            )
            token = (await login.json())["token"]
        headers = {"Authorization": f"Bearer {token}", "X-Callserver": "1"}
        async with aiohttp.ClientSession(f"http://127.0.0.1:{web_port}", headers=headers) as http:
            for _ in range(ROUNDS):
                for start in range(0, CONNECTIONS, AT_ONCE):
                    batch = min(AT_ONCE, CONNECTIONS - start)
                    await asyncio.gather(*(_open_and_close(http) for _ in range(batch)))
                    # the centre is busy meanwhile: a stream kept after its socket closed would
                    # buffer every one of these messages
                    for status in ("paused", "available"):
                        changed = await http.post(
                            "/api/agents/agent1/status", json={"status": status, "reason": "break"}
                        )
                        assert changed.status == 200
                rss.append(server.rss_kib())
    finally:
        code = await server.stop()
    warm = rss[0]
    growth = [round(100 * (r - warm) / warm, 1) for r in rss[1:]]
    print(
        f"{ROUNDS} x {CONNECTIONS} live connections: server RSS after each round {rss} KiB, "
        f"growth after warm-up {growth} %"
    )
    assert max(rss[1:]) <= warm * 1.10
    assert code == 0, server.log[-3000:]
