"""The `agent` FastAGI script: run on every agent leg once the agent's phone answers.

It asks the engine whether this leg takes the call: a remote agent must first press 1 (so a home
voicemail or a family member cannot take it), and in a ring-all queue only the first leg to get
here wins. The answer goes back to the dialplan as `CS_ACCEPT`: bridge, dial (callback) or refused.
"""

from __future__ import annotations

import logging

from ..agi.session import AgiError, AgiHangup, AgiSession
from ..pbx.dialplan import Var
from ..sounds.folder import SoundFolder
from ..sounds.names import ACCEPT_CALL
from .service import AcdService

log = logging.getLogger("callserver.acd.agentleg")

ACCEPT_KEY = "1"  # what ACCEPT_CALL asks the agent to press


class AgentLegScript:
    """`sounds` names the accept prompt in callserver's sounds folder (`callserver prompts build`
    makes it; Asterisk has no such core sound)."""

    def __init__(self, service: AcdService, *, accept_timeout: float = 8.0, sounds: SoundFolder) -> None:
        self.service = service
        self.accept_timeout = accept_timeout
        self.accept_prompt = sounds.name(ACCEPT_CALL)

    async def __call__(self, session: AgiSession) -> None:
        leg_id = session.uniqueid
        leg = self.service.leg(leg_id)
        if leg is None:
            log.info("agent leg %s (%s) is not one we are offering: refused", leg_id, session.channel)
            return
        try:
            if leg.needs_accept:
                try:
                    key = await session.stream_file(self.accept_prompt, "0123456789*#")
                except AgiError:
                    if session.hung_up:
                        raise
                    # Asterisk answers result=-1 when it has no such file: the agent heard nothing
                    log.error(
                        "agent leg %s: Asterisk could not play %s: run `callserver prompts build` and "
                        "check that Asterisk reads the sounds folder (`callserver doctor`)",
                        leg_id,
                        self.accept_prompt,
                    )
                    raise
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
