"""Cost of dialogue scripts: reading and checking a file, running it, checking answers.

Run with `python -m bench.scripts_bench`. Reading (XML parse, XSD validation, model) and checking
happen when a script is loaded or saved from the editor; a run's moves and views happen at each
click of an agent or a web customer; answer checks at each form submission on the public page.
Wall-clock times (mean, p50, p99) come with this thread's CPU time (p50, and calls per CPU second),
as the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

from bench.machine import describe_machine
from callserver.scripts.answers import Checking, check_answer
from callserver.scripts.engine import RunContext, ScriptRun
from callserver.scripts.model import AskAmount, Script, ScriptContext, Template
from callserver.scripts.read import load_script
from callserver.scripts.validate import check_script

BILLING = Path(__file__).resolve().parents[1] / "config" / "scripts" / "billing.xml"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CONTEXT = ScriptContext(
    customer_fields=frozenset({"id", "name", "account", "email", "balance", "payment_plan"}),
    writable_fields=frozenset({"payment_plan"}),
    call_fields=frozenset({"caller", "dnis", "queue", "language"}),
    queues=frozenset({"billing", "technical", "general"}),
    agents=frozenset({"alice", "bruno"}),
    skills=frozenset({"billing", "french"}),
    outcome_codes=frozenset({"resolved", "follow-up"}),
)
CUSTOMER = {"id": 7, "name": "Jeanne Dupont", "account": "100101", "balance": Decimal("42.10")}


def _time(label: str, repeat: int, work: Callable[[], object]) -> None:
    for _ in range(max(1, repeat // 10)):  # warm-up
        work()
    samples, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter_ns(), time.thread_time_ns()
        work()
        cpu.append((time.thread_time_ns() - c) / 1000)
        samples.append((time.perf_counter_ns() - t) / 1000)
    samples.sort()
    cpu.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(
        f"{label:<42} {repeat:>6} {statistics.mean(samples):>9.1f} {samples[len(samples) // 2]:>9.1f}"
        f" {p99:>9.1f} {cpu[len(cpu) // 2]:>9.1f} {1e6 / statistics.mean(cpu):>10,.0f}"
    )


def _load() -> Script:
    script, problems = load_script(BILLING)
    assert script is not None, problems
    assert not check_script(script, CONTEXT)
    return script


def _plan_run(script: Script) -> None:
    """The agent's payment-plan path: 5 moves and a view after each."""
    run = ScriptRun(script, RunContext("r", agent="alice", customer=CUSTOMER), NOW)
    run.forward(by="alice", now=NOW)
    run.view(NOW)
    for step, value in (("balance_due", "yes"), ("plan_months", "6"), ("plan_day", "2026-03-05")):
        run.submit(step, value, by="alice", now=NOW)
        run.view(NOW)
    run.forward(by="alice", now=NOW)
    run.record().as_dict()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scripts_bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args(argv)
    print(describe_machine())  # the load and library versions behind every figure below
    scale = 10 if args.quick else 1
    versions = ", ".join(f"{name} {version(name)}" for name in ("lxml", "babel"))
    print(f"dialogue scripts ({versions}); times in microseconds")
    print(f"{'what':<42} {'repeat':>6} {'mean':>9} {'p50':>9} {'p99':>9} {'cpu p50':>9} {'cpu /sec':>10}")
    script = _load()
    _time("read + XSD + check billing.xml (10 steps)", 500 // scale, _load)
    _time("agent run, plan path (5 moves, 5 views)", 5000 // scale, lambda: _plan_run(script))
    amount = AskAmount("a", Template("", ()), None, True, 1, min=Decimal(0))
    fr = Checking(NOW.date(), "fr-FR", "EUR")
    _time("check amount '1 234,50 €' (fr-FR)", 20000 // scale, lambda: check_answer(amount, "1 234,50 €", fr))
    _time("check amount '42.10'", 20000 // scale, lambda: check_answer(amount, "42.10", fr))


if __name__ == "__main__":
    main()
