"""Run every benchmark: `python -m bench` (all sizes, about 10 minutes) or `python -m bench --quick`."""

from __future__ import annotations

import argparse
import asyncio
import platform
import time

from . import (
    campaign_bench,
    exports_bench,
    resync_bench,
    routing_bench,
    scripts_bench,
    selfservice_bench,
    speech_bench,
    ws_bench,
)


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a fast subset (under 30 s)")
    ap.add_argument(
        "--profile", action="store_true", help="cProfile the routing decisions at the largest size"
    )
    args = ap.parse_args()
    t = time.perf_counter()
    print(f"python {platform.python_version()} on {platform.machine()}")
    print("\n# routing")
    routing_bench.main(["--quick"] * args.quick + ["--profile"] * args.profile)
    print("\n# screen-pop latency over websockets")
    ws_bench.main(["--sizes", "100"] if args.quick else [])
    print("\n# periodic resynchronisation with the PBX")
    resync_bench.main(["--channels", "2000", "--runs", "2"] if args.quick else [])
    print("\n# dialogue scripts")
    scripts_bench.main(["--quick"] * args.quick)
    print("\n# outbound campaigns: pacing and list import")
    campaign_bench.main(["--quick"] if args.quick else ["--seeds", "3"])
    print("\n# self-service pages over HTTP")
    selfservice_bench.main(["--quick"] * args.quick)
    print("\n# queue_log and Prometheus")
    exports_bench.main(["--calls", "2000"] if args.quick else [])
    print("\n# speech")
    asyncio.run(speech_bench.main())
    print(f"\nall benchmarks took {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
