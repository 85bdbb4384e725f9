"""PBX events as ACD engine inputs: the table of events the ACD subscribes to, and what each means
for the engine (a hangup ends a call or a leg, a bridge connects a call, a key press may ask for a
callback, the link going down holds offers, coming back resynchronises, a phone the PBX cannot reach
is offered nothing, a PBX shutting down cuts its calls), and what the PBX adapter reports about the
legs it originates.

A hangup can beat the inbound script's report of the same caller (the AGI reply races the AMI
event): recent hangups of unknown channels are kept, so such a call is recorded as abandoned
instead of waiting forever.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from ..pbx.events import (
    BridgeEntered,
    ChannelHungUp,
    ContactStatusChanged,
    DeviceStateChanged,
    DtmfReceived,
    InboundCall,
    OriginateResult,
    PbxBooted,
    PbxConnected,
    PbxDisconnected,
    PbxShutdown,
)
from ..pbx.hub import Subscriptions
from .commands import Command
from .engine import AcdEngine
from .pbxstate import PbxState
from .phones import PhoneBook

log = logging.getLogger("callserver.acd.adapter")

RECENT_HANGUPS = 1000


class PbxInputs:
    def __init__(
        self,
        engine: AcdEngine,
        *,
        apply: Callable[[list[Command]], None],
        clock: Callable[[], float],
        on_link_up: Callable[[], None],
        on_channel_gone: Callable[[str], None],
    ) -> None:
        self.engine = engine
        self.apply = apply
        self.clock = clock
        self.on_link_up = on_link_up
        self.on_channel_gone = on_channel_gone
        self._recent_hangups: OrderedDict[str, float] = OrderedDict()
        self.pbx_state = PbxState()
        self.phones = PhoneBook()
        self.endpoints_changed()

    def endpoints_changed(self) -> None:
        """An agent's endpoint changed (remote login): device events are matched on the new one."""
        self.phones.index((a.id, a.endpoint) for a in self.engine.agents.values())

    def subscriptions(self) -> Subscriptions:
        """The PBX events the ACD follows: the engine reacts at once, I/O goes to tasks."""
        return (
            Subscriptions("acd")
            .on(ChannelHungUp, self._on_hangup)
            .on(OriginateResult, self._on_originate_result)
            .on(BridgeEntered, self._on_bridge_enter)
            .on(DtmfReceived, self._on_dtmf)
            .on(PbxConnected, self._on_connected)
            .on(PbxDisconnected, self._on_disconnected)
            .on(PbxBooted, self._on_booted)
            .on(PbxShutdown, self._on_shutdown)
            .on(ContactStatusChanged, self._on_contact_status)
            .on(DeviceStateChanged, self.device_state)
        )

    def inbound_call(self, call: InboundCall, queue: str, data: dict[str, object] | None) -> None:
        now = self.clock()
        self.apply(
            self.engine.call_arrived(
                call.uniqueid,
                channel=call.channel,
                caller_num=call.caller_num,
                caller_name=call.caller_name,
                dnis=call.dnis,
                queue=queue,
                now=now,
                data=data,
            )
        )
        if self._recent_hangups.pop(call.uniqueid, None) is not None:
            self.apply(self.engine.caller_hung_up(call.uniqueid, now))

    def _on_hangup(self, event: ChannelHungUp) -> None:
        now = self.clock()
        engine = self.engine
        if event.uniqueid in engine.calls:
            ending = self.pbx_state.hangup(event.cause, event.cause_text, now)
            self.apply(engine.caller_hung_up(event.uniqueid, now, ending))
        elif event.uniqueid in engine.legs:
            ending = self.pbx_state.hangup(event.cause, event.cause_text, now)
            self.apply(engine.leg_hung_up(event.uniqueid, now, ending))
        else:
            self._recent_hangups[event.uniqueid] = now
            if len(self._recent_hangups) > RECENT_HANGUPS:
                self._recent_hangups.popitem(last=False)
        self.on_channel_gone(event.uniqueid)

    def _on_originate_result(self, event: OriginateResult) -> None:
        if event.uniqueid in self.engine.legs:
            now = self.clock()
            if event.success:
                self.apply(self.engine.leg_picked_up(event.uniqueid, now))
            else:
                self.apply(self.engine.leg_failed(event.uniqueid, now))

    def _on_bridge_enter(self, event: BridgeEntered) -> None:
        # state comes from the legs: an agent leg in a bridge is a connected call
        if event.uniqueid in self.engine.legs:
            self.apply(self.engine.leg_answered(event.uniqueid, self.clock()))

    def _on_dtmf(self, event: DtmfReceived) -> None:
        if event.uniqueid in self.engine.calls and event.direction.lower() == "received":
            self.apply(self.engine.dtmf(event.uniqueid, event.digit, self.clock()))

    def _on_connected(self, event: PbxConnected) -> None:
        log.info("PBX link up%s: resynchronising", " again" if event.reconnect else "")
        self.on_link_up()

    def _on_disconnected(self, event: PbxDisconnected) -> None:
        log.warning("PBX link down (%s): offers held until it is back", event.reason)
        now = self.clock()
        self.pbx_state.link_down(event.last_heard, now)
        self.apply(self.engine.set_pbx_ready(False, now))

    def _on_booted(self, event: PbxBooted) -> None:
        self.pbx_state.booted(event.uptime, self.clock())

    def _on_shutdown(self, event: PbxShutdown) -> None:
        # offers are not held here: a shutdown can be called off (`core abort shutdown`) with no
        # event to say so; the link dropping when the PBX does stop holds them
        log.warning(
            "the PBX is %s (%s): the calls it cuts are recorded as failed",
            "restarting" if event.restart else "shutting down",
            "no call up" if event.clean else "calls up",
        )
        self.pbx_state.shutting_down(self.clock(), restart=event.restart)

    def _on_contact_status(self, event: ContactStatusChanged) -> None:
        device, reachable = self.phones.contact_status(event.endpoint, event.uri, event.status)
        self._phone(device, reachable)

    def device_state(self, event: DeviceStateChanged) -> None:
        """A device's state, from an event or a `DeviceStateList` at resynchronisation."""
        self._phone(event.device, self.phones.device_state(event.device, event.state))

    def _phone(self, device: str, reachable: bool | None) -> None:
        if reachable is None:
            return
        now = self.clock()
        for agent_id in self.phones.agents_on(device):
            agent = self.engine.agents[agent_id]
            if agent.phone_reachable is not reachable:
                log.warning(
                    "agent %s: phone %s %s",
                    agent_id,
                    device,
                    "reachable again" if reachable else "unreachable",
                )
            self.apply(self.engine.phone_reachable(agent_id, reachable, now))

    # -- what the PBX adapter reports about the legs it originates (adapter.LegFeedback) --------

    def leg_unreachable(self, leg_id: str) -> None:
        self.apply(self.engine.leg_failed(leg_id, self.clock(), unreachable=True))

    def leg_not_sent(self, leg_id: str) -> None:
        self.apply(self.engine.pbx_error(leg_id, self.clock()))

    def leg_live(self, leg_id: str) -> bool:
        return leg_id in self.engine.legs
