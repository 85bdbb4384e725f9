"""Small scripts written inline, the configuration they are checked against, and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from callserver.scripts.engine import RunContext, ScriptRun
from callserver.scripts.model import Script, ScriptContext
from callserver.scripts.problems import Problem, errors
from callserver.scripts.read import read_script
from callserver.scripts.validate import check_script

ROOT = Path(__file__).resolve().parents[2]
BILLING = ROOT / "config" / "scripts" / "billing.xml"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday

CONTEXT = ScriptContext(
    customer_fields=frozenset(
        {"id", "name", "account", "email", "language", "vip", "balance", "payment_plan"}
    ),
    writable_fields=frozenset({"email", "language", "payment_plan"}),
    call_fields=frozenset({"caller", "dnis", "queue", "language"}),
    queues=frozenset({"billing", "technical", "general"}),
    agents=frozenset({"alice", "bruno"}),
    skills=frozenset({"billing", "french", "technical"}),
    outcome_codes=frozenset({"resolved", "follow-up", "escalated"}),
)

JEANNE = {"id": 7, "name": "Jeanne Dupont", "account": "100101", "balance": Decimal("42.10"), "vip": False}


def xml(steps: str, *, attrs: str = "", head: str = "", start: str = "a") -> bytes:
    """A script document around `steps`; its first step starts on line 4."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<script xmlns="urn:callserver:script:1" id="t" version="1" start="{start}" {attrs}>\n'
        f"<title>Test</title>{head}\n"
        f"{steps}\n"
        "</script>\n"
    ).encode()


def parse(data: bytes) -> tuple[Script | None, list[Problem]]:
    return read_script(data, "t.xml")


def load(data: bytes, context: ScriptContext = CONTEXT) -> Script:
    """A script that must read and check without errors."""
    script, problems = read_script(data, "t.xml")
    assert script is not None, [str(p) for p in problems]
    found = errors(check_script(script, context))
    assert not found, [str(p) for p in found]
    return script


def problems_of(data: bytes, context: ScriptContext = CONTEXT) -> list[str]:
    """Every problem as its line of text, from reading or (when it reads) from checking."""
    script, problems = read_script(data, "t.xml")
    if script is None:
        return [str(p) for p in problems]
    return [str(p) for p in check_script(script, context)]


def agent_run(script: Script, customer: dict[str, object] | None = None, agent: str = "alice") -> ScriptRun:
    return ScriptRun(script, RunContext("run-1", agent=agent, customer=customer or dict(JEANNE)), NOW)


def web_run(script: Script, customer: dict[str, object] | None = None) -> ScriptRun:
    return ScriptRun(script, RunContext("run-w", agent=None, customer=customer or dict(JEANNE)), NOW)
