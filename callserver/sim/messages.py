"""AMI wire format as Asterisk 22 writes it: header order, spelling and Privilege classes.

Pure functions from simulator state to ordered (header, value) lists, so the shapes can be
compared directly with the recorded transcripts in tests.
"""

from __future__ import annotations

from collections.abc import Iterable

from callserver.sim.model import CAUSE_TXT, STATE_DESC, Bridge, Channel

Message = list[tuple[str, str]]
CALL = "call,all"


def encode(message: Message) -> bytes:
    """Serialise with CRLF line endings and the terminating blank line."""
    return ("".join([f"{k}: {v}\r\n" for k, v in message]) + "\r\n").encode()


def parse_action(block: str) -> dict[str, str | list[str]]:
    """Headers of one action; repeated `Variable:` headers are collected in a list."""
    action: dict[str, str | list[str]] = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key.lower() == "variable":
            existing = action.setdefault("Variable", [])
            assert isinstance(existing, list)
            existing.extend(v for v in value.split(",") if v)
        else:
            action[key] = value
    return action


_CHANNEL_FIELDS = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)
_PREFIXED: dict[str, tuple[str, ...]] = {"": _CHANNEL_FIELDS}


def channel_fields(ch: Channel, prefix: str = "") -> Message:
    """The channel snapshot block every channel event carries (Dest* prefixed for dial events)."""
    n = _PREFIXED.get(prefix)
    if n is None:
        n = _PREFIXED[prefix] = tuple(prefix + name for name in _CHANNEL_FIELDS)
    return [
        (n[0], ch.name),
        (n[1], str(ch.state)),
        (n[2], STATE_DESC.get(ch.state, "Unknown")),
        (n[3], ch.caller_num),
        (n[4], ch.caller_name),
        (n[5], ch.connected_num),
        (n[6], ch.connected_name),
        (n[7], "en"),
        (n[8], ""),
        (n[9], ch.context),
        (n[10], ch.exten),
        (n[11], str(ch.priority)),
        (n[12], ch.uniqueid),
        (n[13], ch.linkedid),
    ]


def channel_event(
    name: str, ch: Channel, extra: Iterable[tuple[str, str]] = (), privilege: str = CALL
) -> Message:
    return [("Event", name), ("Privilege", privilege), *channel_fields(ch), *extra]


def hangup_event(ch: Channel, cause: int, tech_cause: int | None = None) -> Message:
    extra = [("Cause", str(cause)), ("Cause-txt", CAUSE_TXT.get(cause, "Unknown"))]
    if tech_cause is not None:
        extra.append(("TechCause", str(tech_cause)))
    return channel_event("Hangup", ch, extra)


def dial_event(name: str, dest: Channel, extra: Iterable[tuple[str, str]] = ()) -> Message:
    return [("Event", name), ("Privilege", CALL), *channel_fields(dest, "Dest"), *extra]


def bridge_fields(bridge: Bridge, count: int) -> Message:
    return [
        ("BridgeUniqueid", bridge.uniqueid),
        ("BridgeType", "basic"),
        ("BridgeTechnology", bridge.technology),
        ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"),
        ("BridgeNumChannels", str(count)),
        ("BridgeVideoSourceMode", "none"),
    ]


def bridge_event(name: str, bridge: Bridge, ch: Channel | None = None) -> Message:
    msg: Message = [("Event", name), ("Privilege", CALL), *bridge_fields(bridge, len(bridge.channels))]
    if ch is not None:
        msg.extend(channel_fields(ch))
    return msg


def response(action_id: str | None, status: str, fields: Iterable[tuple[str, str]] = ()) -> Message:
    msg: Message = [("Response", status)]
    if action_id is not None:
        msg.append(("ActionID", action_id))
    msg.extend(fields)
    return msg


def originate_response(
    action_id: str | None,
    ok: bool,
    channel: str,
    target: Message,
    reason: int,
    uniqueid: str,
    cid_num: str,
    cid_name: str,
) -> Message:
    """The OriginateResponse *event*; `target` is Context/Exten or Application/Data."""
    msg: Message = [("Event", "OriginateResponse"), ("Privilege", CALL)]
    if action_id is not None:
        msg.append(("ActionID", action_id))
    msg += [("Response", "Success" if ok else "Failure"), ("Channel", channel), *target]
    msg += [("Reason", str(reason)), ("Uniqueid", uniqueid)]
    msg += [("CallerIDNum", cid_num), ("CallerIDName", cid_name)]
    return msg


def core_show_channel(ch: Channel, action_id: str | None) -> Message:
    msg: Message = [("Event", "CoreShowChannel")]
    if action_id is not None:
        msg.append(("ActionID", action_id))
    msg += channel_fields(ch)
    msg += [
        ("Application", ch.application),
        ("ApplicationData", ch.app_data),
        ("Duration", ch.duration()),
        ("BridgeId", ch.bridge.uniqueid if ch.bridge else ""),
    ]
    return msg


def list_complete(event: str, action_id: str | None, count: int) -> Message:
    msg: Message = [("Event", event)]
    if action_id is not None:
        msg.append(("ActionID", action_id))
    return [*msg, ("EventList", "Complete"), ("ListItems", str(count))]


def contact_status(uri: str, status: str, endpoint: str, qualified: bool) -> Message:
    """`ContactStatus` (res_pjsip, class system): one contact's qualify result changed."""
    msg: Message = [("Event", "ContactStatus"), ("Privilege", "system,all"), ("URI", uri)]
    msg += [("ContactStatus", status), ("AOR", endpoint), ("EndpointName", endpoint)]
    return [*msg, ("RoundtripUsec", "1500" if qualified else "0")]


def device_state_change(device: str, state: str, action_id: str | None = None) -> Message:
    """`DeviceStateChange` (class call); as a `DeviceStateList` item it has an ActionID instead."""
    if action_id is not None:
        return [("Event", "DeviceStateChange"), ("ActionID", action_id), ("Device", device), ("State", state)]
    return [("Event", "DeviceStateChange"), ("Privilege", "call,all"), ("Device", device), ("State", state)]


def shutdown_event(*, clean: bool, restart: bool) -> Message:
    """`Shutdown` (main/asterisk.c, class system), sent just before Asterisk stops."""
    return [
        ("Event", "Shutdown"),
        ("Privilege", "system,all"),
        ("Shutdown", "Cleanly" if clean else "Uncleanly"),
        ("Restart", "True" if restart else "False"),
    ]
