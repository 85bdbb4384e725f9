"""A private Mosquitto broker per test, on a free loopback port, with persistence in tmp_path.

Mosquitto comes from Debian; when it is missing and we are root it is installed, otherwise the
tests fail loudly (a silently skipped broker test hides a broken publisher).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import free_port


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/bin")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "mosquitto"],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("mosquitto", path="/usr/sbin:/usr/bin")
        if found:
            return found
    pytest.fail("Mosquitto is not installed: run `apt-get install -y mosquitto` (scripts/setup-system.sh)")


class Broker:
    def __init__(self, workdir: Path) -> None:
        self.binary = mosquitto_binary()
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "log_dest stderr\n" + (f"user {getpass.getuser()}\n" if os.geteuid() == 0 else "")
            # started as root, mosquitto would switch to its own user and could not write here
        )
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with (self.workdir / "mosquitto.log").open("ab") as log:  # the broker keeps its own descriptor
            self.process = await asyncio.create_subprocess_exec(
                self.binary,
                "-c",
                str(self.config),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.05)  # the broker process is still opening its socket
                    continue
                writer.close()
                await writer.wait_closed()
                return

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        self.process = None


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    server = Broker(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
