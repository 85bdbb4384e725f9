"""The end of a soak run: the invariants of `invariants.py` applied to what was recorded, the
figures `bench/RESULTS.md` quotes, `report.json` and the summary printed for the reader."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.soak import invariants as inv

if TYPE_CHECKING:
    from bench.soak.run import Plan


@dataclass
class RunRecord:
    """Everything a finished run recorded."""

    plan: Plan
    samples: list[dict[str, Any]]  # the rows of samples.csv
    divergence: list[tuple[float, set[str], set[str]]]  # (t, busy per server, busy per PBX)
    final: tuple[set[str], set[str]]  # the same once every caller had hung up
    rows: list[inv.CallRow]
    stop_code: int
    drained: dict[str, Any]  # the simulator's counters at the end
    faults: dict[str, int]
    log_counts: dict[str, int]
    events: list[tuple[float, str]]
    traffic_end: float


def verdicts(run: RunRecord) -> tuple[list[inv.Verdict], dict[str, Any]]:
    """Every invariant's verdict, and the figures of the run."""
    plan = run.plan
    window_start = plan.warmup_until * plan.minutes * 60
    steady = [
        s for s in run.samples if s["phase"] == "traffic" and s["t"] >= window_start and s["rss_kib"] != ""
    ]
    rss = [inv.Point(s["t"], float(s["rss_kib"])) for s in steady]
    fds = [inv.Point(s["t"], float(s["open_fds"])) for s in steady]
    tasks = [inv.Point(s["t"], float(s["tasks"])) for s in steady if s["tasks"] != ""]
    logs = run.log_counts
    found = [
        inv.calls_closed(run.rows),
        inv.agents_match(*run.final),
        inv.no_stuck_divergence(run.divergence, plan.stuck_samples),
        inv.rss_flat(rss, plan.bounds),
        inv.not_growing("open files flat", fds, plan.bounds),
        inv.not_growing("asyncio tasks flat", tasks, plan.bounds),
        inv.Verdict("clean stop", run.stop_code == 0, f"exit status {run.stop_code}"),
        inv.Verdict(
            "no traceback in the server log",
            logs["tracebacks"] == 0,
            f"{logs['tracebacks']} tracebacks, {logs['error_lines']} ERROR lines",
        ),
    ]
    window_p99 = [float(s["lag_p99_ms"]) for s in run.samples if s["lag_p99_ms"] not in ("", None)]
    lags = sorted(float(s["lag_last_ms"]) for s in run.samples if s["lag_last_ms"] not in ("", None))
    outcomes: dict[str, int] = {}
    for row in run.rows:
        outcomes[str(row.outcome)] = outcomes.get(str(row.outcome), 0) + 1
    figures: dict[str, Any] = {
        "minutes": plan.minutes,
        "rate": plan.rate,
        "agents": plan.agents,
        "callers_placed_since_last_pbx_start": run.drained.get("placed"),
        "caller_outcomes_since_last_pbx_start": run.drained.get("outcomes"),
        "call_rows": len(run.rows),
        "row_outcomes": outcomes,
        **run.faults,
        **{k: v for k, v in logs.items() if k not in ("tracebacks", "error_lines")},
        "steady_window_s": [window_start, run.traffic_end],
        "rss_mib_window_first": rss[0].value / 1024 if rss else None,
        "rss_mib_window_last": rss[-1].value / 1024 if rss else None,
        "rss_slope_mib_per_hour": inv.slope(rss) * 3600 / 1024,
        "fds_range": [min(p.value for p in fds), max(p.value for p in fds)] if fds else None,
        "tasks_range": [min(p.value for p in tasks), max(p.value for p in tasks)] if tasks else None,
        "lag_median_ms_sampled": statistics.median(lags) if lags else None,
        "lag_p99_ms_sampled": lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else None,
        "lag_max_ms_sampled": lags[-1] if lags else None,
        "lag_p99_ms_worst_minute": max(window_p99, default=None),
    }
    return found, figures


def write_report(run: RunRecord, out: Path) -> int:
    """Write report.json, print the figures and verdicts; the exit status (1 if any failed)."""
    found, figures = verdicts(run)
    ok = all(v.ok for v in found)
    result = {
        "ok": ok,
        "figures": figures,
        "verdicts": [asdict(v) for v in found],
        "events": run.events,
        "plan": asdict(run.plan),
    }
    (out / "report.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print("\n# soak figures")
    for key, value in figures.items():
        print(f"  {key}: {f'{value:.2f}' if isinstance(value, float) else value}")
    print("\n# invariants")
    for v in found:
        print(f"  {'PASS' if v.ok else 'FAIL'}  {v.name}: {v.detail}")
    print(f"\nsamples: {out / 'samples.csv'}; report: {out / 'report.json'}")
    return 0 if ok else 1
