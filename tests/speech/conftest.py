"""Speech tests run real espeak-ng and sox: install them when we can, fail loudly when we cannot."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callserver.speech import PromptSynth

TOOLS = {"espeak-ng": "espeak-ng", "sox": "sox"}  # program -> Debian package


def _missing() -> list[str]:
    return [program for program in TOOLS if shutil.which(program) is None]


@pytest.fixture(scope="session", autouse=True)
def speech_tools() -> None:
    """Never let these tests pass without the real engine: a missing tool is an error, not a skip."""
    missing = _missing()
    if missing and os.geteuid() == 0:
        packages = sorted({TOOLS[p] for p in missing})
        subprocess.run(["apt-get", "install", "-y", *packages], capture_output=True, check=False)
        missing = _missing()
    if missing:
        pytest.fail(
            f"speech tests need {', '.join(missing)}: run `apt-get install -y espeak-ng sox` as root",
            pytrace=False,
        )
    if importlib.util.find_spec("pyttsx3") is None:
        pytest.fail("speech tests need pyttsx3: run `.venv/bin/pip install pyttsx3`", pytrace=False)


@pytest.fixture
async def synth(tmp_path: Path) -> AsyncIterator[PromptSynth]:
    async with PromptSynth(tmp_path / "prompts", backend="pyttsx3", sounds_dir=tmp_path) as s:
        yield s
