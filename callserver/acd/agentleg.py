"""The `agent` FastAGI script: run on every agent leg once the agent's phone answers.

It asks the engine whether this leg takes the call: a remote agent must first press 1 (so a home
voicemail or a family member cannot take it), and in a ring-all queue only the first leg to get
here wins. The answer goes back to the dialplan as `CS_ACCEPT`: bridge, dial (callback) or refused.
"""

from __future__ import annotations

import logging

from ..agi.session import AgiError, AgiHangup, AgiSession
from ..pbx.dialplan import Var
from .service import AcdService

log = logging.getLogger("callserver.acd.agentleg")

ACCEPT_PROMPT = "press-1"
ACCEPT_KEY = "1"


class AgentLegScript:
    def __init__(self, service: AcdService, *, accept_timeout: float = 8.0) -> None:
        self.service = service
        self.accept_timeout = accept_timeout

    async def __call__(self, session: AgiSession) -> None:
        leg_id = session.uniqueid
        leg = self.service.leg(leg_id)
        if leg is None:
            log.info("agent leg %s (%s) is not one we are offering: refused", leg_id, session.channel)
            return
        try:
            if leg.needs_accept:
                key = await session.stream_file(ACCEPT_PROMPT, "0123456789*#")
                if key is None:
                    key = await session.wait_for_digit(int(self.accept_timeout * 1000))
                if key != ACCEPT_KEY:
                    log.info("agent leg %s: remote agent did not accept (key %r)", leg_id, key)
                    self.service.leg_refused(leg_id)
                    return
            action = self.service.claim_leg(leg_id)
            if action is not None:
                await session.set_variable(Var.ACCEPT, action)
        except (AgiHangup, AgiError) as err:
            log.info("agent leg %s left during the accept script: %s", leg_id, err)
