"""Engines and pure definitions import no I/O: nothing of asyncio, aiohttp, SQLAlchemy or the store."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .helpers import ROOT

IO = ("asyncio", "aiohttp", "sqlalchemy", "callserver.store", "callserver.agi")


@pytest.mark.parametrize(
    "module",
    [
        "callserver.acd.handling",
        "callserver.acd.metrics",
        "callserver.figures",
        "callserver.ivr.engine",
        "callserver.expressions.conditions",
    ],
)
def test_engine_module_imports_no_io(module: str) -> None:
    code = f"import sys, {module}\nprint(' '.join(sorted(sys.modules)))\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = [m for m in proc.stdout.split() if m.startswith(IO)]
    assert loaded == [], f"{module} pulls in {loaded}"
