"""FastAGI server: accepts Asterisk's AGI(agi://...) connections and hands each to a handler.

Written on asyncio streams instead of panoramisk's fast_agi because that one spins forever,
blocking the whole event loop, when a client closes before the blank line ending the agi_ headers
(a TCP health check does exactly that). Here the headers are read under a timeout with a size
limit; a client that closes early, stalls or sends garbage is logged with its address and dropped
while other sessions go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from callserver.agi.session import AgiError, AgiHangup, AgiResponse, AgiSession, inbound_call

__all__ = [
    "AgiError",
    "AgiHangup",
    "AgiResponse",
    "AgiSession",
    "FastAgiServer",
    "inbound_call",
]

log = logging.getLogger(__name__)

_MAX_HEADERS = 200  # Asterisk sends ~25, plus agi_arg_N
_LINE_LIMIT = 8192


class _BadHeaders(Exception):
    pass


class _Probe(Exception):
    """Connected and closed without a byte: a reachability check (`callserver doctor`), not a call."""


class FastAgiServer:
    """Listens on (host, port); `port` 0 picks a free port, readable from `.port` after start."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: Callable[[AgiSession], Awaitable[None]],
        *,
        header_timeout: float = 5.0,
    ) -> None:
        self.host = host
        self.port = port
        self._handler = handler
        self._header_timeout = header_timeout
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.host, self.port, limit=_LINE_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop accepting, end running sessions (their channels go back to the dialplan)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        sessions = list(self._sessions)
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        await server.wait_closed()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The session runs in a task of ours: asyncio's own per-client task must not be
        # cancelled (Python 3.11 then logs an error from its done callback).
        task = asyncio.create_task(self._session(reader, writer), name=f"agi {_peer(writer)}")
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer(writer)
        try:
            try:
                async with asyncio.timeout(self._header_timeout):
                    env = await _read_env(reader)
            except TimeoutError:
                log.warning(
                    "FastAGI %s: no complete agi_ headers within %g s; dropped",
                    peer,
                    self._header_timeout,
                )
                return
            except _BadHeaders as err:
                log.warning("FastAGI %s: %s; dropped", peer, err)
                return
            except _Probe:
                log.debug("FastAGI %s: connection closed before any header (a probe)", peer)
                return
            session = AgiSession(reader, writer, env, peer)
            log.debug("FastAGI %s: %s for %s", peer, session.script, session.channel)
            await self._run(session)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _run(self, session: AgiSession) -> None:
        try:
            await self._handler(session)
        except AgiHangup as err:
            log.info("FastAGI %s: %s", session.peer, err)
        except AgiError as err:
            log.warning("FastAGI %s (%s): %s", session.peer, session.channel, err)
        except Exception:
            log.exception("FastAGI handler failed for %s (%s)", session.script, session.channel)


async def _read_env(reader: asyncio.StreamReader) -> dict[str, str]:
    """The `agi_key: value` lines up to the blank line."""
    env: dict[str, str] = {}
    while True:
        try:
            raw = await reader.readline()
        except ValueError:
            raise _BadHeaders(f"header line longer than {_LINE_LIMIT} bytes") from None
        if not raw and not env:
            raise _Probe
        if not raw.endswith(b"\n"):
            raise _BadHeaders(f"closed after {len(env)} agi_ headers, before the blank line")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if not env:
                raise _BadHeaders("blank line before any agi_ header")
            return env
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_"):
            raise _BadHeaders(f"not an agi_ header: {line[:60]!r}")
        if len(env) >= _MAX_HEADERS:
            raise _BadHeaders(f"more than {_MAX_HEADERS} headers")
        env[key] = value.removeprefix(" ")


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)
