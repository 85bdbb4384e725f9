"""The live channel's streams: who gets which message, per-stream sequence numbers and replay buffers.

A stream belongs to one logged-in browser tab and outlives its websocket for a while. While a socket
is attached, the stream keeps a bounded replay buffer, so a tab that reconnects with
`resume=<stream>&last_seq=N` before the server noticed its old socket died gets exactly what it
missed. Once the socket is closed the stream only counts: its buffer is dropped and messages are
numbered but not kept, and a resume after such a gap gets a fresh snapshot. A session keeps at most
`streams_per_session` streams. Facts arrive synchronously from the bus; pops need the store, so they
are completed in tasks and then emitted like any other message. A pop is built
only for an agent with a browser connected; one who connects later gets theirs then, on demand.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from callserver import jsontext
from callserver.acd.control import SpySession
from callserver.acd.metrics import MetricsBook
from callserver.acd.service import AcdService
from callserver.config import QueueThresholds
from callserver.facts.model import AgentStateChanged, AgentStatusChanged, CallOffered, Fact
from callserver.web.agent_times import AgentTimes
from callserver.web.auth import Principal
from callserver.web.messages import live_event
from callserver.web.pops import Pops
from callserver.web.views import agent_view, agents_view, queue_view, queues_view, spy_view, waiting_view

log = logging.getLogger("callserver.web.live")

VERSION = 1
# websocket close codes: 1000 normal, 1001 the peer stopped answering pings, 1008 policy violation
# (bad frames), 1013 try again later
# (reader too slow), 4001 replaced by a newer connection of the same stream, 4008 more live
# connections in this session than allowed (the oldest goes), 4401 logged out or session over
CLOSE_NORMAL = 1000
CLOSE_GONE = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_SLOW = 1013
CLOSE_REPLACED = 4001
CLOSE_TOO_MANY = 4008
CLOSE_LOGGED_OUT = 4401
Json = dict[str, Any]


class Connection:
    """One websocket's outbound side: a bounded list of texts drained by the socket's writer task."""

    def __init__(self, limit: int = 1000) -> None:
        self.pending: deque[str] = deque()
        self.wake = asyncio.Event()
        self.limit = limit
        self.last_seq = 0
        self.closing = False
        self.overflowed = False
        self.close_code = CLOSE_NORMAL

    def push(self, text: str, seq: int | None = None) -> None:
        if self.closing:
            return
        if len(self.pending) >= self.limit:
            # a reader this slow is closed; it resumes from its last sequence number on reconnect
            self.overflowed = True
            self.close(CLOSE_TOO_SLOW)
            return
        self.pending.append(text)
        if seq is not None:
            self.last_seq = seq
        self.wake.set()

    def close(self, code: int = 1000) -> None:
        if not self.closing:
            self.closing, self.close_code = True, code
        self.wake.set()


@dataclass(slots=True)
class Stream:
    id: str
    token: str
    principal: Principal
    buffer: deque[tuple[int, str]]
    seq: int = 0
    conn: Connection | None = None
    detached_at: float | None = None

    def covers(self, last_seq: int) -> bool:
        """Can every message after `last_seq` be replayed from the buffer?"""
        if last_seq < 0 or last_seq > self.seq:
            return False
        if last_seq == self.seq:
            return True
        return bool(self.buffer) and self.buffer[0][0] <= last_seq + 1


def encode(seq: int, kind: str, data: Json) -> str:
    return jsontext.dumps({"v": VERSION, "seq": seq, "type": kind, "data": data})


class LiveHub:
    def __init__(
        self,
        acd: AcdService,
        pops: Pops,
        metrics: MetricsBook,
        clock: Callable[[], float],
        *,
        buffer_size: int = 256,
        linger: float = 300.0,
        outbox_limit: int = 1000,
        times: AgentTimes | None = None,
        thresholds: Mapping[str, QueueThresholds] | None = None,
        streams_per_session: int = 8,
        pbx_connected: bool = True,
    ) -> None:
        self.acd = acd
        self.times = times  # when agents' states began: the monitor's "for" timers
        self.thresholds = thresholds  # per queue: the tiles' colours
        self.pops = pops
        self.metrics = metrics
        self.clock = clock
        self.buffer_size = buffer_size
        self.linger = linger
        self.outbox_limit = outbox_limit
        self.streams_per_session = streams_per_session
        # the PBX link as the desktops show it; `since` None until the first change is seen
        self.pbx_link: Json = {
            "up": pbx_connected,
            "since": None,
            "reason": "" if pbx_connected else "not connected yet",
        }
        self.streams: dict[str, Stream] = {}
        self._audience: dict[str, set[str]] = {}
        # told when an agent's desktop attaches (True) or goes (False): see presence.py
        self.on_presence: Callable[[str, bool], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- streams -----------------------------------------------------------------------------

    def open(
        self, principal: Principal, token: str, resume: str | None, last_seq: int
    ) -> tuple[Stream, Connection]:
        """Attach a new connection: resumed stream with replay, or a stream starting with a snapshot."""
        self._purge()
        conn = Connection(self.outbox_limit)
        stream = self.streams.get(resume or "")
        if stream is not None and stream.principal.login != principal.login:
            stream = None
        resumed = stream is not None and stream.covers(last_seq)
        if stream is None:
            self._make_room(token)
            stream = Stream(secrets.token_urlsafe(12), token, principal, deque(maxlen=self.buffer_size))
            self._add_stream(stream)
        if stream.conn is not None:
            stream.conn.close(CLOSE_REPLACED)
        else:
            self._presence(stream, True)
        stream.conn, stream.detached_at, stream.token = conn, None, token
        conn.last_seq = last_seq if resumed else stream.seq
        hello = {
            "stream": stream.id,
            "resumed": resumed,
            "role": principal.role.value,
            "login": principal.login,
            "agent_id": principal.agent_id,
            "last_seq": stream.seq,
        }
        conn.push(encode(conn.last_seq, "hello", hello))
        if resumed:
            for seq, text in stream.buffer:
                if seq > last_seq:
                    conn.push(text, seq)
        else:
            self._emit(stream, "snapshot", self.snapshot(principal))
        self._pop_on_connect(principal)
        return stream, conn

    def _pop_on_connect(self, principal: Principal) -> None:
        """An agent who connects while a call is offered to them, or in progress, and whose pop was
        never built (no browser was connected then) gets it now."""
        if principal.is_supervisor or principal.agent_id is None:
            return
        agent = self.acd.agent(principal.agent_id)
        if agent is None or agent.call_id is None or self.pops.cached(agent.call_id) is not None:
            return
        self._start_pop(agent.call_id, principal.agent_id)

    def detach(self, stream: Stream, conn: Connection) -> None:
        """The socket closed: from now on the stream only numbers its messages."""
        if stream.conn is conn:
            stream.conn, stream.detached_at = None, self.clock()
            self._presence(stream, False)
            stream.buffer.clear()

    def _presence(self, stream: Stream, attached: bool) -> None:
        agent_id = stream.principal.agent_id
        if agent_id is not None and self.on_presence is not None:
            self.on_presence(agent_id, attached)

    def _make_room(self, token: str) -> None:
        """Keep a session under `streams_per_session`: the oldest detached stream goes first,
        else the oldest open one is closed (a tab opening sockets in a loop cannot grow memory)."""
        own = [s for s in self.streams.values() if s.token == token]
        while len(own) >= self.streams_per_session:
            detached = [s for s in own if s.conn is None]
            victim = detached[0] if detached else own[0]
            own.remove(victim)
            self._remove_stream(victim.id)
            if victim.conn is not None:
                victim.conn.close(CLOSE_TOO_MANY)

    def drop_session(self, token: str) -> None:
        """Logout: the session's streams end now and cannot be resumed."""
        for sid in [s.id for s in self.streams.values() if s.token == token]:
            stream = self._remove_stream(sid)
            if stream.conn is not None:
                stream.conn.close(CLOSE_LOGGED_OUT)
                stream.conn = None
                self._presence(stream, False)

    def control(self, conn: Connection, kind: str, data: Json) -> None:
        """A message outside the stream (hello, ping, error): not numbered, never replayed."""
        conn.push(encode(conn.last_seq, kind, data))

    def _purge(self) -> None:
        horizon = self.clock() - self.linger
        for sid in [
            s.id for s in self.streams.values() if s.detached_at is not None and s.detached_at < horizon
        ]:
            self._remove_stream(sid)

    # streams by who may see a message: "*" for supervisors, else an agent id; a fact reaches
    # its audience without visiting every connected browser
    def _add_stream(self, stream: Stream) -> None:
        self.streams[stream.id] = stream
        key = "*" if stream.principal.is_supervisor else stream.principal.agent_id or ""
        self._audience.setdefault(key, set()).add(stream.id)

    def _remove_stream(self, sid: str) -> Stream:
        stream = self.streams.pop(sid)
        key = "*" if stream.principal.is_supervisor else stream.principal.agent_id or ""
        self._audience.get(key, set()).discard(sid)
        return stream

    def _emit(self, stream: Stream, kind: str, data: Json) -> None:
        stream.seq += 1
        if stream.conn is None:
            return  # nobody reads: the number is kept, the message is not (resume gets a snapshot)
        text = encode(stream.seq, kind, data)
        stream.buffer.append((stream.seq, text))
        stream.conn.push(text, stream.seq)

    # -- what each role sees -----------------------------------------------------------------

    def snapshot(self, principal: Principal) -> Json:
        now = self.clock()
        if principal.is_supervisor:
            return {
                "agents": agents_view(self.acd, self.times),
                "waiting": waiting_view(self.acd, now),
                "queues": queues_view(self.acd, self.metrics, now, self.thresholds),
                "pbx_link": dict(self.pbx_link),
            }
        agent = self.acd.agent(principal.agent_id or "")
        pop = self.pops.current_for_agent(principal.agent_id or "")
        return {
            "me": agent_view(agent) if agent else None,
            "pop": pop.data if pop else None,
            "pbx_link": dict(self.pbx_link),
        }

    def pbx_link_changed(self, up: bool, at: float, reason: str = "") -> None:
        """The AMI link went up or down: every desktop shows (or clears) its banner."""
        if up == self.pbx_link["up"] and self.pbx_link["since"] is not None:
            return
        self.pbx_link = {"up": up, "since": at, "reason": "" if up else reason}
        for stream in list(self.streams.values()):
            self._emit(stream, "pbx.link", dict(self.pbx_link))

    def _send(
        self, kind: str, data: Json, agent_id: str | None, supervisors: bool = True, also: str | None = None
    ) -> None:
        targets: set[str] = set(self._audience.get("*", ())) if supervisors else set()
        for agent in (agent_id, also):
            if agent is not None:
                targets |= self._audience.get(agent, set())
        for sid in sorted(targets):
            self._emit(self.streams[sid], kind, data)

    def send(self, kind: str, data: Json, agent_id: str | None, *, supervisors: bool = True) -> None:
        """A message of another capability (campaign tiles, preview cards, pops) for supervisors
        and/or one agent; its type must be in schema.json like every other."""
        self._send(kind, data, agent_id, supervisors)

    def voicemail_waiting(self, box: str, new: int, at: float) -> None:
        """Message-waiting indication: supervisors see every box, an agent their own (`agent:<id>`)."""
        agent_id = box.removeprefix("agent:") if box.startswith("agent:") else None
        self._send("voicemail.waiting", {"box": box, "new": new, "at": at}, agent_id)

    def spy_changed(self, session: SpySession) -> None:
        """A supervisor's monitoring call started, moved or ended: every monitor shows who listens."""
        self._send("monitor.spy", spy_view(session) or {}, None)

    def ivr_progress(
        self,
        call_id: str,
        flow: str,
        node: str,
        at: float,
        ended: bool,
        outcome: str | None,
        caller_num: str = "",
    ) -> None:
        """Where a caller is in the IVR, for the supervisor monitor."""
        data = {
            "call_id": call_id,
            "flow": flow,
            "node": node,
            "at": at,
            "ended": ended,
            "outcome": outcome,
            "caller_num": caller_num,
        }
        self._send("ivr.progress", data, None)

    def on_fact(self, fact: Fact) -> None:
        """Bus subscriber: map the fact to its public message and send it to whoever may see it.

        The live book must have seen the fact first (it subscribes before the hub does).
        """
        event = live_event(fact)
        if event is None:
            return
        self._send(event.kind, event.data, event.agent_id, also=event.other_agent)
        if isinstance(fact, CallOffered):
            self._start_pop(fact.call_id, fact.agent_id)
        if not self._audience.get("*"):
            return  # queue tiles are for supervisors: none is watching
        queues = set(event.queues)
        if isinstance(fact, AgentStatusChanged | AgentStateChanged):
            queues |= self._queues_of(fact.agent_id)
        now = self.clock()
        for name in sorted(q for q in queues if self.acd.has_queue(q)):
            self._send("queue.stats", queue_view(self.acd, self.metrics, name, now, self.thresholds), None)

    def _queues_of(self, agent_id: str) -> set[str]:
        agent = self.acd.agent(agent_id)
        return set(agent.queues) if agent else set()

    def _connected(self, agent_id: str) -> bool:
        """Has this agent a websocket open now (not just a stream kept for a reconnect)?"""
        streams = self.streams
        return any(streams[sid].conn is not None for sid in self._audience.get(agent_id, ()))

    def _start_pop(self, call_id: str, agent_id: str) -> None:
        if not self._connected(agent_id):
            return  # nobody would see it: built when the agent connects
        base = self.pops.capture(call_id)
        if base is None:
            return
        base["agent_id"] = agent_id
        task = asyncio.get_running_loop().create_task(self._pop(base, agent_id), name=f"pop-{call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pop(self, base: Json, agent_id: str) -> None:
        try:
            entry = await self.pops.complete(base)
        except Exception:
            log.exception("screen-pop for call %s: customer lookup failed", base["call_id"])
            entry = None
        data = entry.data if entry is not None else dict(base, match="none", customers=[], wait=0.0)
        self._send("pop", data, agent_id, supervisors=False)

    async def idle(self) -> None:
        """Wait until no pop is being prepared (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for stream in self.streams.values():
            if stream.conn is not None:
                stream.conn.close()
        self.streams.clear()
        self._audience.clear()  # a closed hub sends nothing (capabilities stopping after it)
