"""AMI event -> PBX domain event translation.

`SUBSCRIPTIONS` is the one place listing the AMI events callserver reacts to; everything else
Asterisk sends (VarSet, Newexten, Cdr, RTCP...) is ignored silently. A malformed message is skipped:
a bad line from the PBX must never stop the event stream. It is logged once per (event, kind of
problem) and window, with a count of the repeats (`PeerLog`): the kind never includes the bad
value, so garbage cannot grow the log or the translator's memory, and values are escaped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from callserver.logs import PeerLog, printable
from callserver.pbx.events import (
    BridgeEntered,
    BridgeLeft,
    ChannelCreated,
    ChannelHungUp,
    ChannelSnapshot,
    ChannelStateChanged,
    ContactStatusChanged,
    DeviceStateChanged,
    DialEnded,
    DtmfReceived,
    HoldMusicStarted,
    HoldMusicStopped,
    OriginateResult,
    PbxBooted,
    PbxEvent,
    PbxShutdown,
)

log = logging.getLogger(__name__)

# Asterisk's placeholder for an absent caller id / id; kept out of domain events.
_UNKNOWN = "<unknown>"


class MalformedMessage(ValueError):
    """A subscribed event lacks a field or has one that cannot be read (e.g. a non-numeric Cause).

    `kind` names the problem without the offending value (`non-numeric Cause`), so it can key
    de-duplication; the value, escaped, only goes into the message.
    """

    def __init__(self, kind: str, value: str | None = None) -> None:
        self.kind = kind
        super().__init__(kind if value is None else f"{kind} {printable(value, 40)}")


def _req(msg: Mapping[str, str], key: str) -> str:
    value = msg.get(key)
    if value is None or value == "":
        raise MalformedMessage(f"missing {key}")
    return value


def _opt(msg: Mapping[str, str], key: str) -> str:
    value = msg.get(key, "")
    return "" if value == _UNKNOWN else value


def _int(msg: Mapping[str, str], key: str) -> int:
    value = _req(msg, key)
    try:
        return int(value)
    except ValueError:
        raise MalformedMessage(f"non-numeric {key}", value) from None


def _duration(msg: Mapping[str, str], key: str) -> int:
    """`Duration: 00:00:03` (CoreShowChannel) -> seconds; a bare number is accepted too."""
    value = _req(msg, key)
    try:
        seconds = 0
        for part in value.split(":"):
            seconds = seconds * 60 + int(part)
    except ValueError:
        raise MalformedMessage(f"unreadable {key}", value) from None
    return seconds


def _newchannel(m: Mapping[str, str]) -> ChannelCreated:
    uniqueid = _req(m, "Uniqueid")
    return ChannelCreated(
        uniqueid=uniqueid,
        linkedid=m.get("Linkedid") or uniqueid,
        channel=_req(m, "Channel"),
        state=_opt(m, "ChannelStateDesc"),
        caller_num=_opt(m, "CallerIDNum"),
        caller_name=_opt(m, "CallerIDName"),
        context=_opt(m, "Context"),
        exten=_opt(m, "Exten"),
    )


def _newstate(m: Mapping[str, str]) -> ChannelStateChanged:
    return ChannelStateChanged(
        uniqueid=_req(m, "Uniqueid"), channel=_req(m, "Channel"), state=_req(m, "ChannelStateDesc")
    )


def _hangup(m: Mapping[str, str]) -> ChannelHungUp:
    uniqueid = _req(m, "Uniqueid")
    return ChannelHungUp(
        uniqueid=uniqueid,
        linkedid=m.get("Linkedid") or uniqueid,
        channel=_req(m, "Channel"),
        cause=_int(m, "Cause"),
        cause_text=_opt(m, "Cause-txt"),
    )


def _originate_response(m: Mapping[str, str]) -> OriginateResult:
    # On failure Channel is the requested dial string and Uniqueid our ChannelId (or <unknown>).
    return OriginateResult(
        action_id=_opt(m, "ActionID"),
        uniqueid=_opt(m, "Uniqueid"),
        channel=_req(m, "Channel"),
        success=_req(m, "Response") == "Success",
        reason=_int(m, "Reason"),
    )


def _bridge_enter(m: Mapping[str, str]) -> BridgeEntered:
    uniqueid = _req(m, "Uniqueid")
    return BridgeEntered(
        bridge_id=_req(m, "BridgeUniqueid"),
        uniqueid=uniqueid,
        channel=_req(m, "Channel"),
        linkedid=m.get("Linkedid") or uniqueid,
    )


def _bridge_leave(m: Mapping[str, str]) -> BridgeLeft:
    return BridgeLeft(
        bridge_id=_req(m, "BridgeUniqueid"), uniqueid=_req(m, "Uniqueid"), channel=_req(m, "Channel")
    )


def _moh_start(m: Mapping[str, str]) -> HoldMusicStarted:
    return HoldMusicStarted(uniqueid=_req(m, "Uniqueid"), channel=_req(m, "Channel"))


def _moh_stop(m: Mapping[str, str]) -> HoldMusicStopped:
    return HoldMusicStopped(uniqueid=_req(m, "Uniqueid"), channel=_req(m, "Channel"))


def _dial_end(m: Mapping[str, str]) -> DialEnded:
    # An originated leg dials with no calling channel: no Uniqueid, only Dest* fields.
    return DialEnded(
        uniqueid=_opt(m, "Uniqueid"),
        dest_uniqueid=_req(m, "DestUniqueid"),
        dest_channel=_req(m, "DestChannel"),
        status=_req(m, "DialStatus"),
    )


def _dtmf_end(m: Mapping[str, str]) -> DtmfReceived:
    return DtmfReceived(
        uniqueid=_req(m, "Uniqueid"),
        channel=_req(m, "Channel"),
        digit=_req(m, "Digit"),
        direction=_opt(m, "Direction"),
    )


def _core_show_channel(m: Mapping[str, str]) -> ChannelSnapshot:
    uniqueid = _req(m, "Uniqueid")
    return ChannelSnapshot(
        uniqueid=uniqueid,
        linkedid=m.get("Linkedid") or uniqueid,
        channel=_req(m, "Channel"),
        state=_opt(m, "ChannelStateDesc"),
        caller_num=_opt(m, "CallerIDNum"),
        caller_name=_opt(m, "CallerIDName"),
        context=_opt(m, "Context"),
        exten=_opt(m, "Exten"),
        priority=_int(m, "Priority"),
        application=_opt(m, "Application"),
        application_data=_opt(m, "ApplicationData"),
        duration=_duration(m, "Duration"),
        bridge_id=_opt(m, "BridgeId"),
    )


def _fully_booted(m: Mapping[str, str]) -> PbxBooted:
    return PbxBooted(uptime=float(_int(m, "Uptime")))


def _yes_no(msg: Mapping[str, str], key: str, yes: str, no: str) -> bool:
    value = _req(msg, key)
    if value.lower() not in (yes.lower(), no.lower()):
        raise MalformedMessage(f"{key} is {value!r}, not {yes} or {no}")
    return value.lower() == yes.lower()


def _shutdown(m: Mapping[str, str]) -> PbxShutdown:
    # Asterisk 22 main/asterisk.c: "Shutdown: Cleanly|Uncleanly", "Restart: True|False" (class system)
    return PbxShutdown(
        restart=_yes_no(m, "Restart", "True", "False"), clean=_yes_no(m, "Shutdown", "Cleanly", "Uncleanly")
    )


def _contact_status(m: Mapping[str, str]) -> ContactStatusChanged:
    # res_pjsip: URI, ContactStatus, AOR, EndpointName, RoundtripUsec (class system)
    return ContactStatusChanged(
        endpoint=_req(m, "EndpointName"),
        aor=_opt(m, "AOR"),
        uri=_opt(m, "URI"),
        status=_req(m, "ContactStatus"),
    )


def _device_state(m: Mapping[str, str]) -> DeviceStateChanged:
    return DeviceStateChanged(device=_req(m, "Device"), state=_req(m, "State"))


SUBSCRIPTIONS: dict[str, Callable[[Mapping[str, str]], PbxEvent]] = {
    "Newchannel": _newchannel,
    "Newstate": _newstate,
    "Hangup": _hangup,
    "OriginateResponse": _originate_response,
    "BridgeEnter": _bridge_enter,
    "BridgeLeave": _bridge_leave,
    "MusicOnHoldStart": _moh_start,
    "MusicOnHoldStop": _moh_stop,
    "DialEnd": _dial_end,
    "DTMFEnd": _dtmf_end,
    "CoreShowChannel": _core_show_channel,
    "FullyBooted": _fully_booted,
    "Shutdown": _shutdown,
    "ContactStatus": _contact_status,
    "DeviceStateChange": _device_state,
}
"""AMI event name -> builder of the domain event. The only events callserver subscribes to."""


class AmiTranslator:
    """Stateless apart from a bounded memory of the problems it logged lately (`PeerLog`)."""

    def __init__(
        self,
        subscriptions: Mapping[str, Callable[[Mapping[str, str]], PbxEvent]] | None = None,
        *,
        problems: PeerLog | None = None,
    ) -> None:
        self._subscriptions = SUBSCRIPTIONS if subscriptions is None else subscriptions
        self._problems = problems or PeerLog(log, interval=300.0, max_keys=64, max_lines=50)

    def remembered(self) -> int:
        """How many (event, problem) pairs are remembered now (bounded by the PeerLog)."""
        return self._problems.tracked

    def translate(self, message: Mapping[str, str]) -> PbxEvent | None:
        """The domain event for `message`, or None (not subscribed, or malformed and logged)."""
        name = message.get("Event")
        if not name:
            self._report("<none>", "message without Event", "message without Event", message)
            return None
        builder = self._subscriptions.get(name)
        if builder is None:
            return None
        try:
            return builder(message)
        except MalformedMessage as err:
            self._report(name, err.kind, str(err), message)
        except Exception as err:  # a builder bug must not kill the event stream either
            kind = type(err).__name__
            self._report(name, kind, f"{kind}: {printable(str(err), 80)}", message)
        return None

    def _report(self, name: str, kind: str, problem: str, message: Mapping[str, str]) -> None:
        where = ", ".join(
            f"{k}={printable(message[k], 40)}"
            for k in ("Uniqueid", "Channel", "ActionID", "Response")
            if k in message
        )
        self._problems.warning(
            name,
            kind,
            "AMI %s skipped: %s (%s); repeats are counted, not logged one by one",
            name,
            problem,
            where or f"headers {printable(', '.join(sorted(message)[:8]), 120)}",
        )
