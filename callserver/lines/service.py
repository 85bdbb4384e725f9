"""Persistent agent lines on the PBX: the agent's phone is called once (at login, or when a campaign
needs it), waits in `[callserver-line]`, and each call is bridged into it with the AMI `Bridge`
action; the line survives each customer hanging up (it continues at its next priority, back to
the wait: the s12 recording). The ACD learns which agents have a line (`AcdService.set_line`) and
bridges their inbound calls into it; the campaign dialler bridges its customers into it.

Who wants an agent's line: the agent's own setting (`persistent_line`, or from the desktop) and
each campaign that has them; it is open while someone wants it and the agent is logged in, and
closed between calls otherwise. A line hung up while bridged takes its peer with it, as the `x`
option of an agent leg's Bridge() does, so no caller is left in silence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ..acd.model import AgentStatus
from ..acd.service import AcdService
from ..facts.model import AgentStatusChanged, Fact
from ..pbx.actions import PbxActions, PbxError
from ..pbx.channels import ChannelNames
from ..pbx.dialplan import Context, Var
from ..pbx.events import BridgeEntered, BridgeLeft, ChannelHungUp, OriginateResult, PbxConnected
from ..pbx.hub import Subscriptions
from .model import Line, LineState, LineView

log = logging.getLogger("callserver.lines")

AGENT = "agent"  # the agent's own wish for a line (a campaign adds `campaign:<name>`)


class LineUnavailable(Exception):
    """The agent has no line up to bridge into."""


class AgentLines:
    def __init__(
        self,
        pbx: PbxActions,
        channels: ChannelNames,
        acd: AcdService,
        *,
        preferences: dict[str, bool] | None = None,
        ring_timeout: float = 30.0,
        retry_after: float = 30.0,
        id_prefix: str = "",
    ) -> None:
        self.pbx = pbx
        self.channels = channels
        self.acd = acd
        self.ring_timeout = ring_timeout
        self.retry_after = retry_after
        self.id_prefix = id_prefix
        self._lines: dict[str, Line] = {}  # agent id -> their line (dialling or up)
        self._by_id: dict[str, Line] = {}
        self._wants: dict[str, set[str]] = {a: {AGENT} for a, on in (preferences or {}).items() if on}
        self._members: dict[str, set[str]] = {}  # bridge id -> channel uniqueids in it
        self._listeners: list[Callable[[str], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._seq = 0

    # -- who wants a line -----------------------------------------------------------------------

    def listen(self, listener: Callable[[str], None]) -> None:
        """`listener(agent_id)` is called whenever that agent's line comes up or goes down."""
        self._listeners.append(listener)

    def preference(self, agent_id: str) -> bool:
        return AGENT in self._wants.get(agent_id, set())

    def set_preference(self, agent_id: str, on: bool) -> None:
        """The agent's own setting: a line at login, used for inbound calls too."""
        self.want(agent_id, AGENT, on)

    def want(self, agent_id: str, who: str, yes: bool) -> None:
        wants = self._wants.setdefault(agent_id, set())
        if yes == (who in wants):
            return
        if yes:
            wants.add(who)
        else:
            wants.discard(who)
        self.review(agent_id)

    def on_fact(self, fact: Fact) -> None:
        """Bus subscriber: a login opens the wanted line, a logout closes it."""
        if isinstance(fact, AgentStatusChanged):
            self.review(fact.agent_id)

    def review(self, agent_id: str) -> None:
        view = self.acd.agent(agent_id)
        if view is None:
            return
        wanted = view.status is not AgentStatus.LOGGED_OUT and bool(self._wants.get(agent_id))
        line = self._lines.get(agent_id)
        if wanted and line is None:
            self._open(agent_id, view.endpoint)
        elif not wanted and line is not None and line.bridge_id is None:
            log.info("agent %s: line %s no longer needed, hanging up", agent_id, line.uniqueid)
            self._spawn(self._hangup(line.uniqueid))

    # -- views ----------------------------------------------------------------------------------

    def line(self, agent_id: str) -> LineView | None:
        line = self._lines.get(agent_id)
        if line is None:
            return None
        return LineView(line.agent_id, line.uniqueid, line.state, line.channel, line.bridge_id is not None)

    def is_up(self, agent_id: str) -> bool:
        line = self._lines.get(agent_id)
        return line is not None and line.state is LineState.UP

    # -- actions --------------------------------------------------------------------------------

    async def bridge(self, agent_id: str, channel: str) -> None:
        """Bridge `channel` (a customer) into the agent's line now; PbxError, LineUnavailable."""
        line = self._lines.get(agent_id)
        if line is None or line.state is not LineState.UP:
            raise LineUnavailable(f"agent {agent_id} has no line up")
        await self.pbx.bridge(channel, line.channel or line.uniqueid)

    async def close_all(self) -> None:
        """Shutdown: hang every line up, wait for what is under way."""
        for line in list(self._lines.values()):
            await self._hangup(line.uniqueid)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _open(self, agent_id: str, endpoint: str) -> None:
        self._seq += 1
        line = Line(agent_id, f"line-{agent_id}-{self.id_prefix}{self._seq}")
        self._lines[agent_id] = self._by_id[line.uniqueid] = line
        log.info("agent %s: calling %s for a persistent line (%s)", agent_id, endpoint, line.uniqueid)
        self._spawn(self._originate(line, endpoint))

    async def _originate(self, line: Line, endpoint: str) -> None:
        try:
            await self.pbx.originate(
                channel=endpoint,
                context=Context.LINE,
                exten="s",
                channel_id=line.uniqueid,
                timeout=self.ring_timeout,
                caller_id='"callserver" <line>',
                variables={Var.AGENT: line.agent_id},
            )
        except PbxError as err:
            log.warning("agent %s: persistent line not placed: %s", line.agent_id, err)
            self._gone(line)
            self._retry(line.agent_id)

    async def _hangup(self, uniqueid: str) -> None:
        try:
            await self.pbx.hangup(uniqueid)
        except PbxError as err:
            log.debug("hang-up of %s: %s", uniqueid, err)

    def _retry(self, agent_id: str) -> None:
        """A wanted line that could not be placed is tried again after `retry_after`."""

        async def later() -> None:
            await asyncio.sleep(self.retry_after)  # a delay between attempts, not a poll
            self.review(agent_id)

        self._spawn(later())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- PBX events -----------------------------------------------------------------------------

    def subscriptions(self) -> Subscriptions:
        return (
            Subscriptions("lines")
            .on(OriginateResult, self._on_originate)
            .on(ChannelHungUp, self._on_hangup)
            .on(BridgeEntered, self._on_bridge_enter)
            .on(BridgeLeft, self._on_bridge_left)
            .on(PbxConnected, self._on_connected)
        )

    def _on_connected(self, event: PbxConnected) -> None:
        """The link is up (again): lines wanted meanwhile are called now."""
        for agent_id in list(self._wants):
            self.review(agent_id)

    def _on_originate(self, event: OriginateResult) -> None:
        line = self._by_id.get(event.uniqueid)
        if line is None or line.state is not LineState.DIALLING:
            return
        if not event.success:
            log.warning("agent %s: the phone did not take the line (reason %d)", line.agent_id, event.reason)
            self._gone(line)
            self._retry(line.agent_id)
            return
        line.move(LineState.UP)
        line.channel = event.channel
        log.info("agent %s: persistent line up on %s", line.agent_id, line.channel)
        self.acd.set_line(line.agent_id, line.uniqueid)
        self._tell(line.agent_id)
        self.review(line.agent_id)

    def _on_hangup(self, event: ChannelHungUp) -> None:
        line = self._by_id.get(event.uniqueid)
        if line is None:
            return
        peer = line.peer if line.bridge_id is not None or line.peer is not None else None
        log.info("agent %s: persistent line %s gone (cause %d)", line.agent_id, line.uniqueid, event.cause)
        self._gone(line)
        if peer is not None:
            self._spawn(self._hangup(peer))  # nobody is left to talk to: like the `x` of Bridge()

    def _gone(self, line: Line) -> None:
        if line.state is LineState.DOWN:
            return
        was_up = line.move(LineState.DOWN) is LineState.UP
        self._by_id.pop(line.uniqueid, None)
        if self._lines.get(line.agent_id) is line:
            del self._lines[line.agent_id]
        if was_up:
            self.acd.set_line(line.agent_id, None)
        self._tell(line.agent_id)

    def _on_bridge_enter(self, event: BridgeEntered) -> None:
        members = self._members.setdefault(event.bridge_id, set())
        line = self._by_id.get(event.uniqueid)
        if line is not None:
            line.bridge_id = event.bridge_id
            others = members - {event.uniqueid}
            line.peer = next(iter(others)) if others else None
        else:
            for line in self._by_id.values():
                if line.bridge_id == event.bridge_id:
                    line.peer = event.uniqueid
        members.add(event.uniqueid)

    def _on_bridge_left(self, event: BridgeLeft) -> None:
        members = self._members.get(event.bridge_id)
        if members is not None:
            members.discard(event.uniqueid)
            if not members:
                del self._members[event.bridge_id]
        line = self._by_id.get(event.uniqueid)
        if line is not None:
            line.bridge_id = None
            self.review(line.agent_id)  # a line no longer wanted closes once free
            return
        for line in self._by_id.values():
            if line.peer == event.uniqueid:
                line.peer = None

    def _tell(self, agent_id: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(agent_id)
            except Exception:
                log.exception("line listener failed for agent %s", agent_id)
