"""FastAGI server: accepts Asterisk's AGI(agi://...) connections and hands each to a handler.

Written on asyncio instead of panoramisk's fast_agi because that one spins forever, blocking the
whole event loop, when a client closes before the blank line ending the agi_ headers (a TCP health
check does exactly that). Here:
- only allowlisted PBX addresses get a session; others are closed at once;
- the headers are read under a timeout with a size limit, every command has a reply deadline;
- sessions are capped below the descriptor limit; when full, the session stuck longest on its
  headers or on a reply Asterisk gives at once (a hung peer) makes way for the next connection,
  which otherwise waits in the listen backlog: peers that connect and never answer cannot starve
  real calls, nor take the descriptors the web API and the database need;
- accept errors (EMFILE...) back off instead of spinning;
- every complaint about a peer is a rate-limited line (see `callserver.logs.PeerLog`).

Connections are taken by a reader callback on the listening socket, as many as are waiting at each
wake-up, rather than by a `sock_accept` await per connection: that await registers and unregisters
the socket with epoll for every call, and the loop turns it costs were a sixth of a session's CPU.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from callserver.agi.guard import LOOPBACK, PeerAllowlist, session_budget
from callserver.agi.headers import LINE_LIMIT, BadHeaders, read_env
from callserver.agi.session import (
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiResponse,
    AgiSession,
    AgiTimeout,
    inbound_call,
)
from callserver.agi.stream import AgiStream
from callserver.config import AgiConfig
from callserver.logs import PeerLog, peer_host, printable

__all__ = [
    "AgiError",
    "AgiHangup",
    "AgiProtocolError",
    "AgiResponse",
    "AgiSession",
    "AgiTimeout",
    "BadHeaders",
    "FastAgiServer",
    "ScriptRouter",
    "inbound_call",
    "read_env",
]

log = logging.getLogger(__name__)

Handler = Callable[[AgiSession], Awaitable[None]]

# a real Asterisk writes its headers at once and answers ANSWER / SET VARIABLE in milliseconds: a
# session waiting longer than this on either is taken to be stuck when its place is needed
STALLED = 1.0
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_BACKOFF_MIN, _BACKOFF_MAX = 0.05, 2.0
# connections taken at one wake-up of the listening socket before other callbacks get their turn
_ACCEPT_BATCH = 32


class ScriptRouter:
    """FastAGI dispatch by script name (`agi://host:port/<script>`)."""

    def __init__(self, scripts: Mapping[str, Handler]) -> None:
        self.scripts = dict(scripts)

    async def __call__(self, session: AgiSession) -> None:
        script = self.scripts.get(session.script)
        if script is None:
            raise AgiError(0, f"unknown script {printable(session.script, 40)}")
        await script(session)


@dataclass(slots=True)
class _Slot:
    """A running session as the cap sees it."""

    task: asyncio.Task[None]
    opened: float
    session: AgiSession | None = None

    def stalled_since(self) -> float | None:
        if self.session is None:
            return self.opened  # still in the headers
        return self.session.quick_wait_since


class _Probe(Exception):
    """Connected and closed without a byte: a reachability check (`callserver doctor`), not a call."""


class FastAgiServer:
    """Listens on (host, port); `port` 0 picks a free port, readable from `.port` after start."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: Handler,
        *,
        header_timeout: float = 5.0,
        reply_timeout: float = 10.0,
        media_timeout: float = 300.0,
        sounds_dir: str = "",
        allowed_peers: Iterable[str] = LOOPBACK,
        max_sessions: int = 500,
        stall_after: float = STALLED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self._handler = handler
        self._header_timeout = header_timeout
        self._reply_timeout = reply_timeout
        self._media_timeout = media_timeout
        self._sounds_dir = sounds_dir
        self.allowlist = PeerAllowlist(allowed_peers)
        self._wanted_sessions = max_sessions
        self.max_sessions = max_sessions  # after start: the cap the descriptor limit allows
        self._stall_after = stall_after
        self._clock = clock
        self._sockets: list[socket.socket] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching = False  # the listening sockets' readers are registered
        self._retry: asyncio.TimerHandle | None = None  # when to look again after a pause
        self._backoff = 0.0
        # an allowed connection taken while the server was full: first in when a place frees
        self._held: tuple[socket.socket, object] | None = None
        self._slots: dict[asyncio.Task[None], _Slot] = {}
        self._peer_log = PeerLog(log)
        # counters for tests and monitoring
        self.refused = 0
        self.evicted = 0

    @classmethod
    def from_config(cls, config: AgiConfig, handler: Handler) -> FastAgiServer:
        return cls(
            config.host,
            config.port,
            handler,
            header_timeout=config.header_timeout,
            reply_timeout=config.reply_timeout,
            media_timeout=config.media_timeout,
            sounds_dir=str(config.sounds_dir.resolve()) if config.sounds_dir is not None else "",
            allowed_peers=config.allowed_peers,
            max_sessions=config.max_sessions,
        )

    @property
    def sessions(self) -> int:
        return len(self._slots)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._peer_log = PeerLog(log, schedule=loop.call_later)
        budget = session_budget(self._wanted_sessions)
        self.max_sessions = budget.sessions
        if budget.raised_from is not None:
            log.info("open-file limit raised from %d to %d", budget.raised_from, budget.soft)
        if budget.sessions < self._wanted_sessions:
            log.warning(
                "open-file limit %d leaves room for %d FastAGI sessions, not the %d configured",
                budget.soft,
                budget.sessions,
                self._wanted_sessions,
            )
        self._sockets = await _listen(self.host, self.port)
        self.port = self._sockets[0].getsockname()[1]
        self._loop = loop
        self._watch()
        log.info(
            "FastAGI listening on %s:%s for %s, at most %d sessions",
            self.host,
            self.port,
            self.allowlist,
            self.max_sessions,
        )

    async def stop(self) -> None:
        """Stop accepting, end running sessions (their channels go back to the dialplan)."""
        if not self._sockets:
            return
        self._unwatch(None)
        if self._held is not None:
            self._held[0].close()
            self._held = None
        for sock in self._sockets:
            sock.close()
        self._sockets = []
        sessions = list(self._slots)
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        self._peer_log.flush()

    def _watch(self) -> None:
        """Take connections again: register the listening sockets' readers."""
        self._cancel_retry()
        if self._watching or self._loop is None or not self._sockets:
            return
        for sock in self._sockets:
            self._loop.add_reader(sock.fileno(), self._accept, sock)
        self._watching = True

    def _unwatch(self, retry_in: float | None) -> None:
        """Leave new connections in the kernel's listen backlog (no descriptor of ours); look again
        in `retry_in` seconds, or when a session ends if None."""
        self._cancel_retry()
        if self._watching and self._loop is not None:
            for sock in self._sockets:
                self._loop.remove_reader(sock.fileno())
            self._watching = False
        if retry_in is not None and self._loop is not None:
            self._retry = self._loop.call_later(retry_in, self._resume)

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    def _resume(self) -> None:
        self._retry = None
        if self._held is not None and not self._admit_held():
            return
        self._watch()

    def _accept(self, sock: socket.socket) -> None:
        """The listening socket is readable: take the connections waiting, up to a batch."""
        for _ in range(_ACCEPT_BATCH):
            try:
                conn, address = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:
                if err.errno in _OUT_OF_RESOURCES:
                    self._backoff = min(max(self._backoff * 2, _BACKOFF_MIN), _BACKOFF_MAX)
                else:  # ECONNABORTED and friends: that client is gone, the next one may be fine
                    self._backoff = _BACKOFF_MIN
                self._peer_log.warning(
                    "(accept)",
                    errno.errorcode.get(err.errno or 0, "error"),
                    "FastAGI cannot accept connections: %s; retrying in %.2f s",
                    err.strerror or err,
                    self._backoff,
                )
                self._unwatch(self._backoff)
                return
            self._backoff = 0.0
            conn.setblocking(False)
            if self.allowlist.allows(peer_host(address)) and not self._has_room():
                self._held = (conn, address)
                self._unwatch(self._stall_wait())
                return
            self._admit(conn, address)

    def _has_room(self) -> bool:
        return len(self._slots) < self.max_sessions or self._evict_stuck()

    def _admit_held(self) -> bool:
        """Start the held connection's session if there is room now; False while still full.

        While it waits, the next connections wait in the kernel's listen backlog: a real Asterisk
        waits for its script, so its call goes through as soon as there is room.
        """
        assert self._held is not None
        if not self._has_room():
            self._unwatch(self._stall_wait())
            return False
        conn, address = self._held
        self._held = None
        self._admit(conn, address)
        return True

    def _stall_wait(self) -> float | None:
        """Seconds until the session stalled longest may be evicted; None when none is stalled (then
        only a session's end makes room)."""
        stalls = [since for slot in self._slots.values() if (since := slot.stalled_since()) is not None]
        if not stalls:
            return None
        return max(min(stalls) + self._stall_after - self._clock(), 0.01)

    def _admit(self, conn: socket.socket, address: object) -> None:
        host = peer_host(address)
        if not self.allowlist.allows(host):
            self.refused += 1
            conn.close()
            self._peer_log.warning(
                host,
                "refused",
                "FastAGI connection from %s refused: not in agi.allowed_peers (%s)",
                host,
                self.allowlist,
            )
            return
        task = asyncio.create_task(self._session(conn, address), name=f"agi {_format(address)}")
        self._slots[task] = _Slot(task, self._clock())
        task.add_done_callback(self._session_done)

    def _session_done(self, task: asyncio.Task[None]) -> None:
        self._slots.pop(task, None)
        if not self._watching and self._sockets and (self._retry is None or self._held is not None):
            self._resume()  # paused for want of room (not backing off from accept errors)

    def _evict_stuck(self) -> bool:
        """Make room by ending the session stuck longest; False when none is stuck."""
        horizon = self._clock() - self._stall_after
        oldest: _Slot | None = None
        oldest_since = horizon
        for slot in self._slots.values():
            since = slot.stalled_since()
            if since is not None and since <= oldest_since:
                oldest, oldest_since = slot, since
        if oldest is None:
            return False
        del self._slots[oldest.task]
        self.evicted += 1
        if oldest.session is not None:
            oldest.session.abort("stuck on a reply while the FastAGI server was full")
            peer = oldest.session.peer
        else:
            oldest.task.cancel()
            peer = oldest.task.get_name().removeprefix("agi ")
        self._peer_log.warning(
            peer.rsplit(":", 1)[0],
            "evicted",
            "FastAGI %s: closed to make room, stuck for %.1f s",
            peer,
            self._clock() - oldest_since,
        )
        return True

    async def _session(self, conn: socket.socket, address: object) -> None:
        peer = _format(address)
        host = peer_host(address)
        stream = AgiStream(conn, limit=LINE_LIMIT, loop=asyncio.get_running_loop())
        try:
            try:
                async with asyncio.timeout(self._header_timeout):
                    env = await read_env(stream)
            except TimeoutError:
                self._peer_log.warning(
                    host,
                    "headers timeout",
                    "FastAGI %s: no complete agi_ headers within %g s; dropped",
                    peer,
                    self._header_timeout,
                )
                return
            except BadHeaders as err:
                self._peer_log.warning(host, "bad headers", "FastAGI %s: %s; dropped", peer, err)
                return
            except ConnectionError as err:
                self._peer_log.warning(host, "reset", "FastAGI %s: %s; dropped", peer, err)
                return
            session = AgiSession(
                stream,
                stream,
                env,
                peer,
                reply_timeout=self._reply_timeout,
                media_timeout=self._media_timeout,
                sounds_dir=self._sounds_dir,
                clock=self._clock,
            )
            slot = self._slots.get(asyncio.current_task())  # type: ignore[arg-type]
            if slot is not None:
                slot.session = session
            log.debug("FastAGI %s: %s for %s", peer, printable(session.script, 40), session.channel)
            await self._run(session, host)
        finally:
            stream.close()

    async def _run(self, session: AgiSession, host: str) -> None:
        channel = session.label
        try:
            await self._handler(session)
        except (AgiTimeout, AgiProtocolError):
            pass  # reported below from session.failure, whether the handler let it through or not
        except AgiHangup as err:
            log.info("FastAGI %s: %s", session.peer, err)
        except AgiError as err:
            self._peer_log.warning(host, "AGI error", "FastAGI %s (%s): %s", session.peer, channel, err)
        except Exception:
            log.exception("FastAGI handler failed for %s (%s)", printable(session.script, 40), channel)
        failure = session.failure
        if failure is not None:
            self._peer_log.warning(
                host, type(failure).__name__, "FastAGI %s (%s): %s; closed", session.peer, channel, failure
            )


async def _listen(host: str, port: int) -> list[socket.socket]:
    """Non-blocking listening sockets on every address `host` resolves to (one port for all)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _name, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(512)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _format(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)
