"""`callserver report`: a rebuild from the event log gives the tables the live writer gives, and
the command prints the report, lists the catalogue and names a bad parameter."""

from __future__ import annotations

import io
import json
import sys
from asyncio.subprocess import PIPE, create_subprocess_exec
from pathlib import Path

import yaml

from callserver.reports.command import run_report
from callserver.store.store import Store
from tests.helpers import ROOT
from tests.reports.helpers import filled, settings
from tests.reports.scenario import AGENTS, morning
from tests.reports.test_tables import DAY


async def _print(conf_url: str, name: str, *extra: tuple[str, str]) -> tuple[int, str, str]:
    conf = settings(database={"url": conf_url})
    out, err = io.StringIO(), io.StringIO()
    params = {"from": [DAY], "to": [DAY], "format": ["json"], **{k: [v] for k, v in extra}}
    code = await run_report(conf, name, params, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def test_rebuild_from_the_event_log_gives_what_the_live_writer_wrote(tmp_path: Path) -> None:
    facts = morning()
    live_url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    live = await Store.open(live_url)
    await filled(live, facts, settings())
    await live.close()
    logged_url = f"sqlite+aiosqlite:///{tmp_path / 'logged.db'}"
    logged = await Store.open(logged_url)
    await logged.apply(facts)  # the event log only, as an older release left it
    await logged.close()
    err = io.StringIO()
    agent_queues = {agent: list(queues) for agent, queues in AGENTS.items()}
    code = await run_report(
        settings(database={"url": logged_url}), None, {}, rebuild_for=agent_queues, err=err
    )
    assert code == 0 and f"from {len(facts)} facts" in err.getvalue()
    for name, interval in (("queue_intervals", "15m"), ("agent_intervals", "day"), ("outcome_codes", "60m")):
        live_code, live_out, _ = await _print(live_url, name, ("interval", interval))
        rebuilt_code, rebuilt_out, _ = await _print(logged_url, name, ("interval", interval))
        assert live_code == rebuilt_code == 0
        assert json.loads(rebuilt_out)["rows"] == json.loads(live_out)["rows"] != []


async def test_a_bad_parameter_exits_2_naming_it_and_an_unknown_report_1(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    code, _, err = await _print(url, "queue_intervals", ("interval", "7m"))
    assert code == 2 and "--interval" in err and "'interval'" in err
    code, _, err = await _print(url, "no_such_report")
    assert code == 1 and "queue_intervals" in err  # the message lists the known ones


async def test_the_command_lists_the_reports(tmp_path: Path) -> None:
    config = tmp_path / "callcentre.yaml"
    conf = settings(database={"url": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"})
    config.write_text(yaml.safe_dump(conf.model_dump(mode="json", exclude_unset=True)), encoding="utf-8")
    proc = await create_subprocess_exec(
        sys.executable,
        "-m",
        "callserver",
        "report",
        "--list",
        "--config",
        str(config),
        cwd=ROOT,
        stdout=PIPE,
        stderr=PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert "queue_intervals: Queues per interval (per queue)" in out.decode()
