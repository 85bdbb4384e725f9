"""Configuration: the worked example is valid; every fault names the file, the field and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from callserver.checks import check_settings, load_checked
from callserver.cli import main
from callserver.config import ConfigError, load_settings

from .helpers import ROOT

EXAMPLE = ROOT / "config" / "callcentre.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_worked_example_is_valid() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert {q.name for q in settings.queues} == {"billing", "technical", "general"}
    assert settings.queue_for_dnis("500") is not None
    assert settings.database_url().startswith("sqlite+aiosqlite:///")


def test_check_config_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out


def test_unknown_skill_names_file_field_and_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(
        tmp_path,
        """
skills: [french]
queues:
  - {name: a, dnis: ["1"]}
  - {name: b, dnis: ["2"]}
  - {name: c, dnis: ["3"], skills: [frnech]}
""",
    )
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: queues[c].skills: unknown skill 'frnech'" in err


def test_type_errors_give_the_field_path(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
skills: [french]
agents:
  - {id: a1, name: A, login: a1, interface: PJSIP/1001, skills: {french: 11}}
  - {id: a2, name: B, login: a2, interface: "not an interface"}
queues:
  - {name: q, dnis: ["1"], max_wait: -3, on_timeout: {queue: nowhere}}
""",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    problems = "\n".join(info.value.problems)
    assert "agents[a1].skills.french: Input should be less than or equal to 10" in problems
    assert "agents[a2].interface: 'not an interface' is not a channel interface" in problems
    assert "queues[q].max_wait: Input should be greater than 0" in problems
    assert info.value.source == str(path)


def test_cross_reference_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
queues:
  - {name: q, dnis: ["1"], on_timeout: {queue: nowhere}}
  - {name: r, dnis: ["1"]}
agents:
  - {id: a, name: A, login: a, interface: PJSIP/1}
  - {id: a, name: B, login: b, number: "+33612345678"}
""",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    problems = info.value.problems
    assert "queues[q].on_timeout.queue: unknown queue 'nowhere'" in problems
    assert "queues[r].dnis: '1' already leads to queue 'q'" in problems
    assert "agents[1].id: duplicate 'a'" in problems


def test_invalid_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "ami:\n  host: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert info.value.problems[0].startswith("line ")
    assert "invalid YAML" in info.value.problems[0]


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, "ami: {hots: 127.0.0.1}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert "ami.hots: unknown key; did you mean 'host'?" in info.value.problems


def test_environment_overrides_ami_and_database(tmp_path: Path) -> None:
    path = _write(tmp_path, "ami: {host: 10.0.0.1}\n")
    env = {"CALLSERVER_AMI_HOST": "127.0.0.2", "CALLSERVER_DATABASE_URL": "sqlite+aiosqlite:///x.db"}
    settings = load_settings(path, env=env)
    assert settings.ami.host == "127.0.0.2"
    assert settings.database_url() == "sqlite+aiosqlite:///x.db"


def test_check_config_command_line_exit_status(tmp_path: Path) -> None:
    path = _write(tmp_path, "queues: [{name: '1bad'}]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "callserver", "check-config", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert f"{path}: queues[0].name:" in proc.stderr


@pytest.mark.parametrize("command", [["run"], ["simulate"], ["check-config"], ["db", "upgrade"]])
def test_every_command_has_help(command: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "callserver", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0
    assert "usage: callserver" in proc.stdout


def test_check_config_reports_bad_requirements_with_the_other_faults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        """
skills: [french, billing]
queues:
  - name: q
    steps: [{after: 0, require: "french >= >= 5"}, {after: 30, require: "frnech"}]
    on_timeout: {queue: nowhere}
""",
    )
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: queues[q].on_timeout.queue: unknown queue 'nowhere'" in err
    assert f"{path}: queues[q].steps[0].require: unexpected token '>=' at column 11" in err
    assert f"{path}: queues[q].steps[1].require: unknown skill 'frnech' at column 1" in err


def test_check_config_reports_ivr_faults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(
        tmp_path,
        """
queues: [{name: general}]
ivr:
  flows:
    main:
      start: welcome
      nodes:
        welcome: {type: menu, prompt: hello, options: {1: q}, fallback: q}
        q: {type: queue, queue: billing}
""",
    )
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: ivr.flows.main.nodes.q.queue: unknown queue 'billing'" in err


def test_loading_settings_checks_shapes_only_and_the_checks_do_the_rest(tmp_path: Path) -> None:
    path = _write(tmp_path, "skills: [a]\nqueues: [{name: q, steps: [{require: 'a >'}]}]\n")
    settings = load_settings(path, env={})  # the schema alone cannot read a requirement
    with pytest.raises(ConfigError) as info:
        check_settings(settings, str(path))
    assert info.value.problems == ["queues[q].steps[0].require: missing level after '>' at column 4"]
    with pytest.raises(ConfigError):
        load_checked(path, env={})


def test_the_example_ivr_reaches_the_server_parsed() -> None:
    checked = load_checked(EXAMPLE, env={})
    assert checked.ivr is not None and checked.ivr.flow_for_dnis("0800123456") is not None


def test_the_configuration_imports_no_engine() -> None:
    code = (
        "import sys, callserver.config\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('callserver'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(proc.stdout.split())
    # pure name modules only: no requirement parser, no IVR, no engine, no adapter
    assert loaded <= {
        "callserver",
        "callserver.config",
        "callserver.acd",
        "callserver.acd.queue_options",
        "callserver.pbx",
        "callserver.pbx.dialplan",
        "callserver.sounds",
        "callserver.sounds.names",
    }, loaded


def test_check_config_reports_field_and_cross_reference_faults_together_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path,
        """
skills: [french]
agents:
  - {id: alice, name: A, login: alice, interface: PJSIP/1001, skills: {french: 11}}
  - {id: bruno, name: B, login: bruno, interface: PJSIP/1002, skills: {frnech: 5}}
queues:
  - {name: sales, dnis: ["1"], max_wiat: 30}
  - {name: support, dnis: ["2"], on_timeout: {queue: nowhere}}
""",
    )
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    # a field fault (alice), an unknown key with the nearest known one (sales), and the cross-
    # reference faults pydantic alone would only report once those were fixed (bruno, support)
    assert f"{path}: agents[alice].skills.french: Input should be less than or equal to 10" in err
    assert f"{path}: queues[sales].max_wiat: unknown key; did you mean 'max_wait'?" in err
    assert f"{path}: agents[bruno].skills: unknown skill 'frnech'" in err
    assert f"{path}: queues[support].on_timeout.queue: unknown queue 'nowhere'" in err
    assert "agents[0]" not in err and "queues[1]" not in err


def test_an_empty_configuration_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "# nothing here yet\n")
    assert main(["check-config", str(path)]) == 1
    assert f"{path}: the file is empty" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="the file is empty"):
        load_settings(path, env={})
