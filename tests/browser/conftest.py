"""Browser tests: headless Debian Chromium driven by Playwright against the real server and the PBX
simulator on loopback. Fixtures make sure the browser tooling is present, start and stop a fresh centre
for each test, and share one browser per module. Tests run on the module's event loop (the
browser's), so they are marked `asyncio(loop_scope="module")`.
"""

from __future__ import annotations

import asyncio
import csv
import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from callserver.acd.model import AgentStatus
from callserver.app import CallServer, start_server
from callserver.config import Settings, parse_settings
from callserver.sim import PbxSimulator
from callserver.sim.traffic import CallHandle
from callserver.web.customers import CustomerWriter, parse_customer

from ..helpers import ROOT, fast_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
SUPERVISOR = ("super", "super-pass")
# the customers the tests know by number
CUSTOMERS = [
    {
        "name": "Jeanne Dupont",
        "phones": "+33140000001",
        "account": "ACC1001",
        "language": "fr",
        "vip": "yes",
        "notes": "Prefers e-mail follow-up. Contract renewal due in March.",
    },
    {
        "name": "Marc Lambert",
        "phones": "+33140000002",
        "account": "ACC1002",
        "language": "fr",
        "vip": "no",
        "notes": "",
    },
]


def _install_hint() -> str:
    return (
        "browser tests need the Python package `playwright` in the venv "
        "(`.venv/bin/pip install playwright`) and Debian's Chromium at /usr/bin/chromium "
        "(`apt-get install -y chromium`); never run `playwright install`"
    )


@pytest.fixture(scope="session")
def browser_tooling() -> None:
    """Install Playwright (pip, into this venv) and Debian Chromium when missing, or fail clearly."""
    try:
        importlib.import_module("playwright.async_api")
    except ImportError:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "playwright"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"could not pip-install playwright: {done.stderr.strip()[-500:]}\n{_install_hint()}")
        importlib.invalidate_caches()
        importlib.import_module("playwright.async_api")
    if not CHROMIUM.exists():
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            pytest.fail(f"{CHROMIUM} is missing and this user cannot install it. {_install_hint()}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        done = subprocess.run(
            ["apt-get", "install", "-y", "chromium"], capture_output=True, text=True, check=False, env=env
        )
        if done.returncode != 0 or not CHROMIUM.exists():
            pytest.fail(f"apt-get install chromium failed: {done.stderr.strip()[-500:]}\n{_install_hint()}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(browser_tooling: None) -> AsyncIterator[Any]:
    """One headless Chromium per test module (tests open their own pages); closed afterwards."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@dataclass
class Centre:
    """The running server and simulator, plus the few moves tests make on them."""

    server: CallServer
    sim: PbxSimulator

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.web_port}/"

    def set_status(self, agent_id: str, status: AgentStatus) -> None:
        self.server.service.set_status(agent_id, status)

    def call(self, number: str, *, talk_time: float = 60.0, patience: float = 60.0) -> CallHandle:
        return self.sim.place_call(number, "500", patience=patience, talk_time=talk_time)

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self.server.service.wait_for(predicate)

    def agent_status(self, agent_id: str) -> AgentStatus:
        agent = self.server.service.agent(agent_id)
        assert agent is not None, f"no agent {agent_id}"
        return agent.status

    def agent_state(self, agent_id: str) -> str:
        agent = self.server.service.agent(agent_id)
        assert agent is not None, f"no agent {agent_id}"
        return agent.state.value

    async def add_customer(self, **fields: Any) -> None:
        """Create a customer the way the web front does (the CSV seed merges rows sharing a number)."""
        data, problems = parse_customer(fields)
        assert data is not None, problems
        await CustomerWriter(self.server.store).create(data)

    def has_route(self, method: str, path: str) -> bool:
        return any(
            r.method == method and r.resource is not None and r.resource.canonical == path
            for r in self.server.web_runner.app.router.routes()
        )


def _seed(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(CUSTOMERS[0]))
        writer.writeheader()
        writer.writerows(CUSTOMERS)
    return path


def _centre_settings(tmp_path: Path, **extra: Any) -> Settings:
    """Two agents (logged out at start) and one queue, on free ports; `extra` adds top-level sections."""
    agents = [
        {
            "id": f"agent{i}",
            "name": name,
            "login": f"agent{i}",
            "interface": f"PJSIP/{1000 + i}",
            "skills": {"support": 5},
            "password": f"agent{i}-pass",
        }
        for i, name in ((1, "Alice Martin"), (2, "Bruno Petit"))
    ]
    base = fast_settings(
        tmp_path,
        queues=[
            {
                "name": "support",
                "dnis": ["500"],
                "skills": ["support"],
                "max_wait": 60.0,
                "ring_timeout": 5.0,
                "wrapup": 30.0,
                "on_timeout": {"message": "vm-goodbye"},
            }
        ],
        customers={"seed_file": str(_seed(tmp_path / "customers.csv"))},
        web_users=[{"login": SUPERVISOR[0], "name": "Sue", "role": "supervisor", "password": SUPERVISOR[1]}],
    )
    # `fast_settings` numbers its own agents; these ones have names and passwords and start logged out
    data = {**base.model_dump(mode="json"), "agents": agents, **extra}
    return parse_settings(data, "<browser test>", env={})


@asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[Centre]:
    sim = PbxSimulator(settings, answer_time=0.05, playback_time=0.1)
    await sim.start()
    server = await start_server(settings)
    try:
        async with asyncio.timeout(10):
            await server.service.wait_for(lambda: server.service.resyncs > 0)
        for agent in ("PJSIP/1001", "PJSIP/1002"):
            sim.set_phone(agent, answer_delay=0.2, answers=True)
        yield Centre(server, sim)
    finally:
        await server.stop()
        await sim.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def centre(tmp_path: Path) -> AsyncIterator[Centre]:
    """Two agents (logged out at start, phones answer at once) and one queue, on free ports."""
    async with _running(_centre_settings(tmp_path)) as running:
        yield running


# an IVR on its own number: a menu whose only choice (also its fallback) is leaving a voicemail
# for the support queue
IVR_DNIS = "700"
IVR_FLOW: dict[str, Any] = {
    "dnis": [IVR_DNIS],
    "language": "en",
    "start": "menu",
    "nodes": {
        "menu": {
            "type": "menu",
            "prompt": "To leave a message, press 1.",
            "options": {"1": "message"},
            "timeout": 3,
            "retries": 0,
            "fallback": "message",
        },
        "message": {
            "type": "voicemail",
            "queue": "support",
            "prompt": "Please leave your message after the tone.",
            "max_length": 30,
            "silence": 3,
        },
    },
}


@pytest_asyncio.fixture(loop_scope="module")
async def ivr_centre(tmp_path: Path) -> AsyncIterator[Centre]:
    """The same centre with the IVR flow above on IVR_DNIS and recordings kept under tmp_path."""
    settings = _centre_settings(
        tmp_path,
        ivr={"flows": {"voicemail": IVR_FLOW}},
        voicemail={"recordings_dir": str(tmp_path / "recordings")},
    )
    async with _running(settings) as running:
        yield running
