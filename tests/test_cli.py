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


# an hour, one queue: the old spelling's test is about the command line, the simulation is the one above
SMALL_SCENARIO = """\
seed: 1
interval_minutes: 30
day: {start: 8, end: 9}
service_time: 20
queues:
  - {name: help, skills: [help], calls_per_hour: [60, 60],
     talk_time: {kind: exponential, mean: 60}, patience: {kind: exponential, mean: 120}}
agents:
  - {group: all, count: 2, skills: [help], shift: [8, 9]}
"""


def test_old_offline_spelling_still_runs_and_points_to_the_capacity_command(tmp_path: Path) -> None:
    scenario = tmp_path / "hour.yaml"
    scenario.write_text(SMALL_SCENARIO, encoding="utf-8")
    proc = _callserver("simulate", "--offline", str(scenario), "--out", str(tmp_path))
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


def _config(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config/callcentre.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["customers"]["seed_file"] = str(ROOT / "config/customers.csv")
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def test_customers_import_is_all_or_nothing_and_export_gives_the_rows_back(tmp_path: Path) -> None:
    config = _config(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,phones,account\nAnn,01 40 00 00 41,X1\nBob,nope,X2\n", encoding="utf-8")
    refused = _callserver("customers", "import", str(bad), "--config", str(config))
    assert refused.returncode == 1
    assert f"{bad}:3:2: phones: 'nope' is not a phone number" in refused.stderr
    assert "nothing imported" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text("name,phones,account\nAnn,01 40 00 00 41,X1\nBob,+44 20 7946 0001,X2\n", encoding="utf-8")
    done = _callserver("customers", "import", str(good), "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert f"{good}: 2 rows: 2 added, 0 already known, left as they are" in done.stdout
    again = _callserver("customers", "import", str(good), "--update", "--config", str(config))
    assert f"{good}: 2 rows: 0 added, 2 updated" in again.stdout
    exported = _callserver("customers", "export", "--config", str(config))
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert lines[0] == "name,phones,account,language,vip,notes,email"
    assert "Ann,+33140000041,X1,,no,," in lines and "Bob,+442079460001,X2,,no,," in lines
