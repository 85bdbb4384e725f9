"""Voicemail over REST, end to end: a caller leaves a message after hours on the simulated Asterisk,
the ACD gives it to an agent, who lists it, plays it as WAV, calls the customer back and closes it.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callserver.acd.model import AgentState
from callserver.app import web_users
from callserver.sim import Outcome
from callserver.voicemail import Mailbox, Voicemail, VoicemailStatus
from callserver.web import WebDeps, build_web_app
from callserver.web.voicemail import VOICEMAIL_SCHEMA, VoicemailApi, openapi_paths, voicemail_view

from ..ivr_e2e.rig import BILLING_DNIS, CALLER, CLOSED, PASSWORD, Rig, ivr_settings, running

pytestmark = pytest.mark.slow
CSRF = {"X-Callserver": "1"}


@asynccontextmanager
async def web_for(rig: Rig, tmp_path: Path) -> AsyncIterator[TestServer]:
    ui = tmp_path / "ui"
    ui.mkdir(exist_ok=True)
    deps = WebDeps(
        rig.settings,
        rig.store,
        rig.service,
        rig.bus,
        clock=rig.service.clock,
        ui_dir=ui,
        users=web_users(rig.settings),
        voicemail=rig.voicemail,
    )
    server = TestServer(build_web_app(deps), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def logged_in(server: TestServer, login: str) -> AsyncIterator[TestClient[Any, Any]]:
    client = TestClient(server)
    await client.start_server()
    try:
        resp = await client.post("/api/login", json={"login": login, "password": PASSWORD}, headers=CSRF)
        assert resp.status == 200, await resp.text()
        yield client
    finally:
        await client.close()


async def leave_message(rig: Rig) -> Voicemail:
    """After hours, the caller presses 1 and records; returns the message once an agent has it."""
    rig.ivr_now[0] = CLOSED
    handle = rig.sim.place_call(CALLER, BILLING_DNIS, digits="1#", patience=10)
    record = await handle.outcome(timeout=20)
    assert record.outcome is Outcome.PBX_HANGUP
    async with asyncio.timeout(10):
        await rig.until(lambda: bool(rig.waiting))
    (vm,) = await rig.voicemail.store.by_call(record.uniqueid)
    async with asyncio.timeout(10):
        return await rig.voicemail.wait_for_status(vm.id, VoicemailStatus.ASSIGNED)


def write_recording(path: str, suffix_format: list[str]) -> None:
    """What Asterisk would have written: two seconds of tone (the simulator records nothing)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", *suffix_format, path, "synth", "2", "sine", "440"],
        check=True,
        capture_output=True,
    )


async def test_agent_lists_plays_calls_back_and_closes_their_voicemail(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path)
    async with running(settings) as rig, web_for(rig, tmp_path) as server:
        vm = await leave_message(rig)
        assert vm.path is not None and vm.agent_id is not None
        write_recording(vm.path, ["-b", "16", "-e", "signed-integer"])
        other = "agent2" if vm.agent_id == "agent1" else "agent1"
        async with logged_in(server, vm.agent_id) as agent, logged_in(server, other) as colleague:
            listing = await (await agent.get("/api/voicemails")).json()
            (item,) = listing["voicemails"]
            assert item["id"] == vm.id and item["status"] == "assigned" and item["caller_num"] == CALLER
            assert item["age"] >= 0 and item["has_audio"] is True and "path" not in item
            assert (await (await colleague.get("/api/voicemails")).json())["voicemails"] == []
            assert (await colleague.get(f"/api/voicemails/{vm.id}/audio")).status == 404

            audio = await agent.get(f"/api/voicemails/{vm.id}/audio")
            assert audio.status == 200 and audio.content_type == "audio/wav"
            assert (await audio.read())[:4] == b"RIFF"

            callback = await agent.post(f"/api/voicemails/{vm.id}/callback", headers=CSRF)
            assert callback.status == 202, await callback.text()
            body = await callback.json()
            assert body["status"] == "in_progress" and body["callback_call_id"].startswith("cb-")

            bad = await agent.post(f"/api/voicemails/{vm.id}/close", json={"outcome": "x"}, headers=CSRF)
            assert bad.status == 400
            closed = await agent.post(
                f"/api/voicemails/{vm.id}/close", json={"outcome": "resolved"}, headers=CSRF
            )
            assert closed.status == 200, await closed.text()
            assert (await closed.json())["outcome"] == "resolved"
            again = await agent.post(
                f"/api/voicemails/{vm.id}/close", json={"outcome": "resolved"}, headers=CSRF
            )
            assert again.status == 409
        stored = await rig.voicemail.get(vm.id)
        assert stored is not None and stored.status is VoicemailStatus.DONE
        assert stored.callback_call_id == body["callback_call_id"]
        # closed while the callback is still up: the agent stays busy with it until it ends
        assert rig.service.call(vm.task_id) is not None
        assert rig.service.agent(vm.agent_id).state is AgentState.ON_CALL  # type: ignore[union-attr]
        assert rig.sim.hangup_channel(body["callback_call_id"])
        async with asyncio.timeout(5):
            await rig.service.wait_for(lambda: rig.service.call(vm.task_id) is None)
        assert rig.service.agent(vm.agent_id).state is not AgentState.ON_CALL  # type: ignore[union-attr]


async def test_supervisor_sees_backlog_and_hears_a_gsm_recording_as_pcm_wav(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path)
    async with running(settings) as rig, web_for(rig, tmp_path) as server:
        vm = await leave_message(rig)
        assert vm.path is not None
        async with logged_in(server, "boss") as boss:
            (item,) = (await (await boss.get("/api/voicemails")).json())["voicemails"]
            assert item["id"] == vm.id and item["agent_id"] == vm.agent_id
            # the simulated Asterisk recorded it; now it is gone from disk
            await asyncio.to_thread(Path(vm.path).unlink)
            missing = await boss.get(f"/api/voicemails/{vm.id}/audio")
            assert missing.status == 404 and "missing" in (await missing.json())["error"]
            # GSM in a WAV container, as `RECORD FILE ... wav49` leaves it: browsers cannot play it
            write_recording(vm.path, ["-e", "gsm-full-rate"])
            audio = await boss.get(f"/api/voicemails/{vm.id}/audio")
            assert audio.status == 200
            with wave.open(io.BytesIO(await audio.read())) as pcm:
                assert pcm.getsampwidth() == 2 and pcm.getframerate() == 8000
                assert pcm.getnframes() / pcm.getframerate() == pytest.approx(2.0, abs=0.05)


def test_openapi_fragment_describes_exactly_the_voicemail_routes() -> None:
    api = VoicemailApi(cast(Any, None), outcomes=(), audio_cache=Path("."), clock=lambda: 0.0)
    served = {(r.method, r.path) for r in api.routes() if isinstance(r, web.RouteDef)}
    described = {
        (method.upper(), path)
        for path, item in openapi_paths().items()
        for method in item
        if method in {"get", "post"}
    }
    assert served == described


def test_voicemail_view_matches_its_schema() -> None:
    vm = Voicemail(
        id=1,
        call_id="1795435049.0",
        caller_num=CALLER,
        caller_name="",
        customer_id=None,
        box=Mailbox("queue", "billing"),
        queue="billing",
        recorded_at=CLOSED,
        duration=None,
        path="/x.wav",
        status=VoicemailStatus.NEW,
        agent_id=None,
        outcome=None,
        callback_call_id=None,
        data={"account": "100200"},
    )
    view = voicemail_view(vm, CLOSED)
    jsonschema.validate(view, VOICEMAIL_SCHEMA)
    assert "path" not in view
