"""Simulated channels and bridges: the state Asterisk would hold for each call leg.

Plain data plus the asyncio signals the dialplan executor waits on; all behaviour lives in
`pbx.py` (state changes and events) and `apps.py` (dialplan applications).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}
CAUSE_TXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    27: "Destination out of order",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    102: "Recovery on timer expiry",
}


class AfterBridge(enum.Enum):
    """What a channel pulled into a bridge does when the bridge ends."""

    CONTINUE = "continue"
    GOTO = "goto"
    HANGUP = "hangup"


@dataclass
class Bridge:
    uniqueid: str
    channels: list[Channel] = field(default_factory=list)
    technology: str = "simple_bridge"


@dataclass
class Channel:
    """One call leg. `wake` is set whenever something outside the executor needs its attention."""

    name: str
    uniqueid: str
    linkedid: str
    caller_num: str
    caller_name: str
    context: str
    exten: str
    priority: int = 1
    state: int = 0
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    variables: dict[str, str] = field(default_factory=dict)
    application: str = ""
    app_data: str = ""
    dnid: str = ""
    created: float = field(default_factory=time.monotonic)
    bridge: Bridge | None = None
    bridger: bool = False
    after_bridge: AfterBridge = AfterBridge.CONTINUE
    after_target: tuple[str, str, int | str] | None = None
    moh_class: str | None = None
    redirect_to: tuple[str, str, int] | None = None
    hangup_cause: int | None = None
    remote_hangup: bool = False
    dialing: bool = False
    pulled: bool = False
    pending_dissolve: Bridge | None = None
    gone: bool = False
    keypad: deque[str] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    bridged: asyncio.Event = field(default_factory=asyncio.Event)
    was_bridged_with: str | None = None
    # a simulated caller: how long they speak when asked to leave a message (simulator seconds)
    message_time: float | None = None
    heard_music: bool = False  # music on hold was played to it at some point
    pick_up: bool = False  # a ringing phone's user picks up now (tests)
    vanished: bool = False  # destroyed with the PBX (a restart): no Hangup event was sent

    @property
    def tech(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def hanging_up(self) -> bool:
        return self.hangup_cause is not None

    def wants_attention(self) -> bool:
        """Something asked the running application to stop: hangup, redirect or a bridge."""
        return self.hanging_up or self.redirect_to is not None or self.bridge is not None or self.pulled

    async def wait_for(self, condition: Callable[[], bool], seconds: float | None = None) -> bool:
        """Wait until `condition()` holds, re-checked at each `poke`; False on timeout."""
        try:
            async with asyncio.timeout(seconds):
                while not condition():
                    self.wake.clear()
                    await self.wake.wait()
        except TimeoutError:
            return condition()
        return True

    async def pause(self, seconds: float | None) -> bool:
        """Wait up to `seconds` (None: forever); True when interrupted instead of timing out."""
        return await self.wait_for(self.wants_attention, seconds)

    def press(self, digits: str) -> None:
        """The far end types `digits`; applications reading keys take them in order."""
        self.keypad.extend(digits)
        self.poke()

    def poke(self) -> None:
        self.wake.set()

    def duration(self) -> str:
        secs = int(time.monotonic() - self.created)
        return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
