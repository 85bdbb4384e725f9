"""The soak's end-of-run checks (bench/soak/invariants.py) on made-up figures: they pass on a healthy
run and fail on each kind of trouble the soak is there to catch."""

from __future__ import annotations

import random
from typing import Any

from bench.soak import invariants as inv
from bench.soak.report import RunRecord, verdicts
from bench.soak.run import parse

BOUNDS = inv.Bounds(rss_mib_per_hour=30.0)


def _series(start: float, per_second: float, *, noise: float = 0.0, seconds: int = 300) -> list[inv.Point]:
    """One sample every 5 s for `seconds`, growing at `per_second`, with seeded noise."""
    rng = random.Random(3)
    return [inv.Point(t, start + per_second * t + rng.uniform(-noise, noise)) for t in range(0, seconds, 5)]


def test_rss_that_only_wobbles_is_flat() -> None:
    # 120 MiB give or take 2 MiB of allocator noise, no trend
    verdict = inv.rss_flat(_series(120 * 1024, 0.0, noise=2048), BOUNDS)
    assert verdict.ok, verdict.detail


def test_rss_leaking_a_kilobyte_a_call_at_twenty_calls_a_second_fails() -> None:
    verdict = inv.rss_flat(_series(120 * 1024, 20.0), BOUNDS)  # 20 KiB/s = 70.3 MiB/h
    assert not verdict.ok
    assert "slope +70.3 MiB/h, fitted growth +5.8 MiB" in verdict.detail


def test_rss_swinging_within_the_allocator_noise_over_a_short_window_is_flat() -> None:
    # 5 minutes from a low point to a plateau 3 MiB higher: +36 MiB/h fitted, but within the noise
    swing = [inv.Point(p.t, 120 * 1024 + (0 if p.t < 60 else 3 * 1024)) for p in _series(0, 0)]
    verdict = inv.rss_flat(swing, BOUNDS)
    assert verdict.ok, verdict.detail
    # the same slope kept up for 30 minutes is growth, not noise
    assert not inv.rss_flat(_series(120 * 1024, 10.0, seconds=1800), BOUNDS).ok  # 35 MiB/h


def test_rss_with_too_few_samples_after_warm_up_fails_rather_than_passes() -> None:
    assert not inv.rss_flat(_series(120 * 1024, 0.0, seconds=10), BOUNDS).ok


def test_descriptors_following_the_load_are_flat_but_a_steady_climb_is_not() -> None:
    load = [inv.Point(p.t, 30 + (p.t % 20)) for p in _series(0, 0)]  # up and down with the calls
    assert inv.not_growing("open files flat", load, BOUNDS).ok
    climbing = [inv.Point(p.t, 30 + p.t / 10) for p in _series(0, 0)]  # +30 in 300 s
    verdict = inv.not_growing("open files flat", climbing, BOUNDS)
    assert not verdict.ok
    assert "fitted growth +29" in verdict.detail


def test_a_call_row_without_end_or_outcome_fails_and_is_named() -> None:
    rows = [
        inv.CallRow("1.1", "2026-12-01 16:00:00", "answered"),
        inv.CallRow("1.2", None, None),
        inv.CallRow("1.3", "2026-12-01 16:00:05", None),
    ]
    verdict = inv.calls_closed(rows)
    assert not verdict.ok
    assert "2 open" in verdict.detail and "1.2" in verdict.detail and "1.3" in verdict.detail
    assert inv.calls_closed(rows[:1]).ok
    assert not inv.calls_closed([]).ok  # a run that recorded no call proves nothing


def test_busy_agents_are_read_from_server_rows_and_pbx_channel_names() -> None:
    agents = [
        {"id": "a1", "state": "on_call"},
        {"id": "a2", "state": "ringing"},
        {"id": "a3", "state": "idle"},
        {"id": "a4", "state": "wrapup"},
    ]
    assert inv.busy_by_server(agents) == {"a1", "a2"}
    channels = ["PJSIP/trunk-0000001a", "PJSIP/2001-0000001b", "PJSIP/2010-0000001c", "Local/x@y-0001;1"]
    interfaces = {"PJSIP/2001": "a1", "PJSIP/2002": "a2", "PJSIP/2010": "a10"}
    assert inv.busy_by_pbx(channels, interfaces) == {"a1", "a10"}


def test_agents_that_differ_from_the_pbx_at_the_end_fail() -> None:
    assert inv.agents_match({"a1"}, {"a1"}).ok
    verdict = inv.agents_match({"a1", "a2"}, {"a1", "a3"})
    assert not verdict.ok
    assert "server only ['a2']" in verdict.detail and "PBX only ['a3']" in verdict.detail


def test_a_moment_apart_is_allowed_but_an_agent_stuck_apart_fails() -> None:
    moments = [(0.0, {"a1"}, set()), (5.0, set(), set()), (10.0, {"a1"}, set()), (15.0, set(), {"a2"})]
    assert inv.no_stuck_divergence(moments, samples=3).ok
    stuck = [
        (0.0, {"a1"}, set()),
        (5.0, {"a1", "a2"}, {"a2"}),
        (10.0, {"a1"}, set()),
        (15.0, {"a1"}, {"a3"}),
    ]
    verdict = inv.no_stuck_divergence(stuck, samples=3)
    assert not verdict.ok
    assert "a1 (server only, 4 samples)" in verdict.detail
    assert "a1, busy per server only, t=0..15 s" in verdict.detail


def _record(rows: list[inv.CallRow], rss_growth_kib_per_s: float = 0.0) -> RunRecord:
    """A 10-minute run sampled every 5 s; the server was down (empty columns) around 120 s."""
    plan, _ = parse(["--minutes", "10"])
    samples: list[dict[str, Any]] = []
    for t in range(0, 600, 5):
        down = 120 <= t < 125
        samples.append(
            {
                "t": float(t),
                "phase": "traffic",
                "rss_kib": "" if down else 120 * 1024 + rss_growth_kib_per_s * t,
                "open_fds": "" if down else 31,
                "tasks": "" if down else 12 + t % 3,
                "lag_last_ms": "" if down else 0.5,
                "lag_p99_ms": "" if down else 20.0,
            }
        )
    return RunRecord(
        plan=plan,
        samples=samples,
        divergence=[(float(t), set(), set()) for t in range(0, 600, 5)],
        final=(set(), set()),
        rows=rows,
        stop_code=0,
        drained={"placed": 10, "outcomes": {"completed": 10}},
        faults={"ami_cuts": 3, "ami_stalls": 2},
        log_counts={"tracebacks": 0, "error_lines": 0, "server_starts": 2, "pbx_starts": 2},
        events=[],
        traffic_end=600.0,
    )


def test_a_healthy_run_passes_and_an_open_row_or_a_leak_fails_it() -> None:
    closed = inv.CallRow("1.1", "2026-12-01 16:00:00", "answered")
    found, figures = verdicts(_record([closed]))
    assert all(v.ok for v in found), [v for v in found if not v.ok]
    assert figures["steady_window_s"] == [300.0, 600.0]  # memory judged over the second half only
    found, _ = verdicts(_record([closed, inv.CallRow("1.2", None, None)]))
    assert [v.name for v in found if not v.ok] == ["call rows closed"]
    found, _ = verdicts(_record([closed], rss_growth_kib_per_s=20.0))
    assert [v.name for v in found if not v.ok] == ["rss flat"]
