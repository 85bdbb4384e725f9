"""Child process for test_accept_backoff: a FastAGI server whose process has run out of descriptors.

Prints `READY <port>` once listening and hogging every free descriptor, releases them when a line
arrives on stdin, and prints `CPU <seconds>` (its own CPU time while starved) before exiting on EOF.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import sys
import time

from callserver.agi.server import AgiSession, FastAgiServer


async def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")

    async def handler(session: AgiSession) -> None:
        await session.set_variable("CS_QUEUE", "support")

    server = FastAgiServer("127.0.0.1", 0, handler, max_sessions=8)
    await server.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    hogs = []
    while True:  # take every descriptor left, as a leak elsewhere in the process would
        try:
            hogs.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            break
    print(f"READY {server.port}", flush=True)
    started = time.process_time()
    await reader.readline()
    starved = time.process_time() - started
    for fd in hogs:
        os.close(fd)
    print(f"CPU {starved:.3f}", flush=True)
    await reader.readline()  # EOF: the test is done
    await server.stop()


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    asyncio.run(main())
