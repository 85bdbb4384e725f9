"""The dialplan executor: one asyncio task walks one channel through the parsed dialplan as
Asterisk's PBX thread would, until the channel hangs up.

An application the simulator does not implement stops the channel with an ERROR naming the file,
context and priority: a silent skip would make the simulator lie about what Asterisk does.
"""

from __future__ import annotations

import logging

from callserver.sim import dialplan as dp
from callserver.sim.apps import APPS, Runtime, expand, resolve, stay_in_bridge
from callserver.sim.model import Channel

log = logging.getLogger("callserver.sim.dialplan")


async def run_channel(rt: Runtime, ch: Channel) -> None:
    """Walk `ch` through the dialplan until it hangs up; always ends with the Hangup event."""
    try:
        await _walk(rt, ch)
    finally:
        rt.pbx.finish(ch)
        if ch.pending_dissolve is not None:
            rt.pbx.dissolve(ch.pending_dissolve)
            ch.pending_dissolve = None


async def _walk(rt: Runtime, ch: Channel) -> None:
    while not ch.hanging_up:
        if ch.pulled or ch.bridge is not None:
            await stay_in_bridge(rt, ch)
            continue
        if ch.redirect_to is not None:
            ctx, ext, pri = ch.redirect_to
            ch.redirect_to = None
            ch.context, ch.exten, ch.priority = ctx, ext, pri
            continue
        found = rt.dialplan.find(ch.context, ch.exten, ch.priority)
        if found is None:
            log.debug(
                "%s: no %s,%s,%d in the dialplan: hanging up", ch.name, ch.context, ch.exten, ch.priority
            )
            ch.hangup_cause = 16
            break
        _, step = found
        data = expand(rt, ch, step.data)
        ch.application, ch.app_data = step.app, data
        app = APPS.get(step.app.lower())
        if app is None:
            where = f"{step.source}:{step.line} [{ch.context}] {ch.exten},{ch.priority}"
            message = f"{where}: application {step.app!r} is not implemented by the simulator"
            log.error("%s (%s hung up)", message, ch.name)
            rt.errors.append(message)
            rt.pbx.soft_hangup(ch)
            break
        jump = await app(rt, ch, dp.split_args(data) if data else [])
        rt.pbx.stop_moh(ch)
        if ch.hanging_up:
            break
        if ch.pulled or ch.bridge is not None or ch.redirect_to is not None:
            continue
        if jump is not None:
            ch.redirect_to = resolve(rt, ch, jump)
            continue
        ch.priority += 1
