"""What a soak run must show at its end, as pure functions over what was measured: every call row
closed, the server's agents matching the PBX's channels, and memory, files and tasks flat once
warmed up. Each check returns a `Verdict`; the run fails if any verdict does.

No I/O here, so `tests/bench/test_soak_invariants.py` feeds them made-up figures (flat and leaking).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BUSY_STATES = frozenset({"ringing", "on_call"})


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Point:
    """One sample of a growing-or-not figure: seconds since the run started, and the value."""

    t: float
    value: float


@dataclass(frozen=True)
class Bounds:
    """How much growth after warm-up still counts as flat.

    RSS: the fitted slope, in MiB per hour, over the window; but a fitted growth under
    `rss_noise_mib` always passes, because the allocator moves RSS by several MiB with no trend
    (119-128 MiB back and forth in a 10-minute run at 20 calls/s), which over a short window alone
    makes a slope of tens of MiB per hour. So the slope bound holds from a window of
    `rss_noise_mib / rss_mib_per_hour` on (8 minutes with the defaults: a 30-minute run's second
    half); a shorter window only catches growth above the noise.
    Descriptors and tasks follow the number of calls in progress, so their fitted growth over the
    window may be at most `relative` of their mean, or `absolute`, whichever is larger.
    """

    rss_mib_per_hour: float = 30.0
    rss_noise_mib: float = 4.0
    relative: float = 0.10
    absolute: float = 10.0


def slope(points: Sequence[Point]) -> float:
    """Least-squares slope (value per second); 0 with fewer than three points."""
    if len(points) < 3 or len({p.t for p in points}) < 2:
        return 0.0
    fit = statistics.linear_regression([p.t for p in points], [p.value for p in points])
    return fit.slope


def rss_flat(points: Sequence[Point], bounds: Bounds) -> Verdict:
    """RSS (KiB) after warm-up: the fitted slope under the bound, or the fitted growth under the
    allocator's noise (see `Bounds`)."""
    if len(points) < 3:
        return Verdict("rss flat", False, f"only {len(points)} samples after warm-up")
    span = points[-1].t - points[0].t
    per_hour = slope(points) * 3600 / 1024
    growth = per_hour * span / 3600
    allowed = max(bounds.rss_noise_mib, bounds.rss_mib_per_hour * span / 3600)
    first, last = points[0].value / 1024, points[-1].value / 1024
    detail = (
        f"{first:.1f} -> {last:.1f} MiB over {span:.0f} s, slope {per_hour:+.1f} MiB/h, "
        f"fitted growth {growth:+.1f} MiB (bound {allowed:.1f}: {bounds.rss_mib_per_hour:.0f} MiB/h, "
        f"at least {bounds.rss_noise_mib:.0f})"
    )
    return Verdict("rss flat", growth <= allowed, detail)


def not_growing(name: str, points: Sequence[Point], bounds: Bounds) -> Verdict:
    """A count (descriptors, tasks) after warm-up: fitted growth over the window within bounds."""
    if len(points) < 3:
        return Verdict(name, False, f"only {len(points)} samples after warm-up")
    span = points[-1].t - points[0].t
    growth = slope(points) * span
    mean = statistics.fmean(p.value for p in points)
    limit = max(bounds.absolute, bounds.relative * mean)
    low, high = min(p.value for p in points), max(p.value for p in points)
    detail = (
        f"{low:.0f}..{high:.0f} (mean {mean:.0f}), "
        f"fitted growth {growth:+.1f} over {span:.0f} s (bound {limit:.0f})"
    )
    return Verdict(name, growth <= limit, detail)


@dataclass(frozen=True)
class CallRow:
    id: str
    ended_at: str | None
    outcome: str | None


def calls_closed(rows: Iterable[CallRow]) -> Verdict:
    """Every call row has an end time and an outcome once the traffic has drained."""
    rows = list(rows)
    open_rows = [r for r in rows if r.ended_at is None or r.outcome is None]
    sample = ", ".join(f"{r.id} (ended {r.ended_at}, outcome {r.outcome})" for r in open_rows[:5])
    detail = f"{len(rows)} rows, {len(open_rows)} open" + (f": {sample}" if sample else "")
    return Verdict("call rows closed", bool(rows) and not open_rows, detail)


def busy_by_server(agents: Iterable[Mapping[str, object]]) -> set[str]:
    """Agents the server has ringing or on a call (`GET /api/agents` rows)."""
    return {str(a["id"]) for a in agents if a.get("state") in BUSY_STATES}


def busy_by_pbx(channels: Iterable[str], interfaces: Mapping[str, str]) -> set[str]:
    """Agents whose phone has a channel in the PBX (`CoreShowChannels`); `interfaces` maps an
    agent's interface (`PJSIP/1001`) to its id. Asterisk names a channel `<interface>-<sequence>`."""
    busy: set[str] = set()
    for channel in channels:
        interface = channel.rsplit("-", 1)[0]
        if interface in interfaces:
            busy.add(interfaces[interface])
    return busy


def agents_match(server: set[str], pbx: set[str]) -> Verdict:
    """At the end, with no traffic: the agents the server holds busy are those with a PBX channel."""
    only_server, only_pbx = sorted(server - pbx), sorted(pbx - server)
    detail = (
        f"busy per server {len(server)}, per PBX {len(pbx)}; "
        f"server only {only_server[:10]}, PBX only {only_pbx[:10]}"
    )
    return Verdict("agents match the PBX", not only_server and not only_pbx, detail)


def no_stuck_divergence(history: Sequence[tuple[float, set[str], set[str]]], samples: int) -> Verdict:
    """Under traffic the two views are read one after the other, so an agent may differ for a
    moment; one that differs in the same direction in `samples` consecutive samples is stuck.
    `history` holds (time, busy per server, busy per PBX) for each sample; the detail names the
    longest streak, stuck or not, with when it began and ended."""
    streak: dict[tuple[str, str], tuple[int, float]] = {}  # (agent, side) -> (length, since)
    worst: dict[tuple[str, str], tuple[int, float, float]] = {}  # -> (length, since, until)
    for at, server, pbx in history:
        now = {(a, "server") for a in server - pbx} | {(a, "pbx") for a in pbx - server}
        streak = {key: (streak[key][0] + 1, streak[key][1]) if key in streak else (1, at) for key in now}
        for key, (count, since) in streak.items():
            if count > worst.get(key, (0, 0.0, 0.0))[0]:
                worst[key] = (count, since, at)
    stuck = sorted(
        f"{agent} ({side} only, {n} samples)" for (agent, side), (n, _, _) in worst.items() if n >= samples
    )
    detail = f"{len(history)} samples, longest divergence 0 samples (bound {samples - 1})"
    if worst:
        (agent, side), (n, since, until) = max(worst.items(), key=lambda item: item[1][0])
        detail = (
            f"{len(history)} samples, longest divergence {n} samples (bound {samples - 1}): "
            f"{agent}, busy per {side} only, t={since:.0f}..{until:.0f} s"
        )
    return Verdict(
        "no agent stuck apart from the PBX", not stuck, detail + (f"; stuck: {stuck[:10]}" if stuck else "")
    )
