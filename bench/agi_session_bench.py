"""FastAGI sessions: the server's CPU for each one, at a steady rate of connections.

Every call costs callserver two FastAGI sessions (the caller's `inbound`, the agent leg's `agent`),
each a connection, Asterisk's header block, one SET VARIABLE and its reply, and the close. This
times the server side of exactly that: a server process, clients in this process opening sessions
at a fixed rate, and the server's own CPU time (`time.process_time`) divided by the sessions.

Two servers do the same exchange, alternated round by round, since this machine's speed drifts by
tens of per cent from one minute to the next:
- `callserver`: `FastAgiServer` with a handler that sets one variable;
- `asyncio streams`: `asyncio.start_server` reading the block, writing the command, reading the
  reply, closing: the plain way to write it, as a yardstick (the ratio is what to compare).

Command: `.venv/bin/python -m bench.agi_session_bench` (`--sessions 2000 --rates 100,1000 --rounds 3`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

from callserver.agi.server import AgiSession, FastAgiServer

HEADERS = (
    "".join(
        f"agi_{key}: {value}\n"
        for key, value in [
            ("network", "yes"),
            ("network_script", "agent"),
            ("request", "agi://127.0.0.1:4573/agent"),
            ("channel", "PJSIP/agent-00000001"),
            ("language", "en"),
            ("type", "PJSIP"),
            ("uniqueid", "1700000000.1"),
            ("version", "22.0.0"),
            ("callerid", "100"),
            ("calleridname", "Agent"),
            ("callingpres", "0"),
            ("callingani2", "0"),
            ("callington", "0"),
            ("callingtns", "0"),
            ("dnid", "unknown"),
            ("rdnis", "unknown"),
            ("context", "callserver-agent"),
            ("extension", "s"),
            ("priority", "3"),
            ("enhanced", "0.0"),
            ("accountcode", ""),
            ("threadid", "140000000000"),
        ]
    )
    + "\n"
).encode()
SERVERS = ("callserver", "asyncio streams")


async def _serve(kind: str, sessions: int) -> None:
    """The server process: print the port, then the CPU µs a session once `sessions` are done."""
    done = 0
    finished = asyncio.Event()
    started: list[float] = []

    def count() -> None:
        nonlocal done
        done += 1
        if done == 1:
            started.append(time.process_time())
        if done == sessions:
            finished.set()

    if kind == "callserver":

        async def handler(session: AgiSession) -> None:
            await session.set_variable("CS_ACCEPT", "bridge")
            count()

        server = FastAgiServer("127.0.0.1", 0, handler)
        await server.start()
        port = server.port
    else:

        async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\n\n")
            writer.write(b'SET VARIABLE CS_ACCEPT "bridge"\n')
            await writer.drain()
            await reader.readline()
            writer.close()
            await writer.wait_closed()
            count()

        plain_server = await asyncio.start_server(plain, "127.0.0.1", 0)
        port = plain_server.sockets[0].getsockname()[1]
    print(port, flush=True)
    await finished.wait()
    await asyncio.sleep(0.05)  # the last sessions' closes
    print(f"{(time.process_time() - started[0]) / (sessions - 1) * 1e6:.1f}", flush=True)


async def _client(port: int, sessions: int, rate: float) -> None:
    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEADERS)
        await reader.readline()
        writer.write(b"200 result=1\n")
        await reader.read()
        writer.close()

    tasks = []
    start = time.perf_counter()
    for i in range(sessions):
        tasks.append(asyncio.create_task(one()))
        delay = start + (i + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.gather(*tasks)


def _round(kind: str, sessions: int, rate: float) -> float:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.agi_session_bench", "--serve", kind, "--sessions", str(sessions)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        asyncio.run(_client(port, sessions, rate))
        return float(server.stdout.readline())
    finally:
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.agi_session_bench", description=__doc__)
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--rates", default="100,1000", help="sessions a second, comma-separated")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve, args.sessions))
        return
    print(f"{args.sessions} sessions a round, {args.rounds} rounds alternated, median of rounds")
    print(f"{'sessions/s':>10}  {'callserver µs':>13}  {'asyncio streams µs':>18}  ratio")
    for rate in (float(r) for r in args.rates.split(",")):
        times: dict[str, list[float]] = {kind: [] for kind in SERVERS}
        for _ in range(args.rounds):
            for kind in SERVERS:
                times[kind].append(_round(kind, args.sessions, rate))
        ours, plain = (statistics.median(times[kind]) for kind in SERVERS)
        print(f"{rate:>10.0f}  {ours:>13.0f}  {plain:>18.0f}  {ours / plain:.2f}")


if __name__ == "__main__":
    main()
