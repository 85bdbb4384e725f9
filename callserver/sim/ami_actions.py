"""The call-control AMI actions the simulator answers, with Asterisk 22's replies and messages.

One table maps action names to handlers; each reads headers, changes PBX state through `Pbx`
and replies on the session that asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from callserver.sim import messages as m
from callserver.sim.ami_server import AmiSession, Handler
from callserver.sim.apps import Runtime, expand
from callserver.sim.originate import OriginateRequest, originate
from callserver.sim.phones import Phones

log = logging.getLogger("callserver.sim.ami")

Action = dict[str, str | list[str]]


def _get(action: Action, key: str) -> str:
    value = action.get(key, "")
    return value.strip() if isinstance(value, str) else ",".join(value)


class Actions:
    """Handlers bound to one runtime; `table()` is what the AMI server dispatches on."""

    def __init__(
        self,
        rt: Runtime,
        phones: Phones,
        cli: Callable[[str], list[str] | None] | None = None,
        device_states: Callable[[], list[tuple[str, str]]] | None = None,
    ) -> None:
        self.rt, self.phones = rt, phones
        self.cli = cli  # more CLI commands for `Command` (ami_inspect.Inspect.command_output)
        self.device_states = device_states or (lambda: [])

    def table(self) -> dict[str, Handler]:
        return {
            "originate": self.originate,
            "hangup": self.hangup,
            "redirect": self.redirect,
            "setvar": self.setvar,
            "getvar": self.getvar,
            "coreshowchannels": self.core_show_channels,
            "devicestatelist": self.device_state_list,
            "bridge": self.bridge,
            "status": self.status,
            "corestatus": self.core_status,
            "command": self.command,
        }

    async def originate(self, s: AmiSession, action: Action, aid: str | None) -> None:
        req = OriginateRequest.from_action(action)
        if not req.channel or not (req.application or req.exten):
            s.send(
                m.response(
                    aid,
                    "Error",
                    [("Message", "Channel not specified")]
                    if not req.channel
                    else [("Message", "Exten not specified")],
                )
            )
            return
        if _get(action, "Async").lower() in ("true", "yes", "1", "on"):
            s.send(m.response(aid, "Success", [("Message", "Originate successfully queued")]))
            self.rt.spawn(self._originate_async(req), f"originate {req.channel}")
            return
        ok = await originate(self.rt, self.phones, req, None)
        if ok:
            s.send(m.response(aid, "Success", [("Message", "Originate successfully queued")]))
        else:
            s.send(m.response(aid, "Error", [("Message", "Originate failed")]))

    async def _originate_async(self, req: OriginateRequest) -> None:
        await originate(self.rt, self.phones, req, self.rt.pbx.emit)

    async def hangup(self, s: AmiSession, action: Action, aid: str | None) -> None:
        ch = self.rt.pbx.find(_get(action, "Channel"))
        if ch is None or ch.hanging_up:
            s.send(m.response(aid, "Error", [("Message", "No such channel")]))
            return
        cause = _get(action, "Cause")
        log.debug("AMI Hangup %s", ch.name)
        self.rt.pbx.soft_hangup(ch, int(cause) if cause.isdigit() else 16)
        s.send(m.response(aid, "Success", [("Message", "Channel Hungup")]))

    async def redirect(self, s: AmiSession, action: Action, aid: str | None) -> None:
        name = _get(action, "Channel")
        ch = self.rt.pbx.find(name)
        if ch is None or ch.hanging_up:
            s.send(m.response(aid, "Error", [("Message", f"Channel does not exist: {name}")]))
            return
        priority = _get(action, "Priority") or "1"
        ch.redirect_to = (
            _get(action, "Context") or ch.context,
            _get(action, "Exten") or ch.exten,
            int(priority) if priority.isdigit() else 1,
        )
        log.debug("AMI Redirect %s to %s", ch.name, ch.redirect_to)
        ch.poke()
        s.send(m.response(aid, "Success", [("Message", "Redirect successful")]))

    async def setvar(self, s: AmiSession, action: Action, aid: str | None) -> None:
        variable, value = _get(action, "Variable"), _get(action, "Value")
        name = _get(action, "Channel")
        if name:
            ch = self.rt.pbx.find(name)
            if ch is None:
                s.send(m.response(aid, "Error", [("Message", "No such channel")]))
                return
            ch.variables[variable] = value
        else:
            self.rt.globals[variable] = value
        s.send(m.response(aid, "Success", [("Message", "Variable Set")]))

    async def getvar(self, s: AmiSession, action: Action, aid: str | None) -> None:
        variable, name = _get(action, "Variable"), _get(action, "Channel")
        if name:
            ch = self.rt.pbx.find(name)
            if ch is None:
                s.send(m.response(aid, "Error", [("Message", "No such channel")]))
                return
            value = expand(self.rt, ch, "${" + variable + "}")
        else:
            value = self.rt.globals.get(variable, "")
        s.send(m.response(aid, "Success", [("Variable", variable), ("Value", value)]))

    async def core_show_channels(self, s: AmiSession, action: Action, aid: str | None) -> None:
        channels = list(self.rt.pbx.channels.values())
        s.send(m.response(aid, "Success", [("EventList", "start"), ("Message", "Channels will follow")]))
        for ch in channels:
            s.send(m.core_show_channel(ch, aid))
        s.send(m.list_complete("CoreShowChannelsComplete", aid, len(channels)))

    async def device_state_list(self, s: AmiSession, action: Action, aid: str | None) -> None:
        """manager_devicestate.c: a list ack, one DeviceStateChange per cached device, the count."""
        states = self.device_states()
        s.send(
            m.response(
                aid, "Success", [("EventList", "start"), ("Message", "Device State Changes will follow")]
            )
        )
        for device, state in states:
            s.send(m.device_state_change(device, state, aid if aid is not None else ""))
        s.send(m.list_complete("DeviceStateListComplete", aid, len(states)))

    async def bridge(self, s: AmiSession, action: Action, aid: str | None) -> None:
        n1, n2 = _get(action, "Channel1"), _get(action, "Channel2")
        ch1, ch2 = self.rt.pbx.find_prefix(n1), self.rt.pbx.find_prefix(n2)
        if ch1 is None:
            s.send(m.response(aid, "Error", [("Message", f"Channel1 does not exist: {n1}")]))
            return
        if ch2 is None:
            s.send(m.response(aid, "Error", [("Message", f"Channel2 does not exist: {n2}")]))
            return
        s.send(m.response(aid, "Success", [("Message", "Channels have been bridged")]))
        for ch in (ch1, ch2):
            ch.pulled = True
        self.rt.pbx.join(ch1, ch2)

    async def status(self, s: AmiSession, action: Action, aid: str | None) -> None:
        name = _get(action, "Channel")
        channels = list(self.rt.pbx.channels.values())
        if name:
            found = self.rt.pbx.find(name)
            if found is None:
                s.send(m.response(aid, "Error", [("Message", "No such channel")]))
                return
            channels = [found]
        s.send(
            m.response(aid, "Success", [("EventList", "start"), ("Message", "Channel status will follow")])
        )
        for ch in channels:
            msg: m.Message = [("Event", "Status"), ("Privilege", "Call"), *m.channel_fields(ch)]
            msg += [
                ("Type", ch.tech),
                ("DNID", ch.dnid),
                ("EffectiveConnectedLineNum", ch.connected_num),
                ("EffectiveConnectedLineName", ch.connected_name),
                ("TimeToHangup", "0"),
                ("BridgeID", ch.bridge.uniqueid if ch.bridge else ""),
                ("Application", ch.application),
                ("Data", ch.app_data),
                ("Seconds", str(int(time.monotonic() - ch.created))),
            ]
            if aid is not None:
                msg.append(("ActionID", aid))
            s.send(msg)
        done = m.list_complete("StatusComplete", aid, len(channels))
        s.send([*done, ("Items", str(len(channels)))])

    async def core_status(self, s: AmiSession, action: Action, aid: str | None) -> None:
        started = time.localtime(self.rt.pbx.started)
        date, clock = time.strftime("%Y-%m-%d", started), time.strftime("%H:%M:%S", started)
        s.send(
            m.response(
                aid,
                "Success",
                [
                    ("CoreStartupDate", date),
                    ("CoreStartupTime", clock),
                    ("CoreReloadDate", date),
                    ("CoreReloadTime", clock),
                    ("CoreCurrentCalls", str(len(self.rt.pbx.channels))),
                    ("CoreProcessedCalls", str(self.rt.pbx.processed_calls)),
                ],
            )
        )

    async def command(self, s: AmiSession, action: Action, aid: str | None) -> None:
        text = _get(action, "Command")
        lines = self.cli(text) if self.cli is not None else None
        if lines is None:
            lines = [
                "Asterisk 22.10.1 built from source on x86_64 Linux"
                if text == "core show version"
                else f"No such command '{text}' (type 'core show help {text}' for other possible commands)"
            ]
        output = [("Output", line) for line in lines]
        s.send(m.response(aid, "Success", [("Message", "Command output follows"), *output]))
