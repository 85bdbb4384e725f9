"""One FastAGI socket read and written straight through the event loop, without a transport.

A FastAGI session is short: Asterisk's header block, a command or two, their replies, the close.
Over asyncio's streams (`open_connection`) each session also paid for a transport and a protocol
pair: three socket queries at set-up, and two loop turns before the first byte could be read (the
protocol's `connection_made`, then the waiter that `open_connection` awaits), one more at the
close. Here the accepted socket is read with `recv` as soon as the session asks, and only when
nothing is there yet does it wait for the loop to say the socket is readable. That halves the loop
turns of a session (`docs/throughput.md`, "FastAGI sessions without a transport").

`AgiStream` reads like `asyncio.StreamReader` (`readline`, `read`, `readuntil`, with the same
limit and end-of-stream rules) and writes like `asyncio.StreamWriter` (`write`, `drain`, `close`),
so that the header reader and the session work on either.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Protocol

_CHUNK = 65536


class AgiReader(Protocol):
    """What the header reader and the session read with: `AgiStream` or `asyncio.StreamReader`."""

    async def readline(self) -> bytes: ...

    async def read(self, n: int = -1) -> bytes: ...

    async def readuntil(self, separator: bytes = b"\n") -> bytes: ...


class AgiWriter(Protocol):
    """What the session writes with: `AgiStream` or `asyncio.StreamWriter`."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def close(self) -> None: ...


class AgiStream:
    """A connected non-blocking socket as a line reader and a writer.

    `close` may come from another task (the server evicting a stuck session) while this one waits
    to read: the reader is taken off the loop before the socket is closed, so that a later socket
    given the same descriptor number is never touched, and the waiting read ends as at the peer's
    close.
    """

    def __init__(self, sock: socket.socket, *, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._limit = limit
        self._loop = loop
        self._buffer = bytearray()
        self._eof = False
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None
        self._out = bytearray()

    # reading

    async def readline(self) -> bytes:
        """Up to and including the next LF; what is left at the peer's close (b"" when nothing is);
        ValueError, dropping the line (or what was read of it), when it is longer than the limit."""
        try:
            return await self.readuntil(b"\n")
        except asyncio.IncompleteReadError as err:
            return err.partial
        except asyncio.LimitOverrunError as err:
            if self._buffer.startswith(b"\n", err.consumed):
                del self._buffer[: err.consumed + 1]
            else:
                self._buffer.clear()
            raise ValueError(err.args[0]) from None

    async def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes (everything to the end when `n` is negative); b"" at the end."""
        if n < 0:
            while await self._fill():
                pass
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if n == 0:
            return b""
        if not self._buffer:
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        """Up to and including `separator`; IncompleteReadError with what came at the peer's close,
        LimitOverrunError (the data kept) when the separator is not within the limit."""
        start = 0
        while True:
            found = self._buffer.find(separator, start)
            if found >= 0:
                end = found + len(separator)
                if found > self._limit:
                    raise asyncio.LimitOverrunError("line longer than the limit", found)
                data = bytes(self._buffer[:end])
                del self._buffer[:end]
                return data
            start = max(len(self._buffer) + 1 - len(separator), 0)
            if start > self._limit:
                raise asyncio.LimitOverrunError("no line end within the limit", start)
            if not await self._fill():
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise asyncio.IncompleteReadError(partial, None)

    async def _fill(self) -> bool:
        """Add what the socket has to the buffer, waiting for it if need be; False at the end."""
        while not self._eof:
            if self._closed:
                self._eof = True
                break
            try:
                data = self._sock.recv(_CHUNK)
            except (BlockingIOError, InterruptedError):
                await self._readable()
                continue
            if not data:
                self._eof = True
                break
            self._buffer += data
            return True
        return False

    async def _readable(self) -> None:
        waiter = self._loop.create_future()
        self._waiter = waiter
        self._loop.add_reader(self._fd, _wake, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if not self._closed:
                self._loop.remove_reader(self._fd)

    # writing

    def write(self, data: bytes) -> None:
        """Send what the socket takes now; `drain` sends the rest."""
        if self._closed:
            raise ConnectionResetError("the FastAGI socket is closed")
        if not self._out:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            data = data[sent:]
        self._out += data

    async def drain(self) -> None:
        if self._out:
            data = bytes(self._out)
            self._out.clear()
            await self._loop.sock_sendall(self._sock, data)

    # closing

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the socket; a read waiting in another task ends as at the peer's close."""
        if self._closed:
            return
        self._closed = True
        waiter = self._waiter
        if waiter is not None:
            self._loop.remove_reader(self._fd)
            _wake(waiter)
        self._sock.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
