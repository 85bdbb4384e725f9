"""The simulated PBX core: channel registry, identifiers, hangups and bridges, each with the AMI
events Asterisk 22 emits for it, in the order the recorded transcripts show.

Events go synchronously to every listener (the AMI server), so their order is the order of the
state changes that caused them.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Callable

from callserver.sim import messages as m
from callserver.sim.model import AfterBridge, Bridge, Channel

log = logging.getLogger("callserver.sim.pbx")

Listener = Callable[[m.Message], None]


class Pbx:
    """Channels and bridges; every state change goes through here so that it emits its events."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        # Uniqueid -> the first live channel with it: `find` by Uniqueid without a scan. Asterisk
        # refuses a second channel with a Uniqueid in use; `_shared_uids` counts the ones made
        # anyway (an Originate's ChannelId), so that removing one falls back to a scan.
        self._by_uid: dict[str, Channel] = {}
        self._shared_uids = 0
        self.bridges: dict[str, Bridge] = {}
        self.listeners: list[Listener] = []
        self._uid_seq = itertools.count()
        self._chan_seq = itertools.count()
        self.started = time.time()
        self.processed_calls = 0

    # identifiers -----------------------------------------------------------------------------
    def new_uniqueid(self) -> str:
        return f"{int(time.time())}.{next(self._uid_seq)}"

    def emit(self, msg: m.Message) -> None:
        for listener in list(self.listeners):
            listener(msg)

    # channels --------------------------------------------------------------------------------
    def new_channel(
        self,
        resource: str,
        *,
        caller_num: str,
        caller_name: str,
        context: str,
        exten: str,
        state: int,
        uniqueid: str | None = None,
    ) -> Channel:
        """Create `PJSIP/<resource>-0000000e`-style channel and announce it (Newchannel)."""
        uid = uniqueid or self.new_uniqueid()
        name = f"{resource}-{next(self._chan_seq):08x}"
        ch = Channel(
            name=name,
            uniqueid=uid,
            linkedid=uid,
            caller_num=caller_num,
            caller_name=caller_name,
            context=context,
            exten=exten,
            state=state,
        )
        self.channels[name] = ch
        if self._by_uid.setdefault(uid, ch) is not ch:
            self._shared_uids += 1
        self.processed_calls += 1
        self.emit(m.channel_event("Newchannel", ch))
        return ch

    def find(self, handle: str) -> Channel | None:
        """A live channel by exact name or Uniqueid (the Originate ChannelId)."""
        found = self.channels.get(handle)
        if found is not None:
            return found
        return self._by_uid.get(handle)

    def _forget(self, ch: Channel) -> None:
        """Take `ch` out of the registry and the Uniqueid index."""
        self.channels.pop(ch.name, None)
        held = self._by_uid.get(ch.uniqueid)
        if held is not ch:
            if held is not None:
                self._shared_uids -= 1  # a second channel with that Uniqueid, never indexed
            return
        del self._by_uid[ch.uniqueid]
        if self._shared_uids:
            other = next((c for c in self.channels.values() if c.uniqueid == ch.uniqueid), None)
            if other is not None:
                self._by_uid[ch.uniqueid] = other
                self._shared_uids -= 1

    def find_prefix(self, target: str) -> Channel | None:
        """How `Bridge()` and the AMI Bridge action find their target: uniqueid or name prefix."""
        if not target:
            return None
        found = self.find(target)
        if found is not None:
            return found
        return next((c for c in self.channels.values() if c.name.startswith(target)), None)

    def set_state(self, ch: Channel, state: int) -> None:
        ch.state = state
        self.emit(m.channel_event("Newstate", ch))

    def set_connected(self, ch: Channel, num: str, name: str) -> None:
        ch.connected_num, ch.connected_name = num, name
        self.emit(m.channel_event("NewConnectedLine", ch))

    # hangups ---------------------------------------------------------------------------------
    def remote_hangup(self, ch: Channel, cause: int = 16) -> None:
        """The far end (caller or phone) hung up: what a SIP BYE does (`cause` 16), or the network
        lost it (a Q.850 network cause such as 38, as when RTP or session timers give up)."""
        if ch.gone or ch.hanging_up:
            return
        log.debug("%s: far end hangs up (cause %d)", ch.name, cause)
        self.emit(m.channel_event("HangupRequest", ch))
        ch.remote_hangup = True
        ch.hangup_cause = cause
        ch.poke()

    def vanish(self, ch: Channel) -> None:
        """The PBX process is gone (a restart): the channel dies with no event at all."""
        if ch.gone:
            return
        ch.vanished = ch.gone = True
        ch.hangup_cause = ch.hangup_cause or 0
        self._forget(ch)
        if ch.bridge is not None:
            ch.bridge.channels.remove(ch)
            ch.bridge = None
        ch.moh_class = None
        ch.ended.set()
        ch.poke()

    def soft_hangup(self, ch: Channel, cause: int = 16, final_cause: int | None = None) -> None:
        """A hangup asked by the PBX side (AMI Hangup, Hangup(), AGI HANGUP)."""
        if ch.gone or ch.hanging_up:
            return
        if ch.dialing:
            ch.hangup_cause = 0  # an unanswered originated leg is cancelled quietly
        else:
            self.emit(m.channel_event("SoftHangupRequest", ch, [("Cause", str(cause))]))
            ch.hangup_cause = cause if final_cause is None else final_cause
        ch.poke()

    def emit_soft_hangup(self, ch: Channel, cause: int = 16) -> None:
        self.emit(m.channel_event("SoftHangupRequest", ch, [("Cause", str(cause))]))

    def finish(self, ch: Channel, cause: int | None = None, tech_cause: int | None = None) -> None:
        """The channel is destroyed: the Hangup event, then it leaves the registry."""
        if ch.gone:
            return
        cause = ch.hangup_cause if cause is None else cause
        if ch.remote_hangup and ch.was_bridged_with is None and ch.state == 6 and cause == 16:
            self.emit(m.channel_event("SoftHangupRequest", ch, [("Cause", "16")]))
            cause = 0
        ch.gone = True
        self.emit(m.hangup_event(ch, 16 if cause is None else cause, tech_cause))
        self._forget(ch)
        self.stop_moh(ch, quiet=True)
        log.debug("%s: hung up (cause %s)", ch.name, cause)
        ch.ended.set()
        ch.poke()

    # music on hold ---------------------------------------------------------------------------
    def start_moh(self, ch: Channel, klass: str) -> None:
        ch.moh_class = klass or "default"
        ch.heard_music = True
        self.emit(m.channel_event("MusicOnHoldStart", ch, [("Class", ch.moh_class)]))

    def stop_moh(self, ch: Channel, quiet: bool = False) -> None:
        if ch.moh_class is None:
            return
        ch.moh_class = None
        if not quiet:
            self.emit(m.channel_event("MusicOnHoldStop", ch))

    # bridges ---------------------------------------------------------------------------------
    def create_bridge(self) -> Bridge:
        bridge = Bridge(str(uuid.uuid4()))
        self.bridges[bridge.uniqueid] = bridge
        self.emit(m.bridge_event("BridgeCreate", bridge))
        return bridge

    def enter(self, bridge: Bridge, ch: Channel) -> None:
        """Put `ch` in `bridge`; with two parties each takes the first one's Linkedid."""
        self.stop_moh(ch)
        bridge.channels.append(ch)
        ch.bridge = bridge
        if len(bridge.channels) > 1:
            first = bridge.channels[0]
            ch.linkedid = first.linkedid
            for other in bridge.channels[:-1]:
                other.was_bridged_with = ch.name
                ch.was_bridged_with = other.name
        self.emit(m.bridge_event("BridgeEnter", bridge, ch))
        if len(bridge.channels) > 1:
            for party in bridge.channels:
                party.bridged.set()
            first = bridge.channels[0]
            if first.connected_num != ch.caller_num:
                self.set_connected(first, ch.caller_num, ch.caller_name)
            log.debug("bridge %s: %s", bridge.uniqueid, " + ".join(c.name for c in bridge.channels))
        ch.poke()

    def leave(self, ch: Channel) -> Bridge | None:
        """`ch` leaves its bridge (BridgeLeave); the caller decides when to dissolve it."""
        bridge = ch.bridge
        if bridge is None:
            return None
        bridge.technology = "native_rtp"
        bridge.channels.remove(ch)
        ch.bridge = None
        self.emit(m.bridge_event("BridgeLeave", bridge, ch))
        return bridge

    def dissolve(self, bridge: Bridge) -> None:
        """A two-party bridge ends when one leaves: the others are pushed out, then it is destroyed."""
        for other in list(bridge.channels):
            self.leave(other)
            other.poke()
        if self.bridges.pop(bridge.uniqueid, None) is not None:
            self.emit(m.bridge_event("BridgeDestroy", bridge))

    def join(self, ch1: Channel, ch2: Channel, after: AfterBridge = AfterBridge.CONTINUE) -> Bridge:
        """AMI Bridge action: both channels leave what they run and meet in a new bridge."""
        bridge = self.create_bridge()
        for ch in (ch1, ch2):
            if ch.bridge is not None:
                old = self.leave(ch)
                if old is not None:
                    self.dissolve(old)
            self.stop_moh(ch)
            ch.after_bridge = after
            ch.bridger = False
            ch.priority += 1
            self.enter(bridge, ch)
        return bridge
