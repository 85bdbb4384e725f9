"""The `inbound` FastAGI script: a caller's first contact with callserver.

Reads who called which number, picks the queue from the dialled number, tells the dialplan where the
caller goes next (`CS_NEXT`: hold, or unavailable) and hands the call to the ACD.
"""

from __future__ import annotations

import logging

from .acd.adapter import AcdService
from .agi.session import AgiSession, inbound_call
from .config import Settings

log = logging.getLogger("callserver.inbound")


class InboundScript:
    def __init__(self, settings: Settings, service: AcdService) -> None:
        self.settings = settings
        self.service = service

    async def __call__(self, session: AgiSession) -> None:
        call = inbound_call(session)
        if not call.uniqueid or not call.channel:
            log.error("inbound AGI without agi_uniqueid/agi_channel: %r", session.env)
            return
        queue = self.settings.queue_for_dnis(call.dnis)
        if queue is None:
            log.warning(
                "call %s from %s to unknown number %r: no queue, caller told no service",
                call.uniqueid,
                call.caller_num,
                call.dnis,
            )
            await session.set_variable("CS_NEXT", "unavailable")
            self.service.reject_call(call, f"no queue for number {call.dnis!r}")
            return
        await session.set_variable("CS_QUEUE", queue.name)
        await session.set_variable("CS_NEXT", "hold")
        log.info(
            "call %s from %s to %s enters queue %s", call.uniqueid, call.caller_num, call.dnis, queue.name
        )
        self.service.inbound_call(call, queue.name)
