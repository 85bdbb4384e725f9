"""The command line for campaigns: a list imported into the running server with a progress bar (a
bad list refused with every bad row named), and outbound days on the capacity simulator."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from callserver.campaigns.importer import ImportRequest, progress_bar, run_import
from callserver.cli import build_parser, main

from .conftest import NY, PASSWORD, Outbound, campaign


def request(rig: Outbound, path: Path, list_name: str) -> ImportRequest:
    return ImportRequest(rig.base, "boss", PASSWORD, "spring", path, list_name, ("phone",), id="ref")


async def test_the_cli_imports_a_list_with_a_progress_bar_and_refuses_a_bad_one(
    outbound: Outbound, tmp_path: Path
) -> None:
    rig = outbound
    await rig.create(campaign())
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("ref,phone\n" + "".join(f"G{n},{NY}{1000 + n}\n" for n in range(2500)), encoding="utf-8")
    bad.write_text("ref,phone\nB1,+12125550100\nB2,555\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert await run_import(request(rig, bad, "bad"), out, err) == 1
    assert f"{bad}: line 3, column phone: '555' is not a valid number" in err.getvalue()
    assert "nothing imported into spring" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert await run_import(request(rig, good, "good"), out, err) == 0
    assert "2500 leads imported into spring as list good" in out.getvalue()
    assert "[##############################] 100% 2500/2500 rows" in err.getvalue()
    assert err.getvalue().count("\r") >= 3  # the bar moved as the rows were read
    assert len(rig.campaigns.entry("spring").engine.leads.leads) == 2500


def test_progress_bar_and_the_command_line_arguments() -> None:
    assert progress_bar(50, 200) == "[########......................]  25% 50/200 rows"
    args = build_parser().parse_args(
        ["campaigns", "import", "spring", "list.csv", "--phone", "tel", "--phone", "mobile", "--id", "ref"]
    )
    assert (args.campaign, args.phone, args.id, args.login) == ("spring", ["tel", "mobile"], "ref", "admin")


def test_capacity_runs_outbound_days_on_the_virtual_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "outbound.yaml"
    scenario.write_text(
        "outbound:\n  days: 1\n  agents: 5\n  hours: 0.5\n  rule_set: none\n  modes: [progressive]\n",
        encoding="utf-8",
    )
    assert main(["capacity", str(scenario)]) == 0
    text = capsys.readouterr().out
    assert "1 outbound day(s) of 0.5 h, 5 agents" in text
    (row,) = [line for line in text.splitlines() if line.startswith("progressive     1")]
    occupancy = float(row.split()[2].rstrip("%"))
    assert 40 < occupancy < 100 and row.split()[4] == "0.00%"  # progressive drops no one


def test_a_bad_outbound_scenario_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "outbound.yaml"
    scenario.write_text("outbound:\n  mix: {person: 0.9, machine: 0.9}\n", encoding="utf-8")
    assert main(["capacity", str(scenario)]) == 1
    assert "outbound.mix: the mix must make 1" in capsys.readouterr().err
