"""What `callserver doctor` found: one line each, OK, WARN (works, but watch it) or FAIL (fix it)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Status(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Finding:
    status: Status
    topic: str  # ami, login, read classes, dialplan, fastagi, prompts, recordings, pjsip
    what: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status.value:<4} {self.topic}: {self.what}"
        return f"{text} -> fix: {self.fix}" if self.fix and self.status is not Status.OK else text


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)

    def ok(self, topic: str, what: str) -> None:
        self.findings.append(Finding(Status.OK, topic, what))

    def warn(self, topic: str, what: str, fix: str = "") -> None:
        self.findings.append(Finding(Status.WARN, topic, what, fix))

    def fail(self, topic: str, what: str, fix: str) -> None:
        self.findings.append(Finding(Status.FAIL, topic, what, fix))

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL]

    @property
    def exit_code(self) -> int:
        """0 when nothing failed (warnings allowed), 1 otherwise."""
        return 1 if self.failed else 0

    def lines(self) -> list[str]:
        return [f.line() for f in self.findings]
