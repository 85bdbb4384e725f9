"""A centre's own IVR reports are checked like the others: figures of the dimension, known flows."""

from __future__ import annotations

from pathlib import Path

from callserver.checks import report_problems
from callserver.config import Settings, parse_settings
from tests.ivr_e2e.rig import ivr_settings


def _with_definitions(tmp_path: Path, definitions: list[dict[str, object]]) -> Settings:
    data = ivr_settings(tmp_path).model_dump(mode="json", exclude_unset=True)
    data["reports"] = {"definitions": definitions}
    return parse_settings(data, "<ivr report settings>", env={})


def test_an_ivr_flow_report_names_configured_flows_and_its_own_figures(tmp_path: Path) -> None:
    good = {
        "name": "main_daily",
        "title": "Main flow per day",
        "dimension": "ivr_flow",
        "figures": ["ivr_entered", "contained", "containment"],
        "interval": "day",
        "filters": {"ivr_flow": ["main"]},
    }
    assert report_problems(_with_definitions(tmp_path, [good])) == []
    bad = {**good, "figures": ["containment", "ivr_hangup"], "filters": {"ivr_flow": ["mian"]}}
    assert report_problems(_with_definitions(tmp_path, [bad])) == [
        "reports.definitions[0].figures[1]: 'ivr_hangup' is not a figure of dimension ivr_flow",
        "reports.definitions[0].filters.ivr_flow[0]: 'mian' is not a configured ivr_flow",
    ]
