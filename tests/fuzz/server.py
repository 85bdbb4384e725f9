"""`callserver run` as a child process for the fuzzers that go over the wire (REST, websocket,
FastAGI, AMI). Synchronous on purpose: the fuzzers are plain hypothesis tests, and a server in
another process can be driven with blocking clients and judged by its exit and its log."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..helpers import ROOT, fast_settings, free_port

PASSWORD = "fuzz-pw"
# ERROR lines the application writes on purpose about what the PBX sent: a real Asterisk sending
# them has a broken dialplan. A fuzzed peer triggers them once per session (they are not
# rate-limited: the voicemail script logs them itself, not through the FastAGI PeerLog).
DELIBERATE = ("callserver.voicemail.agi: voicemail for",)
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
                    "options": {"1": "account", "2": "queue"},
                    "timeout": 1,
                    "retries": 0,
                    "fallback": "queue",
                },
                "account": {
                    "type": "collect",
                    "variable": "account",
                    "prompt": {"file": "beep"},
                    "min_length": 2,
                    "max_length": 8,
                    "timeout": 1,
                    "retries": 0,
                    "on_invalid": "queue",
                    "next": "queue",
                },
                "queue": {"type": "queue", "queue": "support"},
            },
        }
    }
}


@dataclass
class FuzzServer:
    proc: subprocess.Popen[bytes]
    web_url: str
    agi_port: int
    ami_port: int
    token: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "X-Callserver": "1"}

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def problems(self) -> list[str]:
        """Log lines that show a crash: tracebacks, and ERROR records other than the deliberate
        reports of a PBX misconfiguration listed in DELIBERATE."""
        return [
            line
            for line in self.lines
            if "Traceback" in line or (" ERROR " in line and not any(d in line for d in DELIBERATE))
        ]


def _read(server: FuzzServer, up: threading.Event) -> None:
    assert server.proc.stdout is not None
    for raw in server.proc.stdout:
        line = raw.decode(errors="replace")
        server.lines.append(line)
        if "callserver up" in line:
            up.set()


@contextmanager
def fuzz_server(tmp: Path, *, ami_port: int | None = None) -> Iterator[FuzzServer]:
    """A server with agents, a supervisor, an IVR on 600 and queue `support` on 500."""
    web_port = free_port()
    settings = fast_settings(
        tmp,
        web={"host": "127.0.0.1", "port": web_port},
        web_users=[{"login": "boss", "name": "Boss", "role": "supervisor", "password": PASSWORD}],
        ivr=IVR,
    )
    data: dict[str, Any] = settings.model_dump(mode="json", exclude_unset=True)
    if ami_port is not None:
        data["ami"]["port"] = ami_port
    for agent in data["agents"]:
        agent["password"] = PASSWORD
    config = tmp / "fuzz.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "callserver", "run", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    server = FuzzServer(proc, f"http://127.0.0.1:{web_port}", data["agi"]["port"], data["ami"]["port"])
    up = threading.Event()
    reader = threading.Thread(target=_read, args=(server, up), daemon=True)
    reader.start()
    try:
        if not up.wait(30):
            raise AssertionError("the server did not start:\n" + server.log)
        server.token = login(server.web_url, "boss")
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()


def login(url: str, who: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/login",
        data=json.dumps({"login": who, "password": PASSWORD, "bearer": True}).encode(),
        headers={"Content-Type": "application/json", "X-Callserver": "1"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(json.loads(resp.read())["token"])
