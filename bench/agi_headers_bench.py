"""FastAGI header block: what reading the agi_ headers costs, in one read or a line at a time.

Every call opens two FastAGI sessions or more (the inbound script, the agent's leg), and each starts
with Asterisk's block of about 25 `agi_key: value` lines. `read_env` reads the first line alone and
the rest of the block in one `readuntil`; a block with CR LF line ends (which Asterisk never sends)
still goes a line at a time, which is how every block was read before, so the two columns are the
reader before and after on the same headers.

Workload: the header blocks a real Asterisk 22 sent in `../shared/ami-traces/*.agi.log`, already in
the reader's buffer (as they are when the connection's first segment has arrived), read N times
each, rounds interleaved. In process: no socket, so only the reader's own cost is timed.
Command: `.venv/bin/python -m bench.agi_headers_bench` (`--reads 20000 --rounds 5`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from callserver.agi.headers import LINE_LIMIT, read_env

TRACES = Path(__file__).resolve().parents[2] / "shared" / "ami-traces"


def _blocks() -> list[bytes]:
    """Each recorded block as Asterisk sent it (lines received before the first blank one)."""
    blocks: list[bytes] = []
    for path in sorted(TRACES.glob("*.agi.log")):
        lines: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("agi_"):
                lines.append(line)
            elif lines and not line:
                blocks.append(("\n".join(lines) + "\n\n").encode())
                lines = []
    return blocks


async def _read_all(blocks: list[bytes], reads: int) -> float:
    """µs per block read."""
    start = time.perf_counter()
    for i in range(reads):
        reader = asyncio.StreamReader(limit=LINE_LIMIT)
        reader.feed_data(blocks[i % len(blocks)])
        await read_env(reader)
    return (time.perf_counter() - start) / reads * 1e6


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.agi_headers_bench", description=__doc__)
    ap.add_argument("--reads", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    lf = _blocks()
    if not lf:
        print(f"no FastAGI transcripts under {TRACES}: nothing to time")
        return
    crlf = [block.replace(b"\n", b"\r\n") for block in lf]
    times: dict[str, list[float]] = {"one read": [], "line by line": []}
    for _ in range(args.rounds):
        times["one read"].append(asyncio.run(_read_all(lf, args.reads)))
        times["line by line"].append(asyncio.run(_read_all(crlf, args.reads)))
    lines = statistics.mean(block.count(b"\n") - 1 for block in lf)
    print(f"{len(lf)} recorded header blocks, {lines:.0f} lines each on average", end="")
    print(f", {args.reads} reads x {args.rounds} rounds (median of rounds)")
    after, before = statistics.median(times["one read"]), statistics.median(times["line by line"])
    print(f"line by line (before): {before:.1f} µs a block")
    print(f"one read (now):        {after:.1f} µs a block  ({before / after:.2f}x)")


if __name__ == "__main__":
    main()
