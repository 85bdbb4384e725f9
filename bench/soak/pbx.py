"""The PBX simulator as a process of its own for the soak: `python -m bench.soak.pbx CONFIG PORT`.

It serves AMI on PORT (the soak's relay sits between it and callserver), sends callers at the
configured rate and answers as the configured agents' phones. It takes one command per line on
stdin and answers on stdout:

  stats  -> `stats {"placed": ..., "finished": ..., "channels": ..., ...}`
  drain  -> stops new callers, waits until every caller has hung up, then `drained {...}`

SIGTERM or SIGINT stops it cleanly; the soak restarts it with SIGKILL (Asterisk crashing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from callserver.checks import load_checked
from callserver.sim.simulator import PbxSimulator


def _stats(sim: PbxSimulator) -> dict[str, Any]:
    counters = sim.counters
    return {
        "placed": counters["placed"],
        "finished": sum(n for key, n in counters.items() if key != "placed"),
        "channels": len(sim.pbx.channels),
        "outcomes": {key: n for key, n in counters.items() if key != "placed"},
        "dialplan_errors": len(sim.dialplan_errors),
    }


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _commands(sim: PbxSimulator, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while raw := await reader.readline():
        command = raw.decode().strip()
        if command == "stats":
            _say("stats " + json.dumps(_stats(sim)))
        elif command == "drain":
            sim.stop_traffic()
            await sim.wait_finished(sim.counters["placed"])
            _say("drained " + json.dumps(_stats(sim)))
        elif command:
            _say(f"error unknown command {command!r}")
    stop.set()  # the soak went away: so do we


async def main(config: Path, port: int) -> None:
    settings = load_checked(config).settings
    sim = PbxSimulator(settings, ami_port=port, answer_time=0.05, playback_time=0.1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await sim.start()
    sim.start_traffic()
    _say(f"ready {sim.ami_port}")
    commands = asyncio.create_task(_commands(sim, stop))
    try:
        await stop.wait()
    finally:
        commands.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await commands
        await sim.stop()


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
