"""A FastAGI peer that answers garbage, against the whole server with an IVR: the call is dropped
with one WARNING, no ERROR and no traceback, and nothing the peer sent reaches the log raw."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from callserver.app import start_server
from tests.agi.test_server import Asterisk, headers, s9_env

from ..helpers import fast_settings

IVR = {
    "flows": {
        "main": {
            "dnis": ["600"],
            "language": "en",
            "start": "menu",
            "nodes": {
                "menu": {
                    "type": "menu",
                    "prompt": {"file": "beep"},
                    "options": {"1": "queue"},
                    "timeout": 1,
                    "retries": 0,
                    "fallback": "queue",
                },
                "queue": {"type": "queue", "queue": "support"},
            },
        }
    }
}


async def test_garbage_answers_in_the_ivr_give_one_warning_and_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fast_settings(tmp_path, ivr=IVR)
    server = await start_server(settings)
    try:
        with caplog.at_level(logging.INFO, logger="callserver"):
            for i in range(10):
                peer = await Asterisk.connect(server.agi.port)
                peer.writer.write(headers({**s9_env(), "agi_dnid": "600", "agi_uniqueid": f"1700000000.{i}"}))
                async with asyncio.timeout(5):
                    assert (await peer.reader.readline()).startswith(b"STREAM FILE beep")
                peer.writer.write(b"\x1b[31mHTTP/1.1 200 OK\x00\xff\r\n")
                assert await peer.closed_by_server()
                await peer.close()
    finally:
        await server.stop()
    ours = [
        r
        for r in caplog.records
        if r.name.startswith(("callserver.agi", "callserver.inbound", "callserver.ivr"))
    ]
    problems = [r for r in ours if r.levelno >= logging.WARNING]
    print(f"10 peers answering garbage in the IVR: {[r.levelname for r in problems]}")
    assert [r.levelname for r in problems] == ["WARNING"]
    assert all(r.exc_info is None for r in ours)
    text = "\n".join(r.getMessage() for r in ours)
    assert "\x1b" not in text and "\x00" not in text
