"""What is wrong with a script file, said as `file:line: step 'id': what`.

Reading (`read.py`) and checking (`validate.py`) both report through `Problem`, so check-config,
the start-up log and the editor show one format. Warnings do not stop a script from being used.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    source: str
    line: int | None
    step: str | None
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        step = f" step '{self.step}':" if self.step else ""
        kind = " warning:" if self.warning else ""
        return f"{where}:{step}{kind} {self.message}"


class ScriptError(Exception):
    """A script that cannot be used; `problems` lists every fault found, warnings included."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = tuple(problems)


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if not p.warning]


def unknown(what: str, name: str, known: Iterable[str]) -> str:
    """`unknown queue 'biling' (did you mean 'billing'?)`, or the list of known names when short."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"unknown {what} '{name}' (did you mean '{close[0]}'?)"
    if not names:
        return f"unknown {what} '{name}' (none are configured)"
    if len(names) <= 12:
        return f"unknown {what} '{name}' (known: {', '.join(names)})"
    return f"unknown {what} '{name}'"
