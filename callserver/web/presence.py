"""Agents whose desktop is gone: a browser closed (or crashed, or cut off) for longer than
`away_after`, or a web session that expired, pauses the agent with a reason that says so, so
calls stop ringing a phone nobody is watching over. Logging out of the desktop is the explicit
way out (see `api.logout`); coming back is the agent's own choice of status.

The timers are asyncio timer handles on the running loop: this is the web side's I/O adapter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from callserver.acd.model import AgentStatus
from callserver.acd.service import AcdService
from callserver.web.sessions import Session, SessionStore

log = logging.getLogger("callserver.web.presence")

DESKTOP_CLOSED = "desktop closed"
SESSION_EXPIRED = "session expired"


class AgentPresence:
    def __init__(
        self,
        service: AcdService,
        sessions: SessionStore,
        *,
        away_after: float | None,
        clock: Callable[[], float],
        end_session: Callable[[str], None],
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.away_after = away_after
        self.clock = clock
        self.end_session = end_session  # closes the live streams of a session token
        self._connected: dict[str, int] = {}  # agent id -> desktops (live streams) attached
        self._away: dict[str, asyncio.TimerHandle] = {}
        self._expiry: asyncio.TimerHandle | None = None
        sessions.on_expired = self._session_expired
        sessions.on_created = lambda _session: self._watch_sessions()

    # -- desktops attaching and going ---------------------------------------------------------

    def attached(self, agent_id: str) -> None:
        self._connected[agent_id] = self._connected.get(agent_id, 0) + 1
        timer = self._away.pop(agent_id, None)
        if timer is not None:
            timer.cancel()

    def detached(self, agent_id: str) -> None:
        left = max(0, self._connected.get(agent_id, 0) - 1)
        self._connected[agent_id] = left
        if left or self.away_after is None or agent_id in self._away:
            return
        loop = asyncio.get_running_loop()
        self._away[agent_id] = loop.call_later(self.away_after, self._gone, agent_id)

    def _gone(self, agent_id: str) -> None:
        self._away.pop(agent_id, None)
        if not self._connected.get(agent_id):
            self._pause(agent_id, DESKTOP_CLOSED)

    # -- sessions expiring ----------------------------------------------------------------------

    def _watch_sessions(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        due = self.sessions.next_expiry()
        if due is None:
            self._expiry = None
            return
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(max(0.0, due - self.clock()) + 0.001, self._sweep)

    def _sweep(self) -> None:
        self._expiry = None
        self.sessions.expire_due()
        self._watch_sessions()

    def _session_expired(self, session: Session) -> None:
        self.end_session(session.token)
        agent_id = session.principal.agent_id
        if agent_id is not None:
            self._pause(agent_id, SESSION_EXPIRED)

    def _pause(self, agent_id: str, reason: str) -> None:
        agent = self.service.agent(agent_id)
        if agent is None or agent.status is not AgentStatus.AVAILABLE:
            return  # paused or logged out already: their own choice stands
        log.info("agent %s paused: %s", agent_id, reason)
        self.service.set_status(agent_id, AgentStatus.PAUSED, reason)

    def close(self) -> None:
        for timer in self._away.values():
            timer.cancel()
        self._away.clear()
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
