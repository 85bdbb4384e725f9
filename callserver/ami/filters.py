"""The events callserver asks Asterisk not to send: `Filter` actions at each login.

`read = call,dtmf,system,user` (asterisk/manager.conf) is as narrow as AMI classes go, yet more
than a third of what those classes carry is nothing callserver reads: per call Asterisk sends
NewConnectedLine twice, NewCallerid, DialBegin, DialState, BridgeCreate, BridgeDestroy,
HangupRequest and SoftHangupRequest beside the 13 events the translator does use. Each is read,
split into headers and dropped, on the same event loop that routes calls. Asterisk 22's advanced
filters (`MatchCriteria: action(exclude),name(<event>)`, matched on a hash of the event name)
drop them in the PBX instead.

Only exclusions are asked for, so a PBX that refuses a filter (an older Asterisk, a user without
the `system` write class) still sends everything: callserver then reads and drops these events as
before, and says so once in the log. Answers to list actions (CoreShowChannel...) are never
filtered by Asterisk.
"""

from __future__ import annotations

from callserver.ami.translator import SUBSCRIPTIONS

# events of the read classes above that no builder in the translator reads (a test checks the
# two stay apart); seen in the Asterisk 22 transcripts of calls, transfers, spying and voicemail
UNUSED_EVENTS: tuple[str, ...] = (
    "AttendedTransfer",
    "BlindTransfer",
    "BridgeCreate",
    "BridgeDestroy",
    "BridgeMerge",
    "ChanSpyStart",
    "ChanSpyStop",
    "DTMFBegin",
    "DialBegin",
    "DialState",
    "HangupRequest",
    "Hold",
    "LocalBridge",
    "LocalOptimizationBegin",
    "LocalOptimizationEnd",
    "MessageWaiting",
    "NewCallerid",
    "NewConnectedLine",
    "SoftHangupRequest",
    "Unhold",
)


def filter_actions(unused: tuple[str, ...] = UNUSED_EVENTS) -> list[list[tuple[str, str]]]:
    """The fields of one `Filter` action per event to leave out."""
    overlap = sorted(set(unused) & set(SUBSCRIPTIONS))
    if overlap:
        raise ValueError(f"events both read and filtered out: {', '.join(overlap)}")
    return [[("Operation", "Add"), ("MatchCriteria", f"action(exclude),name({name})")] for name in unused]
