"""A TCP relay between callserver and the PBX's AMI port, so the soak can cut the link the way a
network does: `cut()` closes every connection at once (the server sees EOF); `stall(seconds)` stops
passing bytes but keeps the sockets open (a half-open link only the server's ping watchdog can
notice), then closes them. Connections made after a cut or during a stall are relayed normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger("soak.proxy")


class _Pair:
    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client, self.upstream = client, upstream
        self.flowing = asyncio.Event()
        self.flowing.set()

    def close(self) -> None:
        for writer in (self.client, self.upstream):
            if not writer.is_closing():
                writer.close()


class AmiProxy:
    def __init__(self, listen_port: int, target_port: int, host: str = "127.0.0.1") -> None:
        self.listen_port, self.target_port, self.host = listen_port, target_port, host
        self.pairs: set[_Pair] = set()
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        if self._server is not None:
            await self._server.wait_closed()

    def cut(self) -> int:
        """Close every relayed connection now; returns how many there were."""
        pairs = list(self.pairs)
        for pair in pairs:
            pair.close()
        return len(pairs)

    async def stall(self, seconds: float) -> int:
        """Stop relaying on every current connection for `seconds`, then close them."""
        pairs = list(self.pairs)
        for pair in pairs:
            pair.flowing.clear()
        await asyncio.sleep(seconds)  # the length of the outage, not a poll
        for pair in pairs:
            pair.close()
            pair.flowing.set()
        return len(pairs)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.close()  # the PBX is down: refused, as it would be without the relay
            return
        pair = _Pair(writer, up_writer)
        self.pairs.add(pair)
        self.connections += 1
        try:
            await asyncio.gather(self._pipe(reader, up_writer, pair), self._pipe(up_reader, writer, pair))
        finally:
            self.pairs.discard(pair)
            pair.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: _Pair) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                await pair.flowing.wait()
                if writer.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        pair.close()
