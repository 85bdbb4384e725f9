"""The scripts of a configuration: every file of the folder read and checked against the settings,
the attachments checked, which script a call gets, and check-config and start-up refusing what is
wrong with file, line and step."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from callserver.config import ConfigError, Settings, load_settings, parse_settings
from callserver.scripts.catalog import CallFacts, checked_catalog, load_catalog, script_context
from tests.scripts.helpers import BILLING, ROOT

EXAMPLE = ROOT / "config" / "callcentre.yaml"
NOT_A_QUEUE = "does not lead to a queue (attach scripts to queue nodes)"


def shipped() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def settings_with(tmp_path: Path, **scripts: Any) -> Settings:
    data = shipped()
    folder = tmp_path / "scripts"
    folder.mkdir(exist_ok=True)
    data["scripts"] = {"dir": str(folder), **scripts}
    return parse_settings(data, "callcentre.yaml", env={})


def test_the_shipped_configuration_and_billing_script_check_clean() -> None:
    settings = load_settings(EXAMPLE, env={})
    catalog, problems = load_catalog(settings)
    assert [str(p) for p in problems] == []
    assert list(catalog.scripts) == ["billing"]
    context = script_context(settings)
    assert {"balance", "payment_plan", "postcode", "name"} <= context.customer_fields
    assert "payment_plan" in context.writable_fields and "balance" not in context.writable_fields
    # call data the IVR passes on and the numbers imply are known to scripts
    assert {"product", "account", "language", "dnis", "ivr_exit"} <= context.call_fields


def test_a_call_gets_the_most_specific_attachment(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, queues={"billing": "billing"})
    shutil.copy(BILLING, tmp_path / "scripts" / "billing.xml")
    other = BILLING.read_text(encoding="utf-8").replace('id="billing"', 'id="retention"')
    (tmp_path / "scripts" / "retention.xml").write_text(other, encoding="utf-8")
    data = settings.model_dump(mode="json")
    data["scripts"].update(
        dnis={"0140000500": "retention"},
        ivr={"main.billing_queue": "retention"},
        campaigns={"winback": "retention"},
    )
    settings = parse_settings(data, "callcentre.yaml", env={})
    catalog = checked_catalog(settings)

    def script_of(**facts: str) -> str | None:
        found = catalog.for_call(CallFacts(**facts))  # type: ignore[arg-type]
        return None if found is None else found.id

    assert script_of(queue="billing") == "billing"
    assert script_of(queue="billing", dnis="0140000500") == "retention"
    assert script_of(queue="billing", ivr_exit="main.billing_queue") == "retention"
    assert script_of(queue="technical", campaign="winback") == "retention"
    assert script_of(queue="technical") is None
    winback = catalog.for_campaign("winback")
    assert winback is not None and winback.id == "retention"


def test_attachments_naming_unknown_things_are_each_reported(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(BILLING, tmp_path / "scripts" / "billing.xml")
    settings = settings_with(
        tmp_path,
        queues={"biling": "billing", "technical": "biling"},
        dnis={"0999": "billing"},
        ivr={"main.billing": "billing", "main.french": "billing", "nope.x": "billing"},
        task_queue="nowhere",
        timezone="Mars/Olympus",
        web={"factor": "shoe_size", "identify": {"billing": "required"}},
    )
    _, problems = load_catalog(settings, "callcentre.yaml")
    assert [str(p) for p in problems] == [
        "callcentre.yaml: scripts.queues.biling: unknown queue 'biling' (did you mean 'billing'?)",
        "callcentre.yaml: scripts.queues.technical: unknown script 'biling' (did you mean 'billing'?)",
        "callcentre.yaml: scripts.dnis.0999: no queue or IVR flow answers this number",
        f"callcentre.yaml: scripts.ivr.main.billing: node 'billing' {NOT_A_QUEUE}",
        f"callcentre.yaml: scripts.ivr.main.french: node 'french' {NOT_A_QUEUE}",
        "callcentre.yaml: scripts.ivr.nope.x: unknown IVR flow 'nope' (known: main)",
        "callcentre.yaml: scripts.web.factor: unknown customer field 'shoe_size' (known: account, balance, "
        "email, id, language, name, notes, payment_plan, phone, postcode, vip)",
        "callcentre.yaml: scripts.task_queue: unknown queue 'nowhere' (known: billing, general, technical)",
        "callcentre.yaml: scripts.timezone: unknown time zone 'Mars/Olympus'",
    ]


def test_script_faults_name_file_line_and_step_and_stop_the_server(tmp_path: Path) -> None:
    broken = BILLING.read_text(encoding="utf-8").replace(
        '<set-outcome code="follow-up"/>', '<set-outcome code="folow-up"/>'
    )
    settings = settings_with(tmp_path, queues={"billing": "billing"})
    path = tmp_path / "scripts" / "billing.xml"
    path.write_text(broken, encoding="utf-8")
    (tmp_path / "scripts" / "misnamed.xml").write_text(
        BILLING.read_text(encoding="utf-8").replace('id="billing"', 'id="other"'), encoding="utf-8"
    )
    catalog, problems = load_catalog(settings, "callcentre.yaml")
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "folow-up" in text)
    assert [str(p) for p in problems] == [
        f"{path}:{line}: step 'plan_day': unknown outcome code 'folow-up' (did you mean 'follow-up'?)",
        f"{tmp_path / 'scripts' / 'misnamed.xml'}:12: the file of script 'other' must be other.xml",
        "callcentre.yaml: scripts.queues.billing: unknown script 'billing' (none are configured)",
    ]
    assert catalog.scripts == {}
    with pytest.raises(ConfigError) as refused:
        checked_catalog(settings)
    assert any("unknown outcome code 'folow-up'" in p for p in refused.value.problems)


def _check_config(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callserver", "check-config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_check_config_reports_script_faults_and_counts_the_scripts(tmp_path: Path) -> None:
    data = shipped()
    folder = tmp_path / "scripts"
    folder.mkdir()
    shutil.copy(BILLING, folder / "billing.xml")
    data["scripts"]["dir"] = str(folder)
    data["customers"]["seed_file"] = str(ROOT / "config" / "customers.csv")
    config = tmp_path / "callcentre.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    ok = _check_config(config)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("1 scripts)")

    text = (folder / "billing.xml").read_text(encoding="utf-8")
    (folder / "billing.xml").write_text(
        text.replace('queue="billing" agent="self"', 'queue="biling" agent="self"')
    )
    bad = _check_config(config)
    assert bad.returncode == 1
    line = next(i for i, t in enumerate(text.splitlines(), 1) if 'queue="billing" agent="self"' in t)
    assert (
        f"billing.xml:{line}: step 'plan_day': unknown queue 'biling' (did you mean 'billing'?)" in bad.stderr
    )
