"""Fuzzer fixtures: one server process shared by the over-the-wire fuzzers, checked at the end for a
clean exit and a log without tracebacks or ERROR lines; and the count of inputs in the summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .budget import INPUTS, LONG
from .server import FuzzServer, fuzz_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    with fuzz_server(Path(tmp_path_factory.mktemp("fuzz"))) as running:
        yield running
        assert running.alive(), "the server died under fuzzing:\n" + running.log[-5000:]
    assert running.proc.returncode == 0, running.log[-5000:]
    assert running.problems() == [], "".join(running.problems())[:5000]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not INPUTS:
        return
    run = "long" if LONG else "short"
    terminalreporter.section(f"fuzz ({run} run)")
    for target, count in sorted(INPUTS.items()):
        terminalreporter.write_line(f"{target}: {count:,} inputs")
    terminalreporter.write_line(f"total: {sum(INPUTS.values()):,} inputs")
