"""The AMI Originate action: ring a phone, then run the answered leg through the dialplan (or one
application), reporting with the OriginateResponse event exactly as Asterisk 22 does
(Reason 4 answered, 3 rang out, 0 unknown endpoint or cancelled).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from callserver.sim import messages as m
from callserver.sim.apps import APPS, Runtime, expand, stay_in_bridge
from callserver.sim.dialplan import split_args
from callserver.sim.executor import run_channel
from callserver.sim.model import Channel
from callserver.sim.phones import Phones

log = logging.getLogger("callserver.sim.originate")


@dataclass
class OriginateRequest:
    channel: str
    context: str = ""
    exten: str = ""
    priority: int = 1
    application: str = ""
    data: str = ""
    timeout_ms: float = 30000.0
    callerid: tuple[str, str] | None = None
    variables: dict[str, str] = field(default_factory=dict)
    channel_id: str | None = None
    action_id: str | None = None

    @classmethod
    def from_action(cls, action: dict[str, str | list[str]]) -> OriginateRequest:
        def get(key: str, default: str = "") -> str:
            value = action.get(key, default)
            return value if isinstance(value, str) else default

        variables: dict[str, str] = {}
        raw_vars = action.get("Variable", [])
        for item in raw_vars if isinstance(raw_vars, list) else [raw_vars]:
            name, _, value = item.partition("=")
            variables[name.strip()] = value
        priority = get("Priority", "1")
        return cls(
            channel=get("Channel"),
            context=get("Context"),
            exten=get("Exten"),
            priority=int(priority) if priority.isdigit() else 1,
            application=get("Application"),
            data=get("Data"),
            timeout_ms=float(get("Timeout", "30000") or 30000),
            callerid=parse_callerid(get("CallerID")) if get("CallerID") else None,
            variables=variables,
            channel_id=get("ChannelId") or None,
            action_id=get("ActionID") or None,
        )

    def target(self) -> m.Message:
        if self.application:
            return [("Application", self.application), ("Data", self.data)]
        return [("Context", self.context), ("Exten", self.exten)]


def parse_callerid(text: str) -> tuple[str, str]:
    """`"Caller 1" <+15550001>` -> (number, name)."""
    match = re.match(r'^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$', text)
    if match:
        return match.group(2), match.group(1) or "<unknown>"
    return text.strip(), "<unknown>"


async def originate(
    rt: Runtime, phones: Phones, req: OriginateRequest, report: Callable[[m.Message], None] | None
) -> bool:
    """Place the call; `report` receives the OriginateResponse event (None: synchronous action)."""
    cid_num, cid_name = req.callerid or ("<unknown>", "<unknown>")

    def respond(ok: bool, channel: str, reason: int, uniqueid: str) -> None:
        if report is not None:
            report(
                m.originate_response(
                    req.action_id, ok, channel, req.target(), reason, uniqueid, cid_num, cid_name
                )
            )

    if not phones.reachable(req.channel):
        # a missing endpoint and one with no reachable contact fail alike: no channel, Reason 0
        log.debug("originate %s: no such endpoint or no reachable contact", req.channel)
        respond(False, req.channel, 0, req.channel_id or "<unknown>")
        return False
    ch = phones.new_leg(req.channel, req.channel_id)
    ch.variables.update(req.variables)
    if req.callerid is not None:
        ch.caller_num, ch.caller_name = cid_num, cid_name
        rt.pbx.emit(
            m.channel_event(
                "NewCallerid", ch, [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")]
            )
        )
        rt.pbx.set_connected(ch, cid_num, cid_name)
    log.debug("originate %s -> %s (ChannelId %s)", req.channel, ch.name, ch.uniqueid)
    result = await phones.ring(ch, req.channel, req.timeout_ms / 1000)
    if result.status == "CANCEL":
        respond(False, req.channel, 0, req.channel_id or "<unknown>")
        rt.pbx.finish(ch, 0)
        return False
    if result.status == "NOANSWER":
        respond(False, req.channel, 3, req.channel_id or "<unknown>")
        rt.pbx.finish(ch, 19, tech_cause=480)
        return False
    respond(True, ch.name, 4, ch.uniqueid)
    if req.application:
        rt.spawn(_run_application(rt, ch, req.application, req.data), ch.name)
    else:
        ch.context, ch.exten, ch.priority = req.context, req.exten, req.priority
        rt.spawn(run_channel(rt, ch), ch.name)
    return True


async def _run_application(rt: Runtime, ch: Channel, app_name: str, data: str) -> None:
    try:
        app = APPS.get(app_name.lower())
        ch.application, ch.app_data = app_name, data
        if app is None:
            log.error("originate %s: application %r is not implemented by the simulator", ch.name, app_name)
            rt.pbx.soft_hangup(ch)
            return
        expanded = expand(rt, ch, data)
        await app(rt, ch, split_args(expanded) if expanded else [])
        while (ch.pulled or ch.bridge is not None) and not ch.hanging_up:
            await stay_in_bridge(rt, ch)  # joined by the AMI Bridge action
        if not ch.hanging_up:
            rt.pbx.soft_hangup(ch)
    finally:
        rt.pbx.finish(ch)
