"""PBX-level domain events: what the AMI translator and the FastAGI server tell the rest of the server.

They are frozen and carry only the fields the server uses, named the same whatever AMI event (or AGI
environment) they came from, so no AMI spelling leaks past the adapters.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChannelCreated:
    """`Newchannel`: a channel exists (caller leg, agent leg, Local half...)."""

    uniqueid: str
    linkedid: str
    channel: str
    state: str
    caller_num: str
    caller_name: str
    context: str
    exten: str


@dataclass(frozen=True, slots=True)
class ChannelStateChanged:
    """`Newstate`: Ring, Ringing, Up..."""

    uniqueid: str
    channel: str
    state: str


@dataclass(frozen=True, slots=True)
class ChannelHungUp:
    """`Hangup`: the channel is gone. `cause` is the Q.850 code (0 when the caller simply left)."""

    uniqueid: str
    linkedid: str
    channel: str
    cause: int
    cause_text: str


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """`OriginateResponse` for an async Originate; `uniqueid` is the ChannelId we chose.

    `reason` 4 means answered; 0/1/3/5/8 are failures whose real cause shows elsewhere.
    """

    action_id: str
    uniqueid: str
    channel: str
    success: bool
    reason: int


@dataclass(frozen=True, slots=True)
class BridgeEntered:
    """`BridgeEnter`: a channel joined a bridge."""

    bridge_id: str
    uniqueid: str
    channel: str
    linkedid: str


@dataclass(frozen=True, slots=True)
class BridgeLeft:
    """`BridgeLeave`: a channel left a bridge."""

    bridge_id: str
    uniqueid: str
    channel: str


@dataclass(frozen=True, slots=True)
class HoldMusicStarted:
    """`MusicOnHoldStart`: the caller hears music (waiting, or put on hold)."""

    uniqueid: str
    channel: str


@dataclass(frozen=True, slots=True)
class HoldMusicStopped:
    """`MusicOnHoldStop`."""

    uniqueid: str
    channel: str


@dataclass(frozen=True, slots=True)
class DialEnded:
    """`DialEnd`: the outcome of one dial attempt (ANSWER, NOANSWER, BUSY, CANCEL, CONGESTION...)."""

    uniqueid: str
    dest_uniqueid: str
    dest_channel: str
    status: str


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    """`DTMFEnd`: a key pressed on a channel."""

    uniqueid: str
    channel: str
    digit: str
    direction: str


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """One `CoreShowChannel` list item: what a channel is doing now (used to resynchronise)."""

    uniqueid: str
    linkedid: str
    channel: str
    state: str
    caller_num: str
    caller_name: str
    context: str
    exten: str
    priority: int
    application: str
    application_data: str
    duration: int
    bridge_id: str


@dataclass(frozen=True, slots=True)
class PbxConnected:
    """The AMI link is up and logged in (first time or after a reconnect)."""

    reconnect: bool


@dataclass(frozen=True, slots=True)
class PbxDisconnected:
    """The AMI link is down; actions fail until PbxConnected.

    `last_heard` is when the PBX last said anything on the link that just went down (0 when never):
    a channel gone by the next listing was still there then, so its end is estimated from it.
    """

    reason: str
    last_heard: float = 0.0


@dataclass(frozen=True, slots=True)
class PbxBooted:
    """`FullyBooted` (sent at every login): the PBX has been up for `uptime` seconds.

    An uptime shorter than the time the link was down means the PBX restarted meanwhile, and every
    channel it had then was cut.
    """

    uptime: float


@dataclass(frozen=True, slots=True)
class PbxShutdown:
    """`Shutdown`: the PBX is stopping (`restart` when it comes back); `clean` when no channel was up."""

    restart: bool
    clean: bool


@dataclass(frozen=True, slots=True)
class ContactStatusChanged:
    """`ContactStatus`: a SIP contact of `endpoint` is Reachable, Unreachable, Removed, Created..."""

    endpoint: str
    aor: str
    uri: str
    status: str


@dataclass(frozen=True, slots=True)
class DeviceStateChanged:
    """`DeviceStateChange` (also each item of `DeviceStateList`): `PJSIP/1001` is NOT_INUSE,
    INUSE, RINGING, UNAVAILABLE..."""

    device: str
    state: str


@dataclass(frozen=True, slots=True)
class InboundCall:
    """A caller entered `AGI(agi://.../inbound)`: read from the agi_ environment."""

    uniqueid: str
    channel: str
    caller_num: str
    caller_name: str
    dnis: str
    script: str


PbxEvent = (
    ChannelCreated
    | ChannelStateChanged
    | ChannelHungUp
    | OriginateResult
    | BridgeEntered
    | BridgeLeft
    | HoldMusicStarted
    | HoldMusicStopped
    | DialEnded
    | DtmfReceived
    | ChannelSnapshot
    | PbxConnected
    | PbxDisconnected
    | PbxBooted
    | PbxShutdown
    | ContactStatusChanged
    | DeviceStateChanged
    | InboundCall
)
