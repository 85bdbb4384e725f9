"""Carries out the ACD engine's commands on the PBX: originates, redirects, hangups.

The engine says what (ring this agent for that call, send this caller to a mailbox); this module
says how in dialplan terms: which context, which `CS_*` channel variables. A failure that is not
the agent's fault (link down) and one that is (endpoint refused) go back to the engine as inputs,
through `LegFeedback`. A goodbye message that could not be played because the link was down is
kept and played again after the resynchronisation that follows the reconnect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, assert_never

from ..pbx.actions import ActionRefused, LinkDown, PbxActions, PbxError
from ..pbx.channels import ChannelNames
from ..pbx.dialplan import Context, Var
from .commands import (
    Announce,
    CancelAgentLeg,
    Command,
    ConfirmCallback,
    OfferTask,
    OriginateAgentLeg,
    PlayMessageAndHangup,
    SendCallerTo,
)

log = logging.getLogger("callserver.acd.adapter")

LEG_SWEEP_MIN = 256  # below this many started legs on record, no sweep


class LegFeedback(Protocol):
    """What the adapter reports back about the legs it was asked to originate."""

    def leg_unreachable(self, leg_id: str) -> None:
        """The PBX refused the originate: the agent's phone cannot be reached."""

    def leg_not_sent(self, leg_id: str) -> None:
        """The originate never reached the PBX (link down): not the agent's fault."""

    def leg_live(self, leg_id: str) -> bool:
        """The engine still knows the leg."""


class LineFeedback(Protocol):
    """Offers taken on agents' persistent lines (acd/lines.py): bridged, never originated."""

    def is_line(self, leg_id: str) -> bool:
        """This leg is an agent's persistent line."""

    def claim_line_leg(self, leg_id: str) -> bool:
        """The agent takes the offer (no key to press: they are on the line); False when lost."""

    def line_leg_done(self, leg_id: str) -> None:
        """The line's part in the call is over; the line stays up."""


def leg_context(cmd: OriginateAgentLeg) -> Context:
    return Context.CONSULT if cmd.purpose == "consult" else Context.AGENT


def leg_variables(cmd: OriginateAgentLeg, *, peer_channel: str = "") -> dict[str, str]:
    """The channel variables `[callserver-agent]` / `[callserver-consult]` read on an agent leg.

    A consulted colleague's leg bridges to the asking agent's leg: `peer_channel` is that leg's
    channel name when known (else its id, which AMI accepts too).
    """
    if cmd.purpose == "consult":
        return {Var.CALL: cmd.call_id, Var.AGENT: cmd.agent_id, Var.PEER_LEG: peer_channel or cmd.peer_leg}
    variables: dict[str, str] = {
        Var.CALLER: cmd.caller_channel,
        Var.CALL: cmd.call_id,
        Var.AGENT: cmd.agent_id,
    }
    if cmd.purpose == "callback":
        variables[Var.DIAL] = cmd.dial
    return variables


class PbxCommands:
    def __init__(
        self,
        pbx: PbxActions,
        channels: ChannelNames,
        feedback: LegFeedback,
        clock: Callable[[], float],
        lines: LineFeedback | None = None,
    ) -> None:
        self.pbx = pbx
        self.channels = channels
        self.feedback = feedback
        self.clock = clock
        self.lines = lines
        self._pending_messages: dict[str, PlayMessageAndHangup] = {}
        # when each leg this process originated started (resync spares legs too young to judge);
        # legs that ended are dropped when the record has doubled since the last sweep, so an
        # originate costs O(1) on average instead of a pass over every live leg
        self._leg_started: dict[str, float] = {}
        self._sweep_at = LEG_SWEEP_MIN

    async def execute(self, command: Command) -> None:
        lines = self.lines
        match command:
            case OriginateAgentLeg() if lines is not None and lines.is_line(command.leg_id):
                await self._bridge_line(command, lines)
            case CancelAgentLeg() if lines is not None and lines.is_line(command.leg_id):
                lines.line_leg_done(command.leg_id)  # the line stays: it is the agent's phone
            case OriginateAgentLeg():
                await self._originate(command)
            case CancelAgentLeg():
                try:
                    await self.pbx.hangup(command.leg_id)
                except PbxError as err:
                    # "No such channel" is normal: the leg ended on its own meanwhile
                    log.debug("cancel of leg %s: %s", command.leg_id, err)
            case PlayMessageAndHangup():
                await self.play_message(command)
            case SendCallerTo():
                if command.kind == "voicemail":
                    await self._redirect(
                        command.call_id, command.channel, Context.VOICEMAIL, {Var.VOICEMAIL: command.target}
                    )
                else:
                    await self._redirect(
                        command.call_id, command.channel, Context.DIAL, {Var.DIAL: command.target}
                    )
            case Announce():
                variables: dict[str, str] = {
                    Var.POSITION: str(command.position),
                    Var.WAIT_MIN: str(max(1, round(command.wait_seconds / 60))),
                }
                await self._redirect(command.call_id, command.channel, Context.ANNOUNCE, variables)
            case ConfirmCallback():
                await self._redirect(command.call_id, command.channel, Context.CALLBACK, {})
            case OfferTask():
                pass  # nothing for the PBX: the desktop pops the task from the CallOffered fact
            case _:
                assert_never(command)

    async def originate_leg(self, command: OriginateAgentLeg) -> None:
        """Originate an agent leg; PbxError when the PBX refuses it or cannot be reached."""
        if len(self._leg_started) >= self._sweep_at:
            live = self.feedback.leg_live
            self._leg_started = {k: v for k, v in self._leg_started.items() if live(k)}
            self._sweep_at = max(LEG_SWEEP_MIN, 2 * len(self._leg_started))
        self._leg_started[command.leg_id] = self.clock()
        peer = self.channels.name(command.peer_leg) if command.peer_leg else ""
        await self.pbx.originate(
            channel=command.endpoint,
            context=leg_context(command),
            exten="s",
            priority=1,
            channel_id=command.leg_id,
            timeout=command.ring_timeout,
            caller_id=command.caller_id,
            variables=leg_variables(command, peer_channel=peer),
        )

    def leg_started(self, leg_id: str) -> float:
        """When the leg was originated (0 when not by this process)."""
        return self._leg_started.get(leg_id, 0.0)

    def legs_on_record(self) -> int:
        """How many legs `leg_started` remembers: the live ones and at most as many ended ones."""
        return len(self._leg_started)

    async def _originate(self, command: OriginateAgentLeg) -> None:
        try:
            await self.originate_leg(command)
        except ActionRefused as err:
            log.error("originate to %s for call %s refused: %s", command.endpoint, command.call_id, err)
            self.feedback.leg_unreachable(command.leg_id)
        except LinkDown as err:
            log.warning("originate for call %s not sent (%s); offer held", command.call_id, err)
            self.feedback.leg_not_sent(command.leg_id)

    async def _bridge_line(self, command: OriginateAgentLeg, lines: LineFeedback) -> None:
        """Bridge the caller into the agent's persistent line at once (AMI `Bridge`): the line
        continues at its next priority when the caller leaves, back to its holding loop."""
        if not lines.claim_line_leg(command.leg_id):
            lines.line_leg_done(command.leg_id)
            return
        try:
            await self.pbx.bridge(command.caller_channel, self.channels.name(command.leg_id))
        except PbxError as err:
            log.warning("call %s not bridged to %s's line: %s", command.call_id, command.agent_id, err)
            lines.line_leg_done(command.leg_id)

    async def _redirect(self, call_id: str, channel: str, context: str, variables: dict[str, str]) -> None:
        try:
            for name, value in variables.items():
                await self.pbx.setvar(channel, name, value)
            await self.pbx.redirect(channel, context, "s", 1)
        except PbxError as err:
            log.warning("could not send call %s (%s) to %s: %s", call_id, channel, context, err)

    # -- goodbye messages kept across a reconnect -----------------------------------------------

    async def play_message(self, command: PlayMessageAndHangup) -> None:
        self._pending_messages[command.call_id] = command
        try:
            await self.pbx.setvar(command.channel, Var.MESSAGE, command.message)
            await self.pbx.redirect(command.channel, Context.MESSAGE, "s", 1)
        except ActionRefused as err:
            self._pending_messages.pop(command.call_id, None)
            log.info("message for call %s not played: %s", command.call_id, err)
        except LinkDown as err:
            log.warning("message for call %s will be retried after reconnect (%s)", command.call_id, err)
        else:
            self._pending_messages.pop(command.call_id, None)

    def channel_gone(self, uniqueid: str) -> None:
        self._pending_messages.pop(uniqueid, None)

    def messages_to_retry(self, live: set[str]) -> list[PlayMessageAndHangup]:
        """Messages still owed to callers whose channel is `live`; the others are forgotten."""
        retry = []
        for pending in list(self._pending_messages.values()):
            if pending.call_id in live:
                retry.append(pending)
            else:
                self._pending_messages.pop(pending.call_id, None)
        return retry
