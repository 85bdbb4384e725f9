"""Commands the ACD engine asks the PBX adapter to carry out. Plain data: the engine does no I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OriginateAgentLeg:
    """Ring `endpoint`; when answered it runs the agent context and bridges to `caller_channel`.

    What the dialplan needs travels as fields; the PBX adapter maps them to channel variables.
    """

    call_id: str
    agent_id: str
    leg_id: str
    endpoint: str
    caller_channel: str
    ring_timeout: float
    caller_id: str
    purpose: str = "offer"  # "offer", "consult", or "callback" (the agent leg dials the customer)
    dial: str = ""  # callback: the customer's number, dialled once the agent answers
    peer_leg: str = ""  # consult: the leg of the agent who asks, whom the colleague talks to


@dataclass(frozen=True, slots=True)
class CancelAgentLeg:
    """Hang up an agent leg (ringing or answered) by the ChannelId we gave it."""

    leg_id: str


@dataclass(frozen=True, slots=True)
class PlayMessageAndHangup:
    """Send a waiting caller to hear `message`, then hang up (queue timeout with no overflow)."""

    call_id: str
    channel: str
    message: str


@dataclass(frozen=True, slots=True)
class SendCallerTo:
    """Move a waiting caller out of callserver: to a voicemail box or an outside number."""

    call_id: str
    channel: str
    kind: str  # "voicemail" | "number"
    target: str


@dataclass(frozen=True, slots=True)
class Announce:
    """Tell a waiting caller their position and estimated wait, then back to the music."""

    call_id: str
    channel: str
    position: int
    wait_seconds: int


@dataclass(frozen=True, slots=True)
class ConfirmCallback:
    """The caller asked to be called back: confirm and hang up; the call keeps its place."""

    call_id: str
    channel: str


@dataclass(frozen=True, slots=True)
class OfferTask:
    """Give a non-voice task (a voicemail) to an agent: nothing to dial, the desktop pops it."""

    task_id: str
    agent_id: str
    kind: str


Command = (
    OriginateAgentLeg
    | CancelAgentLeg
    | PlayMessageAndHangup
    | SendCallerTo
    | Announce
    | ConfirmCallback
    | OfferTask
)
