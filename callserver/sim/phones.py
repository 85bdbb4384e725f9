"""Simulated agent phones and the legs the PBX dials to them (Originate and Dial).

A phone is any `PJSIP/<extension>`, `PJSIP/<number>@trunk` or configured agent interface; it rings,
then answers after a delay or never, as configured per run and overridable per interface by tests.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass

from callserver.config import Settings
from callserver.sim import messages as m
from callserver.sim.model import Channel
from callserver.sim.pbx import Pbx

log = logging.getLogger("callserver.sim.phones")

_EXTENSION = re.compile(r"^PJSIP/[0-9]+$")
_TRUNK = re.compile(r"^PJSIP/(\+?[0-9]+)@trunk$")


@dataclass
class PhoneOverride:
    answer_delay: float | None = None
    answers: bool | None = None
    keys: str | None = None  # what the person who answers types when asked (e.g. "1" to accept)


@dataclass(frozen=True)
class RingResult:
    """How a ring ended: ANSWER, NOANSWER (timeout) or CANCEL (hung up by the PBX side)."""

    status: str
    channel: Channel


class Phones:
    """Decides how each phone behaves and runs the ringing of legs dialled to it."""

    def __init__(
        self, settings: Settings, pbx: Pbx, rng: random.Random, time_scale: float, context: str = "default"
    ) -> None:
        self.settings, self.pbx, self.rng = settings, pbx, rng
        self.scale = time_scale
        self.context = context
        self.overrides: dict[str, PhoneOverride] = {}
        self.names = {a.interface: a.name for a in settings.agents if a.interface}
        self.unreachable: set[str] = set()  # interfaces whose phone no longer answers qualify

    def set_phone(
        self,
        interface: str,
        *,
        answer_delay: float | None = None,
        answers: bool | None = None,
        keys: str | None = None,
    ) -> None:
        self.overrides[interface] = PhoneOverride(answer_delay, answers, keys)

    def exists(self, interface: str) -> bool:
        return (
            interface in self.overrides
            or interface in self.names
            or bool(_EXTENSION.match(interface) or _TRUNK.match(interface))
        )

    def reachable(self, interface: str) -> bool:
        """An endpoint with no reachable contact cannot be called: chan_pjsip creates no channel."""
        return self.exists(interface) and interface not in self.unreachable

    def behaviour(self, interface: str) -> tuple[bool, float]:
        """(answers, delay in seconds); random draws use the seeded generator."""
        cfg = self.settings.simulator.phones
        override = self.overrides.get(interface, PhoneOverride())
        answers = override.answers
        if answers is None:
            answers = self.rng.random() >= cfg.no_answer_rate
        delay = override.answer_delay
        if delay is None:
            delay = self.rng.uniform(*cfg.answer_delay) * self.scale
        return answers, delay

    def new_leg(self, interface: str, uniqueid: str | None) -> Channel:
        """The channel for a call to `interface`, named as chan_pjsip names it (after the endpoint)."""
        trunk = _TRUNK.match(interface)
        resource = "PJSIP/trunk" if trunk else interface.split("@", 1)[0]
        number = trunk.group(1) if trunk else interface.split("/", 1)[1]
        name = self.names.get(interface, "<unknown>")
        ch = self.pbx.new_channel(
            resource,
            caller_num=number if not trunk else "<unknown>",
            caller_name=name,
            context=self.context,
            exten="s",
            state=0,
            uniqueid=uniqueid,
        )
        ch.dialing = True
        return ch

    async def ring(
        self, ch: Channel, interface: str, timeout: float | None, caller: Channel | None = None
    ) -> RingResult:
        """Ring the leg until the phone answers, the timeout passes or the PBX cancels it."""
        dial_string = interface.split("/", 1)[1]
        src = m.channel_fields(caller) if caller is not None else []
        self.pbx.emit(
            [
                ("Event", "DialBegin"),
                ("Privilege", m.CALL),
                *src,
                *m.channel_fields(ch, "Dest"),
                ("DialString", dial_string),
            ]
        )
        self.pbx.set_state(ch, 5)
        self.pbx.emit(
            [
                ("Event", "DialState"),
                ("Privilege", m.CALL),
                *src,
                *m.channel_fields(ch, "Dest"),
                ("DialStatus", "RINGING"),
            ]
        )
        answers, delay = self.behaviour(interface)
        log.debug("%s rings (%s)", ch.name, f"answers after {delay:.2f} s" if answers else "no answer")
        wait = delay if answers else None
        if timeout is not None:
            wait = timeout if wait is None else min(wait, timeout)
        await ch.wait_for(lambda: ch.hanging_up or ch.pick_up, wait)
        if ch.hanging_up:
            self._dial_end(ch, caller, "NOANSWER")
            return RingResult("CANCEL", ch)
        if not ch.pick_up and (not answers or (timeout is not None and delay > timeout)):
            return RingResult("NOANSWER", ch)
        ch.dialing = False
        self.pbx.set_state(ch, 6)
        self._dial_end(ch, caller, "ANSWER")
        keys = self.overrides.get(interface, PhoneOverride()).keys
        ch.keypad.extend(self.settings.simulator.phones.accept_keys if keys is None else keys)
        log.debug("%s answered", ch.name)
        return RingResult("ANSWER", ch)

    def _dial_end(self, ch: Channel, caller: Channel | None, status: str) -> None:
        src = m.channel_fields(caller) if caller is not None else []
        self.pbx.emit(
            [
                ("Event", "DialEnd"),
                ("Privilege", m.CALL),
                *src,
                *m.channel_fields(ch, "Dest"),
                ("DialStatus", status),
            ]
        )

    async def dial(self, caller: Channel, interfaces: list[str], timeout: float | None) -> Channel | None:
        """The Dial application's outbound leg (first known interface); None if unanswered."""
        interface = next((i for i in interfaces if self.reachable(i)), None)
        if interface is None:
            caller.variables["DIALSTATUS"] = "CHANUNAVAIL"
            return None
        leg = self.new_leg(interface, None)
        leg.linkedid = caller.linkedid
        self.pbx.set_connected(leg, caller.caller_num, caller.caller_name)
        result = await self.ring(leg, interface, timeout, caller)
        if caller.hanging_up and result.status == "ANSWER":
            self.pbx.soft_hangup(leg)
        if result.status != "ANSWER" or caller.hanging_up:
            if result.status == "NOANSWER":
                self._dial_end(leg, caller, "NOANSWER")
            caller.variables["DIALSTATUS"] = "CANCEL" if caller.hanging_up else "NOANSWER"
            self.pbx.finish(leg, 0)
            return None
        return leg
