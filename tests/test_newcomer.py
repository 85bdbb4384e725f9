"""The first minutes of a newcomer: `make run`'s command says where to go and who to log in as, a
port another program holds is named by the setting that moves it, and the log stays readable."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from .helpers import ROOT, free_port


def _example(tmp_path: Path, **ports: int) -> Path:
    """The example configuration on free ports (or the ones given), with its data under tmp_path."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "config/callcentre.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["customers"]["seed_file"] = str(ROOT / "config/customers.csv")
    data["simulator"]["dialplan"] = [str(ROOT / "asterisk/extensions_callserver.conf")]
    data["ami"]["port"] = ports.get("ami", free_port())
    data["agi"]["port"] = ports.get("agi", free_port())
    data["web"]["port"] = ports.get("web", free_port())
    path = tmp_path / "callcentre.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_web_port_in_use_says_in_one_line_which_setting_to_change(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _example(tmp_path, web=port)
        proc = subprocess.run(
            [sys.executable, "-m", "callserver", "run", "--config", str(config)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            timeout=120,
        )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{config}: web.port: 127.0.0.1:{port} is already in use"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_with_the_simulator_prints_the_address_and_demo_logins_and_keeps_the_simulator_quiet(
    tmp_path: Path,
) -> None:
    config = _example(tmp_path)
    web_port = yaml.safe_load(config.read_text(encoding="utf-8"))["web"]["port"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "callserver", "run", "--config", str(config), "--with-simulator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(3)]
        started = time.monotonic()
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert banner[0].strip() == f"callserver is up: open http://127.0.0.1:{web_port}/"
    assert "demo logins" in banner[1]
    assert banner[2].split() == ["alice", "alice-demo", "agent"]
    assert time.monotonic() - started < 60
    assert proc.returncode == 0, err
    chatter = [line for line in err.splitlines() if " INFO " in line and " callserver.sim." in line]
    assert chatter == [], chatter
