"""The server process of the crash test: callserver as `callserver run` starts it, plus one line
per fact, written (unbuffered) once the fact has been handed to the fact writer, so that after a
`kill -9` the test knows which facts the server had and when.

Run as `python -m tests.durability.crash_server CONFIG FACTS_FILE`; prints `ready` when serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path

from callserver.app import start_server
from callserver.config import load_settings
from callserver.facts.model import Fact


async def main(config: Path, facts_file: Path) -> None:
    logging.basicConfig(level=logging.WARNING)
    server = await start_server(load_settings(config))
    out = facts_file.open("a", buffering=1, encoding="utf-8")

    def note(fact: Fact) -> None:
        # subscribed after the writer: a fact noted here has been submitted
        call_id, agent_id = getattr(fact, "call_id", None), getattr(fact, "agent_id", None)
        out.write(json.dumps([time.time(), type(fact).__name__, call_id, agent_id, fact.at]) + "\n")

    server.bus.subscribe(note)
    print("ready", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
