"""`ChanSpy(prefix,options)` for the simulator: a supervisor leg listening to an agent's channel.

No audio is modelled; what matters to callserver is what Asterisk 22 reports (s13 transcript):
ChanSpyStart / ChanSpyStop with Spyer* and Spyee* channel blocks, and with `E` the spy leg ending
when the spied-on channel hangs up. Like app_chanspy, the application does not give up when no
channel matches: it scans again every 100 ms until one appears or the spy leg hangs up (or is
redirected); without `E` it goes back to scanning when the spied-on channel hangs up. Only `S`
makes it leave when there is nothing (left) to spy on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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


def _until_over(spyer: Channel, spyee: Channel) -> Callable[[], bool]:
    """Spying on `spyee` is over: either leg hangs up, or the spy leg is redirected."""
    return lambda: spyer.hanging_up or spyer.redirect_to is not None or spyee.gone


RESCAN = 0.1  # seconds between scans when nothing matches (app_chanspy's waitms)


async def app_chanspy(rt: Runtime, ch: Channel, args: list[str]) -> Jump:
    """Spy on the first channel whose name starts with the prefix (never on ourselves)."""
    prefix = args[0].strip() if args else ""
    options = args[1] if len(args) > 1 else ""

    def leaving() -> bool:
        return ch.hanging_up or ch.redirect_to is not None

    reported = False
    while not leaving():
        target = next(
            (
                c
                for c in rt.pbx.channels.values()
                if c is not ch and prefix and c.name.startswith(prefix) and not c.gone
            ),
            None,
        )
        if target is None:
            if "S" in options:
                log.debug("%s: ChanSpy(%s): nothing to spy on, leaving (S)", ch.name, prefix)
                return None
            if not reported:
                log.debug("%s: ChanSpy(%s) finds nothing to spy on yet; scanning", ch.name, prefix)
                reported = True
            await ch.wait_for(leaving, RESCAN * rt.timing.scale)
            continue
        log.debug("%s: ChanSpy on %s (%s)", ch.name, target.name, options)
        rt.pbx.emit(_spy_event("ChanSpyStart", ch, target))
        watcher = asyncio.ensure_future(_poke_when_gone(target, ch))
        try:
            await ch.wait_for(_until_over(ch, target))
        finally:
            watcher.cancel()
        rt.pbx.emit(_spy_event("ChanSpyStop", ch, target))
        if "E" in options and target.gone:
            return None
        reported = False
    return None
