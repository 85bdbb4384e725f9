"""A persistent line and its state machine (a table of allowed moves, as everywhere else).

`dialling`: the agent's phone rings (Originate into `[callserver-line]`); `up`: answered and
waiting in silence, or bridged to a customer; `down`: gone (hung up, refused, logged out).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger("callserver.lines.transitions")


class LineState(StrEnum):
    DIALLING = "dialling"
    UP = "up"
    DOWN = "down"


LINE_TRANSITIONS: dict[LineState, frozenset[LineState]] = {
    LineState.DIALLING: frozenset({LineState.UP, LineState.DOWN}),
    LineState.UP: frozenset({LineState.DOWN}),
    LineState.DOWN: frozenset(),
}


class InvalidTransition(Exception):
    def __init__(self, ident: str, old: str, new: str) -> None:
        super().__init__(f"line {ident}: cannot go from {old} to {new}")


@dataclass(slots=True)
class Line:
    agent_id: str
    uniqueid: str  # the ChannelId given to the Originate
    state: LineState = LineState.DIALLING
    channel: str = ""  # the channel's name once known
    bridge_id: str | None = None  # the bridge the line is in now
    peer: str | None = None  # the other channel of the line's latest bridge, until it leaves

    def move(self, new: LineState) -> LineState:
        old = self.state
        if new not in LINE_TRANSITIONS[old]:
            raise InvalidTransition(self.uniqueid, old, new)
        log.debug("line %s of %s: %s -> %s", self.uniqueid, self.agent_id, old, new)
        self.state = new
        return old


@dataclass(frozen=True, slots=True)
class LineView:
    agent_id: str
    uniqueid: str
    state: LineState
    channel: str
    bridged: bool
