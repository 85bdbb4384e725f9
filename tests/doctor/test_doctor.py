"""`callserver doctor` against the PBX simulator over real TCP: a healthy deployment passes, and
each broken set-up fails with the line that names it and its fix."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from callserver.app import CallServer, start_server
from callserver.config import Settings, parse_settings
from callserver.doctor import Report, Status, run_doctor
from callserver.ivr.prompt_build import build_all_prompts
from callserver.sim import PbxSimulator
from callserver.sim import dialplan as dp

from ..helpers import ROOT, fast_settings, free_port

pytestmark = pytest.mark.slow
SHIPPED = ROOT / "asterisk" / "extensions_callserver.conf"
AS_SHIPPED = "call,dtmf,system"  # read= of asterisk/manager.conf


def _settings(tmp_path: Path, **changes: Any) -> Settings:
    base = fast_settings(tmp_path).model_dump(mode="json", exclude={"ivr"})
    base.update(changes)
    return parse_settings(base, "<doctor test>", env={})


@asynccontextmanager
async def deployment(
    settings: Settings,
    *,
    read: str = AS_SHIPPED,
    plan: dp.Dialplan | None = None,
    prompts: bool = True,
    server: bool = True,
) -> AsyncIterator[tuple[PbxSimulator, CallServer | None]]:
    """The simulated Asterisk (as set up by asterisk/README.md unless told otherwise) and callserver."""
    if prompts:
        assert (await build_all_prompts(settings)).ok
    sim = PbxSimulator(settings, manager_read=read, dialplan=plan)
    await sim.start()
    running = await start_server(settings) if server else None
    try:
        yield sim, running
    finally:
        if running is not None:
            await running.stop()
        await sim.stop()


def _failing(report: Report, topic: str) -> list[str]:
    return [f.line() for f in report.findings if f.status is Status.FAIL and f.topic == topic]


async def test_healthy_deployment_passes_every_check(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with deployment(settings):
        report = await run_doctor(settings)
    assert report.exit_code == 0, report.lines()
    topics = {f.topic for f in report.findings if f.status is Status.OK}
    assert topics >= {"ami", "login", "read classes", "dialplan", "fastagi", "prompts", "recordings", "pjsip"}


async def test_command_prints_one_line_per_check_and_exits_zero_when_healthy(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude={"ivr"})), encoding="utf-8")
    async with deployment(settings):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "callserver", "doctor", "--config", str(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        out, err = await proc.communicate()
    lines = out.decode().splitlines()
    assert proc.returncode == 0, (lines, err.decode()[-2000:])
    assert any(line.startswith("ok   fastagi: CALLSERVER_AGI=agi://127.0.0.1:") for line in lines), lines
    assert not any(line.startswith("FAIL") for line in lines)


async def test_wrong_secret_fails_the_login_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with deployment(settings):
        wrong = settings.model_copy(update={"ami": settings.ami.model_copy(update={"secret": "guess"})})
        report = await run_doctor(wrong)
    assert report.exit_code == 1
    (line,) = _failing(report, "login")
    assert "Authentication failed" in line and "ami.secret" in line


async def test_missing_dtmf_read_class_is_named_with_the_manager_conf_fix(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with deployment(settings, read="call,system"):
        report = await run_doctor(settings)
    (line,) = _failing(report, "read classes")
    assert "reads system,call: missing dtmf" in line and "read = call,dtmf,system" in line


async def test_context_missing_from_asterisk_is_listed(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    without_spy = text[: text.index("[callserver-spy]")]
    conf = tmp_path / "extensions_callserver.conf"
    conf.write_text(without_spy, encoding="utf-8")
    settings = _settings(tmp_path)
    async with deployment(settings, plan=dp.load([conf])):
        report = await run_doctor(settings, shipped_dialplan=SHIPPED)
    (line,) = _failing(report, "dialplan")
    assert "contexts not loaded: callserver-spy" in line and "dialplan reload" in line


async def test_fastagi_address_nobody_answers_fails(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with deployment(settings, server=False):  # callserver is not running
        report = await run_doctor(settings)
    (line,) = _failing(report, "fastagi")
    assert f"agi://127.0.0.1:{settings.agi.port}" in line and "start callserver" in line


async def test_fastagi_port_differing_from_callservers_fails(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with deployment(settings):
        elsewhere = settings.model_copy(update={"agi": settings.agi.model_copy(update={"port": free_port()})})
        report = await run_doctor(elsewhere)
    (line,) = _failing(report, "fastagi")
    assert "but callserver listens on port" in line


async def test_prompts_not_built_fail_with_the_build_command(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with deployment(settings, prompts=False):
        report = await run_doctor(settings)
    folder, names = _failing(report, "prompts")
    assert "does not exist" in folder
    assert "callserver/en/press-1" in names and "callserver prompts build" in names


async def test_recordings_folder_that_is_not_a_folder_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    settings = _settings(tmp_path, voicemail={"recordings_dir": str(blocker)})
    async with deployment(settings):
        report = await run_doctor(settings)
    (line,) = _failing(report, "recordings")
    assert str(blocker) in line and "mkdir -p" in line


async def test_agent_phone_unknown_to_pjsip_fails_and_unregistered_one_warns(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with deployment(settings) as (sim, _):
        del sim.endpoints.by_name["1001"]
        sim.endpoints.by_name["1002"].contact = ""
        report = await run_doctor(settings)
    (line,) = _failing(report, "pjsip")
    assert "agent agent1: PJSIP has no endpoint '1001'" in line and "pjsip.conf" in line
    warned = [f.line() for f in report.findings if f.status is Status.WARN and f.topic == "pjsip"]
    assert warned == ["warn pjsip: agent agent2: endpoint 1002 has no contact: not registered, cannot ring"]
