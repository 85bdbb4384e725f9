"""Fuzzer fixtures: one server process shared by the over-the-wire fuzzers, checked at the end for a
clean exit and a log without tracebacks or ERROR lines. The count of inputs is printed by the suite's
top conftest, which also gathers it from pytest-xdist's workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import FuzzServer, fuzz_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    with fuzz_server(Path(tmp_path_factory.mktemp("fuzz"))) as running:
        yield running
        assert running.alive(), "the server died under fuzzing:\n" + running.log[-5000:]
    assert running.proc.returncode == 0, running.log[-5000:]
    assert running.problems() == [], "".join(running.problems())[:5000]
