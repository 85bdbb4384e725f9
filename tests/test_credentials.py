"""Credentials in the configuration: hashes are taken as hashes for agents as for web users, plain
text and the sample AMI secret are warned about at start."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from callserver.app import start_server
from callserver.web.auth import hash_password

from .helpers import fast_settings

CSRF = {"X-Callserver": "1"}


async def _login(url: str, login: str, password: str) -> int:
    async with (
        aiohttp.ClientSession(url) as http,
        http.post(
            "/api/login", json={"login": login, "password": password, "bearer": True}, headers=CSRF
        ) as resp,
    ):
        return resp.status


async def test_agent_password_given_as_a_hash_is_not_hashed_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fast_settings(tmp_path, web={"host": "127.0.0.1", "port": 0})
    hashed = hash_password("hashed in config")
    agents = [
        settings.agents[0].model_copy(update={"password": hashed}),
        settings.agents[1].model_copy(update={"password": "plain in config"}),
    ]
    settings = settings.model_copy(update={"agents": agents})
    with caplog.at_level(logging.WARNING, logger="callserver"):
        server = await start_server(settings)
        try:
            url = f"http://127.0.0.1:{server.web_port}"
            statuses = (
                await _login(url, "agent1", "hashed in config"),
                await _login(url, "agent1", hashed),
                await _login(url, "agent2", "plain in config"),
            )
        finally:
            await server.stop()
    print(f"agent with a hash: real password {statuses[0]}, the hash itself {statuses[1]}")
    assert statuses == (200, 401, 200)
    warned = " | ".join(r.getMessage() for r in caplog.records)
    assert "agent2 has a plain-text password" in warned
    assert "agent1 has a plain-text password" not in warned


async def test_sample_ami_secret_is_warned_about_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for secret, expected in (("callserver", True), ("a-real-secret", False)):
        settings = fast_settings(tmp_path / secret)
        settings = settings.model_copy(update={"ami": settings.ami.model_copy(update={"secret": secret})})
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="callserver"):
            server = await start_server(settings)
            await server.stop()
        warned = any("sample one" in r.getMessage() for r in caplog.records)
        assert warned is expected, secret
