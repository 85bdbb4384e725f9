"""`ChanSpy(prefix,options)` for the simulator: a supervisor leg listening to an agent's channel.

No audio is modelled; what matters to callserver is what Asterisk 22 reports (s13 transcript):
ChanSpyStart / ChanSpyStop with Spyer* and Spyee* channel blocks, and with `E` the spy leg ending
when the spied-on channel hangs up.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from callserver.sim import messages as m
from callserver.sim.model import Channel

if TYPE_CHECKING:  # apps.py registers this application, so it cannot be imported from here at run time
    from callserver.sim.apps import Jump, Runtime

log = logging.getLogger("callserver.sim.dialplan")


async def _poke_when_gone(target: Channel, spyer: Channel) -> None:
    await target.ended.wait()
    spyer.poke()


def _spy_event(name: str, spyer: Channel, spyee: Channel) -> m.Message:
    return [
        ("Event", name),
        ("Privilege", "call,all"),
        *m.channel_fields(spyer, "Spyer"),
        *m.channel_fields(spyee, "Spyee"),
    ]


async def app_chanspy(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """Spy on the first channel whose name starts with the prefix (never on ourselves)."""
    prefix = args[0].strip() if args else ""
    options = args[1] if len(args) > 1 else ""
    target = next(
        (c for c in rt.pbx.channels.values() if c is not ch and prefix and c.name.startswith(prefix)),
        None,
    )
    if target is None:
        log.info("%s: ChanSpy(%s) found nothing to spy on", ch.name, prefix)
        return None
    log.info("%s: ChanSpy on %s (%s)", ch.name, target.name, options)
    rt.pbx.emit(_spy_event("ChanSpyStart", ch, target))
    watcher = asyncio.ensure_future(_poke_when_gone(target, ch))
    try:
        ends_with_target = "E" in options
        await ch.wait_for(
            lambda: ch.hanging_up or ch.redirect_to is not None or (ends_with_target and target.gone)
        )
    finally:
        watcher.cancel()
    rt.pbx.emit(_spy_event("ChanSpyStop", ch, target))
    return None
