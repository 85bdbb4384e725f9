"""The campaign dialler on the PBX side: carries out the engine's commands with `PbxActions` and
turns the PBX events about each dial into engine inputs (docs/campaigns.md, "AMI and dialplan").

An attempt's id is the ChannelId of the customer's channel, so every event about that channel
names the attempt. How a dial ends is read as Asterisk reports it (s4, s10): OriginateResponse
Reason 4 answered, 3 no answer, 5 busy, 8 congestion; Reason 0 is resolved from the Hangup cause
that follows (17 busy, 1/28 no such number, 18/19 no answer, else failed). After an AMI cut, the
channels the PBX still has are listed and every attempt whose channel is gone is ended, so no
attempt record is left open.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ..pbx.actions import PbxActions, PbxError
from ..pbx.channels import ChannelNames
from ..pbx.dialplan import Context, Var
from ..pbx.events import (
    AmdDecided,
    BridgeEntered,
    ChannelCreated,
    ChannelHungUp,
    ChannelStateChanged,
    DialEnded,
    OriginateResult,
    PbxConnected,
)
from ..pbx.hub import Subscriptions
from .commands import (
    ConnectToAgent,
    Dial,
    HangUp,
    LeaveMachineMessage,
    PlayInfoMessageAndHangup,
)
from .engine import DialProgress
from .model import AmdDecision

log = logging.getLogger("callserver.campaigns.dialler")

BY_REASON = {3: DialProgress.NO_ANSWER, 5: DialProgress.BUSY, 8: DialProgress.FAILED}
BY_CAUSE = {
    17: DialProgress.BUSY,
    1: DialProgress.INVALID,
    28: DialProgress.INVALID,
    18: DialProgress.NO_ANSWER,
    19: DialProgress.NO_ANSWER,
    21: DialProgress.NO_ANSWER,
}
AMD_STATUS = {"HUMAN": AmdDecision.HUMAN, "MACHINE": AmdDecision.MACHINE}

PbxCommand = Dial | ConnectToAgent | PlayInfoMessageAndHangup | LeaveMachineMessage | HangUp


class DiallerFeed(Protocol):
    """What the dialler tells the campaign service about its attempts."""

    def attempt_live(self, attempt_id: str) -> bool:
        """The attempt is one of ours and not over yet."""

    def progress(self, attempt_id: str, progress: DialProgress) -> None: ...

    def amd(self, attempt_id: str, decision: AmdDecision) -> None: ...

    def connected(self, attempt_id: str) -> None:
        """The customer's channel entered the agent's bridge."""

    def gone(self, attempt_id: str, by: str) -> None:
        """The customer's channel is gone (`by`: customer, us, network)."""

    def not_connected(self, attempt_id: str, reason: str) -> None:
        """The customer could not be bridged to the agent: the call is lost."""

    def live_attempts(self) -> list[str]:
        """Every attempt still in progress (for the check after a reconnect)."""

    def reconnected(self) -> None:
        """The AMI link is back after a cut: time to `reconcile`."""


@dataclass(slots=True)
class _Dial:
    """What the PBX said so far about one dial."""

    seen: bool = False  # a channel with this uniqueid was created
    answered: bool = False
    failed_reason: int | None = None  # OriginateResponse failure, waiting for the Hangup cause
    cause: int | None = None
    dial_status: str = ""
    hung_up_by_us: bool = False


class PbxDialler:
    def __init__(
        self,
        pbx: PbxActions,
        channels: ChannelNames,
        *,
        bridge: Callable[[str, str], Awaitable[None]],
        dial_string: str,
        feed: DiallerFeed,
        default_info: str,
        default_machine: str,
    ) -> None:
        """`bridge(agent_id, channel)` is the persistent lines' bridge (awaitable)."""
        self.pbx = pbx
        self.channels = channels
        self.bridge = bridge
        self.dial_string = dial_string
        self.feed = feed
        self.default_info = default_info
        self.default_machine = default_machine
        self._dials: dict[str, _Dial] = {}

    # -- commands -------------------------------------------------------------------------------

    async def execute(self, command: PbxCommand) -> None:
        match command:
            case Dial():
                await self._dial(command)
            case ConnectToAgent():
                await self._connect(command)
            case PlayInfoMessageAndHangup():
                message = command.message or self.default_info
                number = command.caller_id.lstrip("+")
                await self._send(
                    command.attempt_id, Context.CAMPAIGN_INFO, {Var.MESSAGE: message, Var.CALLBACK: number}
                )
            case LeaveMachineMessage():
                message = command.message or self.default_machine
                await self._send(command.attempt_id, Context.CAMPAIGN_MACHINE, {Var.MESSAGE: message})
            case HangUp():
                dial = self._dials.get(command.attempt_id)
                if dial is not None:
                    dial.hung_up_by_us = True
                try:
                    await self.pbx.hangup(command.attempt_id)
                except PbxError as err:
                    log.debug("hang-up of attempt %s (%s): %s", command.attempt_id, command.reason, err)

    async def _dial(self, cmd: Dial) -> None:
        self._dials[cmd.attempt_id] = _Dial()
        caller = f'"{cmd.caller_name}" <{cmd.caller_id}>' if cmd.caller_name else cmd.caller_id
        try:
            await self.pbx.originate(
                channel=self.dial_string.format(number=cmd.number),
                context=Context.CAMPAIGN,
                exten="s",
                channel_id=cmd.attempt_id,
                timeout=cmd.ring_timeout,
                caller_id=caller,
                variables={Var.ATTEMPT: cmd.attempt_id, Var.AMD: cmd.amd_args or "", **cmd.variables},
            )
        except PbxError as err:
            log.warning("attempt %s to %s not dialled: %s", cmd.attempt_id, cmd.number, err)
            self._dials.pop(cmd.attempt_id, None)
            if self.feed.attempt_live(cmd.attempt_id):
                self.feed.progress(cmd.attempt_id, DialProgress.FAILED)

    async def _connect(self, cmd: ConnectToAgent) -> None:
        try:
            await self.pbx.setvar(cmd.attempt_id, Var.CONNECTED, "1")
            await self.bridge(cmd.agent_id, self.channels.name(cmd.attempt_id))
        except Exception as err:  # PbxError, or the agent's line gone meanwhile
            log.warning("attempt %s not bridged to %s: %s", cmd.attempt_id, cmd.agent_id, err)
            if self.feed.attempt_live(cmd.attempt_id):
                self.feed.not_connected(cmd.attempt_id, str(err))
            await self.execute(HangUp(cmd.attempt_id, "not connected"))

    async def _send(self, attempt_id: str, context: Context, variables: dict[Var, str]) -> None:
        try:
            for name, value in variables.items():
                await self.pbx.setvar(attempt_id, name, value)
            await self.pbx.redirect(attempt_id, context, "s", 1)
        except PbxError as err:
            log.warning("attempt %s not sent to %s: %s; hanging up", attempt_id, context, err)
            await self.execute(HangUp(attempt_id, f"not sent to {context}"))

    # -- PBX events -----------------------------------------------------------------------------

    def subscriptions(self) -> Subscriptions:
        return (
            Subscriptions("campaign-dialler")
            .on(ChannelCreated, self._on_created)
            .on(ChannelStateChanged, self._on_state)
            .on(OriginateResult, self._on_originate)
            .on(DialEnded, self._on_dial_end)
            .on(AmdDecided, self._on_amd)
            .on(BridgeEntered, self._on_bridge)
            .on(ChannelHungUp, self._on_hangup)
            .on(PbxConnected, self._on_connected)
        )

    def _on_created(self, event: ChannelCreated) -> None:
        dial = self._dials.get(event.uniqueid)
        if dial is not None:
            dial.seen = True

    def _on_state(self, event: ChannelStateChanged) -> None:
        if event.uniqueid in self._dials and event.state == "Ringing":
            self._dials[event.uniqueid].seen = True
            self.feed.progress(event.uniqueid, DialProgress.RINGING)

    def _on_originate(self, event: OriginateResult) -> None:
        dial = self._dials.get(event.uniqueid)
        if dial is None or not self.feed.attempt_live(event.uniqueid):
            return
        if event.success:
            dial.answered = True
            self.feed.progress(event.uniqueid, DialProgress.ANSWERED)
            return
        progress = BY_REASON.get(event.reason)
        if progress is not None:
            self._failed(event.uniqueid, progress)
        elif dial.cause is not None:
            self._failed(event.uniqueid, BY_CAUSE.get(dial.cause, DialProgress.FAILED))
        elif not dial.seen:
            self._failed(event.uniqueid, DialProgress.FAILED)  # no channel at all (no endpoint)
        else:
            dial.failed_reason = event.reason  # the Hangup that follows says why

    def _on_dial_end(self, event: DialEnded) -> None:
        dial = self._dials.get(event.dest_uniqueid)
        if dial is not None:
            dial.dial_status = event.status

    def _on_amd(self, event: AmdDecided) -> None:
        if self.feed.attempt_live(event.uniqueid) and event.status != "HANGUP":
            self.feed.amd(event.uniqueid, AMD_STATUS.get(event.status, AmdDecision.NOT_SURE))

    def _on_bridge(self, event: BridgeEntered) -> None:
        dial = self._dials.get(event.uniqueid)
        if dial is not None and dial.answered and self.feed.attempt_live(event.uniqueid):
            self.feed.connected(event.uniqueid)

    def _on_hangup(self, event: ChannelHungUp) -> None:
        dial = self._dials.get(event.uniqueid)
        if dial is None:
            return
        dial.cause = event.cause
        if dial.failed_reason is not None:
            self._failed(event.uniqueid, BY_CAUSE.get(event.cause, DialProgress.FAILED))
        elif dial.answered:
            self._dials.pop(event.uniqueid, None)
            if self.feed.attempt_live(event.uniqueid):
                self.feed.gone(event.uniqueid, "us" if dial.hung_up_by_us else "customer")
        # not answered and no OriginateResponse yet: it comes next and reads the cause kept here

    def _failed(self, attempt_id: str, progress: DialProgress) -> None:
        self._dials.pop(attempt_id, None)
        if self.feed.attempt_live(attempt_id):
            self.feed.progress(attempt_id, progress)

    def _on_connected(self, event: PbxConnected) -> None:
        if event.reconnect:
            self.feed.reconnected()

    async def reconcile(self) -> int:
        """After an AMI cut: end every attempt whose channel the PBX no longer has (the events
        of the cut are lost). Returns how many were ended."""
        try:
            live = {s.uniqueid for s in await self.pbx.core_show_channels()}
        except PbxError as err:
            log.warning("campaign attempts not checked after the reconnect: %s", err)
            return 0
        ended = 0
        for attempt_id in self.feed.live_attempts():
            if attempt_id in live:
                continue
            ended += 1
            dial = self._dials.pop(attempt_id, None)
            log.warning("attempt %s: its channel is gone after the AMI cut, ended", attempt_id)
            if dial is not None and not dial.answered and dial.cause is not None:
                self.feed.progress(attempt_id, BY_CAUSE.get(dial.cause, DialProgress.FAILED))
            else:
                self.feed.gone(attempt_id, "network")
        return ended
