"""Sound names: the committed core list, the names the code and the dialplan play, the folder rule,
and `check-config` refusing a sound that exists nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from callserver.cli import main
from callserver.sounds.core import CORE_SOUNDS, is_core_sound
from callserver.sounds.folder import SoundFolder
from callserver.sounds.names import ACCEPT_CALL, CORE_USED, OWN_PROMPTS

from ..helpers import ROOT

DIALPLAN = ROOT / "asterisk" / "extensions_callserver.conf"


def test_core_list_is_asterisk_22s_english_set_with_its_subfolders() -> None:
    assert len(CORE_SOUNDS) == 568
    assert {"vm-goodbye", "beep", "digits/5", "letters/a", "silence/1"} <= CORE_SOUNDS


def test_press_1_is_not_a_core_sound_so_the_project_builds_its_own() -> None:
    assert not is_core_sound("press-1")
    assert all(not is_core_sound(p.name) for p in OWN_PROMPTS)


def test_every_core_name_the_code_uses_is_in_the_core_list() -> None:
    assert CORE_USED <= CORE_SOUNDS


def test_the_dialplan_plays_only_core_sounds_named_in_the_names_module() -> None:
    played = set(re.findall(r"(?:Playback|Background)\(([^)$]+)\)", DIALPLAN.read_text(encoding="utf-8")))
    assert played and played <= CORE_USED


def test_own_prompts_are_named_under_the_folder_asterisk_reads(tmp_path: Path) -> None:
    folder = SoundFolder(tmp_path / "sounds" / "callserver", tmp_path / "sounds", "en")
    assert folder.name(ACCEPT_CALL) == "callserver/en/press-1"
    assert folder.name(ACCEPT_CALL, "fr") == "callserver/fr/press-1"
    assert folder.name(ACCEPT_CALL, "de") == "callserver/en/press-1"  # no German words: the site's
    assert folder.path(ACCEPT_CALL, "fr") == tmp_path / "sounds" / "callserver" / "fr" / "press-1.sln"


def test_check_config_rejects_a_prompt_file_that_exists_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load((ROOT / "config" / "callcentre.yaml").read_text(encoding="utf-8"))
    data["data_dir"] = str(tmp_path / "data")
    data["customers"]["seed_file"] = str(ROOT / "config" / "customers.csv")
    data["ivr"]["flows"]["main"]["nodes"]["choose_language"]["prompt"] = {"file": "custom/choose-language"}
    data["queues"][2]["on_full"] = {"message": "queue-full"}
    path = tmp_path / "callcentre.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "ivr.flows.main.nodes.choose_language.prompt.file: 'custom/choose-language' is not" in err
    assert "queues[general].on_full.message: 'queue-full' is not an Asterisk 22 core sound" in err
    # recorded into Asterisk's sounds directory, the same file is accepted
    custom = tmp_path / "data" / "sounds" / "custom"
    custom.mkdir(parents=True)
    (custom / "choose-language.wav").write_bytes(b"RIFF")
    (tmp_path / "data" / "sounds" / "queue-full.sln").write_bytes(bytes(16))
    assert main(["check-config", str(path)]) == 0
