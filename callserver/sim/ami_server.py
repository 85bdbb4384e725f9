"""AMI over TCP as Asterisk 22 serves it: banner, Login, per-session event stream, Logoff.

Each connection is one session task; PBX events are written to every logged-in session with
events on, in the order the PBX produced them. Actions other than the session ones are delegated
to `ami_actions.Actions`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Awaitable, Callable

from callserver.config import AmiConfig
from callserver.sim import messages as m
from callserver.sim.ami_filters import FilterRefused, SessionFilters, parse_filter
from callserver.sim.manager_user import ManagerUser

log = logging.getLogger("callserver.sim.ami")

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
MAX_ACTION = 64 * 1024


class AmiSession:
    """One AMI client connection."""

    def __init__(self, server: AmiServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server, self.reader, self.writer = server, reader, writer
        self.authenticated = False
        self.events = True
        peer = writer.get_extra_info("peername") or ("?", 0)
        local = writer.get_extra_info("sockname") or ("?", 0)
        self.remote = f"IPV4/TCP/{peer[0]}/{peer[1]}"
        self.local = f"IPV4/TCP/{local[0]}/{local[1]}"
        self.session_id = f"0x{id(self):x}"
        self.since = ""
        self.filters = SessionFilters()
        self._pending: list[bytes] = []

    def send(self, msg: m.Message) -> None:
        self._write(m.encode(msg))

    def event(self, msg: m.Message, encoded: bytes | None = None) -> None:
        """Send `msg` if this session reads it (`encoded`: its wire form, shared by all sessions)."""
        if self.authenticated and self.events and self.server.user.may_read(_privilege(msg)):
            data = m.encode(msg) if encoded is None else encoded
            if self.filters.allows(msg, data):
                self._write(data)

    def _write(self, data: bytes) -> None:
        """Queue `data`; what one turn of the loop produces goes out in one write.

        Every event the PBX emits while handling one input (a call's hang-up is a dozen) would
        otherwise be a send of its own: the same bytes in the same order, in more segments, each
        one waking the client."""
        if self.writer.is_closing():
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending and not self.writer.is_closing():
            self.writer.write(b"".join(self._pending))
        self._pending.clear()

    def close(self) -> None:
        if not self.writer.is_closing():
            self._flush()
            self.writer.close()

    async def run(self) -> None:
        self.writer.write(BANNER)
        try:
            while not self.writer.is_closing():
                try:
                    raw = await self.reader.readuntil(b"\r\n\r\n")
                except asyncio.LimitOverrunError:
                    log.warning("AMI client %s sent an oversized action; closing", self.remote)
                    return
                except asyncio.IncompleteReadError:
                    return
                action = m.parse_action(raw.decode(errors="replace"))
                if not await self.dispatch(action):
                    return
        except ConnectionError:
            return
        finally:
            self.close()

    async def dispatch(self, action: dict[str, str | list[str]]) -> bool:
        """Answer one action; False when the session must end."""
        name = str(action.get("Action", "")).strip()
        aid_raw = action.get("ActionID")
        aid = aid_raw if isinstance(aid_raw, str) else None
        lname = name.lower()
        if not name:
            self.send(m.response(aid, "Error", [("Message", "Missing action in request")]))
            return True
        if lname == "login":
            return self.login(action, aid)
        if lname == "logoff":
            self.send(m.response(aid, "Goodbye", [("Message", "Thanks for all the fish.")]))
            return False
        if not self.authenticated:
            self.send(m.response(aid, "Error", [("Message", "Permission denied")]))
            return True
        if lname == "ping":
            stamp = f"{time.time():.6f}"
            self.send(m.response(aid, "Success", [("Ping", "Pong"), ("Timestamp", stamp)]))
            return True
        if lname == "events":
            mask = str(action.get("EventMask", "on")).lower()
            self.events = mask not in ("off", "none", "")
            self.send(m.response(aid, "Success", [("Events", "On" if self.events else "Off")]))
            return True
        if lname == "filter":
            self.add_filter(action, aid)
            return True
        handler = self.server.handlers.get(lname)
        if handler is None:
            text = f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
            self.send(m.response(aid, "Error", [("Message", text)]))
            self.server.broadcast(
                self._security("RequestBadFormat", "Error", [("RequestType", f"Action: {name}")])
            )
            return True
        await handler(self, action, aid)
        return True

    def add_filter(self, action: dict[str, str | list[str]], aid: str | None) -> None:
        """`Filter` (write class `system`): an event filter for this session only."""
        if "system" not in self.server.user.write:
            self.send(m.response(aid, "Error", [("Message", "Permission denied")]))
            return
        if str(action.get("Operation", "")).lower() != "add":
            self.send(m.response(aid, "Error", [("Message", "Unknown operation")]))
            return
        try:
            entry = parse_filter(str(action.get("MatchCriteria", "")), str(action.get("Filter", "")))
        except FilterRefused as err:
            self.send(m.response(aid, "Error", [("Message", str(err))]))
            return
        self.filters.add(entry)
        self.send(m.response(aid, "Success", [("Message", "Success")]))

    def login(self, action: dict[str, str | list[str]], aid: str | None) -> bool:
        cfg = self.server.config
        if action.get("Username") != cfg.username or action.get("Secret") != cfg.secret:
            log.warning("AMI login failed for %r from %s", action.get("Username"), self.remote)
            self.send(m.response(aid, "Error", [("Message", "Authentication failed")]))
            return False
        self.authenticated = True
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        self.since = stamp + "+0000"
        if str(action.get("Events", "on")).lower() == "off":
            self.events = False
        self.send(m.response(aid, "Success", [("Message", "Authentication accepted")]))
        uptime = str(int(time.monotonic() - self.server.started))
        self.event(
            [
                ("Event", "FullyBooted"),
                ("Privilege", "system,all"),
                ("Uptime", uptime),
                ("LastReload", uptime),
                ("Status", "Fully Booted"),
            ]
        )
        self.event(self._security("SuccessfulAuth", "Informational", []))
        log.debug("AMI client %s logged in", self.remote)
        return True

    def _security(self, event: str, severity: str, fields: m.Message) -> m.Message:
        """Security-class events (SuccessfulAuth, RequestBadFormat) in Asterisk's field order."""
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        head: m.Message = [
            ("Event", event),
            ("Privilege", "security,all"),
            ("EventTV", now),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", "1"),
        ]
        where: m.Message = [
            ("SessionID", self.session_id),
            ("LocalAddress", self.local),
            ("RemoteAddress", self.remote),
        ]
        account = ("AccountID", self.server.config.username)
        if event == "SuccessfulAuth":
            return [*head, account, *where, ("UsingPassword", "0"), ("SessionTV", self.since)]
        return [*head, *where, *fields, ("SessionTV", self.since), account]


Handler = Callable[[AmiSession, dict[str, str | list[str]], str | None], Awaitable[None]]


def _privilege(msg: m.Message) -> str:
    if len(msg) > 1 and msg[1][0] == "Privilege":
        return msg[1][1]  # where every event has it
    return next((value for key, value in msg if key == "Privilege"), "")


class AmiServer:
    """The listening socket and its sessions; `broadcast` is the PBX's event listener."""

    def __init__(
        self,
        config: AmiConfig,
        handlers: dict[str, Handler],
        host: str,
        port: int,
        user: ManagerUser | None = None,
    ) -> None:
        self.config, self.handlers = config, handlers
        self.user = user or ManagerUser()
        self.host, self.port = host, port
        self.sessions: set[AmiSession] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.started = time.monotonic()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, self.host, self.port, limit=MAX_ACTION)
        self.port = self.server.sockets[0].getsockname()[1]
        log.debug("AMI listening on %s:%d", self.host, self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        log.debug("AMI client connected from %s", session.remote)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            if task is not None:
                self.tasks.discard(task)
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
            log.debug("AMI client %s disconnected", session.remote)

    def broadcast(self, msg: m.Message) -> None:
        encoded = m.encode(msg) if self.sessions else b""
        for session in list(self.sessions):
            session.event(msg, encoded)

    def drop_clients(self) -> None:
        """Cut every AMI connection (calls go on), as a network fault or restart would."""
        for session in list(self.sessions):
            session.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        self.drop_clients()
        if self.tasks:
            # closing the transports ends each session's read; cancelling the stream callback
            # tasks instead makes asyncio log their CancelledError
            await asyncio.wait(set(self.tasks), timeout=2.0)
        if self.server is not None:
            await self.server.wait_closed()
            self.server = None
