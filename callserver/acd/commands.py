"""Commands the ACD engine asks the PBX adapter to carry out. Plain data: the engine does no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class OriginateAgentLeg:
    """Ring `endpoint`; when answered it runs the agent context and bridges to `caller_channel`."""

    call_id: str
    agent_id: str
    leg_id: str
    endpoint: str
    caller_channel: str
    ring_timeout: float
    caller_id: str
    variables: dict[str, str] = field(default_factory=dict)


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


Command = OriginateAgentLeg | CancelAgentLeg | PlayMessageAndHangup
