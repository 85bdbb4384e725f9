"""Fuzz the live websocket handler: the frame check in process against the published client schema,
and whole connections to a running server with random frames, every answer checked against the
server schema and the close codes the documentation gives."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callserver.web.live import check_frame

from .budget import fuzz_settings, ran
from .server import FuzzServer

# huge generated frames and blocks: a failure must be reported, not turned into a warning about its size
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Generating overly large repr")]

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "callserver/web/schema.json").read_text())
SERVER = jsonschema.Draft202012Validator({**SCHEMA, "$ref": "#/$defs/server"})
CLIENT = jsonschema.Draft202012Validator({**SCHEMA, "$ref": "#/$defs/client"})
CODES = {
    "binary_not_supported",
    "frame_too_large",
    "invalid_json",
    "not_an_object",
    "unknown_type",
    "invalid_data",
}
MAX_FRAME = 4096  # the server's default

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
VALID = st.one_of(
    st.just({"type": "pong", "data": {}}),
    st.just({"type": "pong"}),
    st.integers(0, 2**63).map(lambda n: {"type": "ack", "data": {"seq": n}}),
)
FRAMES = st.one_of(
    VALID.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["ack", "pong", "ping", "", "rm -rf"]) | st.text(max_size=8), "data": JSON}
    ).map(json.dumps),
    JSON.map(json.dumps),
    st.integers(1, 5000).map(lambda n: "[" * n),
    st.integers(1, 3000).map(lambda n: '{"a":' * n),
    st.text(max_size=200),
    st.integers(4000, 70000).map(lambda n: "x" * n),
)


@fuzz_settings(short=500, long=20_000)
@given(text=FRAMES)
def test_frame_check_accepts_the_schema_and_names_every_fault(text: str) -> None:
    ran("live frame check (in process)")
    problem = check_frame(text, MAX_FRAME)
    if problem is not None:
        assert problem[0] in CODES
        return
    frame = json.loads(text)  # accepted: a JSON object of a known type
    assert isinstance(frame, dict) and frame["type"] in {"ack", "pong"}


@fuzz_settings(short=300, long=20_000)
@given(frame=VALID)
def test_every_frame_the_schema_allows_is_accepted(frame: dict[str, Any]) -> None:
    ran("live frame check (in process)")
    assert CLIENT.is_valid(frame)
    assert check_frame(json.dumps(frame), MAX_FRAME) is None


async def _session(server: FuzzServer, frames: list[tuple[bool, str | bytes]]) -> tuple[int, int | None]:
    """Send the frames on one connection; (error messages received, close code if the server closed)."""
    errors = 0
    async with (
        aiohttp.ClientSession(
            server.web_url, headers={"Authorization": server.auth["Authorization"]}
        ) as http,
        http.ws_connect("/api/live", max_msg_size=0) as ws,
    ):
        for expected in ("hello", "snapshot"):
            msg = await ws.receive(timeout=10)
            assert json.loads(msg.data)["type"] == expected
        pong = (False, json.dumps({"type": "pong", "data": {}}))
        for binary, payload in [*frames, pong]:
            if ws.closed:
                break
            try:
                if binary:
                    await ws.send_bytes(payload if isinstance(payload, bytes) else payload.encode())
                else:
                    await ws.send_str(payload if isinstance(payload, str) else payload.decode("latin-1"))
            except ConnectionError:
                break  # the server closed first (e.g. 1009 after an oversized frame)
        # read what came back until a quiet moment or the close
        while True:
            try:
                msg = await ws.receive(timeout=0.2)
            except TimeoutError:
                break
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(msg.data)
            SERVER.validate(message)
            errors += message["type"] == "error"
        return errors, ws.close_code


@fuzz_settings(short=12, long=1_500)
@given(frames=st.lists(st.tuples(st.booleans(), FRAMES), max_size=8))
def test_server_survives_hostile_live_connections(server: FuzzServer, frames: list[tuple[bool, str]]) -> None:
    ran("live connections against the server (over TCP)", max(1, len(frames)))
    errors, code = asyncio.run(_session(server, frames))
    assert errors <= 5
    assert code in (None, 1000, 1006, 1008, 1009), code
    if code == 1008:
        assert errors == 5  # closed for bad frames only once the budget was spent
    assert server.alive()
