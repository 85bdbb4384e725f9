"""Run every benchmark: `python -m bench` (all sizes, about 10 minutes) or `python -m bench --quick`."""

from __future__ import annotations

import argparse
import asyncio
import platform
import time

from . import (
    agi_headers_bench,
    agi_session_bench,
    ami_bench,
    call_search_bench,
    campaign_bench,
    e2e_bench,
    exports_bench,
    fact_consumers_bench,
    pg_reads_bench,
    reads_bench,
    report_flush_bench,
    reports_bench,
    resync_bench,
    routing_bench,
    scripts_bench,
    selfservice_bench,
    speech_bench,
    writer_bench,
    ws_bench,
)
from .machine import describe_machine, load_average


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a fast subset (under 30 s)")
    ap.add_argument(
        "--profile", action="store_true", help="cProfile the routing decisions at the largest size"
    )
    args = ap.parse_args()
    t = time.perf_counter()
    print(f"python {platform.python_version()} on {platform.machine()}")
    print(describe_machine())
    print("\n# end to end")
    e2e_bench.main(["--rates", "50,100", "--db", "sqlite", "--window", "8"] if args.quick else [])
    print(f"\n# per-call reads on a SQLite file (load average {load_average():.1f})")
    reads_bench.main(["--customers", "2000", "--calls", "10000", "--rounds", "3"] if args.quick else [])
    print(f"\n# per-call reads on PostgreSQL (load average {load_average():.1f})")
    pg_reads_bench.main(["--customers", "2000", "--calls", "10000", "--rounds", "3"] if args.quick else [])
    print(f"\n# fact writer (load average {load_average():.1f})")
    writer_bench.main(["--facts", "14000"] if args.quick else [])
    print(f"\n# AMI ingest (load average {load_average():.1f})")
    ami_bench.main([])
    print(f"\n# FastAGI header block (load average {load_average():.1f})")
    agi_headers_bench.main(["--reads", "5000", "--rounds", "3"] if args.quick else [])
    print(f"\n# FastAGI sessions, the server's CPU for each (load average {load_average():.1f})")
    agi_session_bench.main(["--sessions", "500", "--rates", "200", "--rounds", "1"] if args.quick else [])
    print(f"\n# routing (load average {load_average():.1f})")
    routing_bench.main(["--quick"] * args.quick + ["--profile"] * args.profile)
    print(f"\n# screen-pop latency over websockets (load average {load_average():.1f})")
    ws_bench.main(["--sizes", "100"] if args.quick else [])
    print(f"\n# periodic resynchronisation with the PBX (load average {load_average():.1f})")
    resync_bench.main(["--channels", "2000", "--runs", "2"] if args.quick else [])
    print(f"\n# dialogue scripts (load average {load_average():.1f})")
    scripts_bench.main(["--quick"] * args.quick)
    print(f"\n# outbound campaigns: pacing and list import (load average {load_average():.1f})")
    campaign_bench.main(["--quick"] if args.quick else ["--seeds", "3"])
    print(f"\n# self-service pages over HTTP (load average {load_average():.1f})")
    selfservice_bench.main(["--quick"] * args.quick)
    print(f"\n# queue_log and Prometheus (load average {load_average():.1f})")
    exports_bench.main(["--calls", "2000"] if args.quick else [])
    print(f"\n# the fact bus's followers, fed the same calls' facts (load average {load_average():.1f})")
    fact_consumers_bench.main(["--calls", "5000", "--rounds", "3"] if args.quick else [])
    print(f"\n# report writer flush, hours into the day (load average {load_average():.1f})")
    report_flush_bench.main(["--sizes", "400:8"] if args.quick else [])
    print(f"\n# historical reports: 1,000,000 calls, 200 agents, 30 days (load average {load_average():.1f})")
    reports_bench.main(["--quick"] if args.quick else [])
    print(f"\n# call search (load average {load_average():.1f})")
    call_search_bench.main(["--calls", "20000" if args.quick else "1000000"])
    print(f"\n# speech (load average {load_average():.1f})")
    asyncio.run(speech_bench.main())
    print(f"\nall benchmarks took {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
