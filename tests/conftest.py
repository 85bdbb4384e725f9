"""Suite-wide hooks: the fuzzers' count of inputs in the terminal summary.

`make test` runs most of the suite in two pytest-xdist workers; each worker counts the inputs of
the fuzzers it ran, hands the count back when it finishes, and the controller prints the sum. This
lives here, not in tests/fuzz, because the controller never loads a sub-folder's conftest.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fuzz.budget import INPUTS, LONG

_KEY = "fuzz_inputs"


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: its counts travel to the controller
        output[_KEY] = dict(INPUTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    INPUTS.update(getattr(node, "workeroutput", {}).get(_KEY, {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not INPUTS:
        return
    run = "long" if LONG else "short"
    terminalreporter.section(f"fuzz ({run} run)")
    for target, count in sorted(INPUTS.items()):
        terminalreporter.write_line(f"{target}: {count:,} inputs")
    terminalreporter.write_line(f"total: {sum(INPUTS.values()):,} inputs")
