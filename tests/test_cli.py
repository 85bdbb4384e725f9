"""The command line: offline capacity simulation and prompt pre-generation, run as an operator would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from .helpers import ROOT


def _callserver(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callserver", *args], capture_output=True, text=True, check=False, cwd=cwd
    )


def test_offline_simulation_prints_the_report_and_writes_the_plot(tmp_path: Path) -> None:
    proc = _callserver("capacity", str(ROOT / "config/scenarios/day.yaml"), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "calls simulated" in proc.stdout
    assert " day " in proc.stdout  # the day totals line
    svg = (tmp_path / "day.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") or "<svg" in svg[:200]


def test_offline_simulation_names_the_fault_in_a_bad_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: [{name: q, calls_per_hour: -5}]\n", encoding="utf-8")
    proc = _callserver("capacity", str(bad))
    assert proc.returncode != 0
    assert str(bad) in proc.stderr


def test_old_offline_spelling_still_runs_and_points_to_the_capacity_command(tmp_path: Path) -> None:
    proc = _callserver(
        "simulate", "--offline", str(ROOT / "config/scenarios/day.yaml"), "--out", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert "calls simulated" in proc.stdout
    assert "callserver capacity" in proc.stderr


def test_prompts_build_synthesises_every_ivr_text_once(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config/callcentre.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["customers"]["seed_file"] = str(ROOT / "config/customers.csv")
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    first = _callserver("prompts", "build", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert "0 failed" in first.stdout and "(0 new" not in first.stdout
    sounds = list((tmp_path / "data" / "sounds" / "callserver").glob("*.sln"))
    assert sounds, "no prompt files were written"
    again = _callserver("prompts", "build", "--config", str(config))
    assert again.returncode == 0
    assert "(0 new" in again.stdout
