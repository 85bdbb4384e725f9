"""The same Python work, back to back and spaced out: what this machine charges for waking up.

The end-to-end bench divides the server's CPU time by the calls of the window, and a call costs
more of it at 50 calls/s than at 200 on this machine, although the server does the same things for
each call. Sampled at both rates, every part of the server's work (the AMI reader, the FastAGI
sessions, the ACD, the fact writer) takes about twice its time per call at the lower rate. This
bench shows the effect without the server: an event loop runs one fixed unit of work (about
0.5 ms of dict and string work, what handling an event or two costs) either back to back or
once per timer wake-up with a gap between, and reports the process CPU time per unit. A process
that sleeps between short bursts finds the CPU's caches and predictors cold (and, in a virtual
machine, a virtual CPU that had been descheduled), so each burst costs more.

Command: `.venv/bin/python -m bench.spaced_work` (`--units 400 --rounds 3`).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics

GAPS_MS = (0.0, 0.5, 2.0, 5.0, 20.0)


def _unit() -> int:
    d: dict[int, int] = {}
    for i in range(3000):
        d[i % 97] = d.get(i % 97, 0) + i
        _ = f"x{i}"
    return len(d)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _spaced(units: int, gap: float) -> float:
    """CPU µs per unit, `gap` seconds of timer sleep after each."""
    start = _cpu()
    for _ in range(units):
        _unit()
        await asyncio.sleep(gap)
    return (_cpu() - start) / units * 1e6


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.spaced_work", description=__doc__)
    ap.add_argument("--units", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    results: dict[float, list[float]] = {gap: [] for gap in GAPS_MS}
    for _ in range(args.rounds):  # rounds interleaved, so that a slower minute touches every gap
        for gap in GAPS_MS:
            results[gap].append(asyncio.run(_spaced(args.units, gap / 1000)))
    base = statistics.median(results[0.0])
    print(f"the same unit of work, {args.units} units x {args.rounds} rounds (median of rounds)")
    print("gap between units   CPU µs per unit   vs back to back")
    for gap in GAPS_MS:
        mid = statistics.median(results[gap])
        print(f"{gap:10.1f} ms {mid:17.0f} {mid / base:17.2f}x")


if __name__ == "__main__":
    main()
