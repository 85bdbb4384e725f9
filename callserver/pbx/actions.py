"""What callserver may ask of the PBX, and the two ways an action fails.

`AmiLink` implements `PbxActions`; capabilities depend on the protocol, never on AMI. An action
either fails because the link is down or timed out (`LinkDown`: try again after the reconnect) or
because the PBX refused it (`ActionRefused`: e.g. "No such channel"; retrying would not help).
"""

from __future__ import annotations

from typing import Protocol

from .events import ChannelSnapshot, DeviceStateChanged


class PbxError(Exception):
    """Base of the errors a PBX action raises."""


class LinkDown(PbxError):
    """The link to the PBX is down (or dropped while waiting): the action was not done."""


class ActionTimeout(LinkDown, TimeoutError):
    """No answer within the action timeout: counts as a link problem (overloaded or half-open)."""


class ActionRefused(PbxError):
    """The PBX answered the action with an error; `message` is its text."""

    def __init__(self, action: str, message: str) -> None:
        self.action = action
        self.message = message
        super().__init__(f"{action} failed: {message}")


class PbxActions(Protocol):
    """The actions capabilities use; each raises `LinkDown` or `ActionRefused` on failure."""

    async def originate(
        self,
        *,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        channel_id: str,
        timeout: float,
        caller_id: str,
        variables: dict[str, str],
    ) -> None: ...

    async def hangup(self, channel: str) -> None: ...

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None: ...

    async def setvar(self, channel: str, name: str, value: str) -> None: ...

    async def getvar(self, channel: str, name: str) -> str | None: ...

    async def bridge(self, channel1: str, channel2: str) -> None: ...

    async def core_show_channels(self) -> list[ChannelSnapshot]: ...

    async def channel_count(self) -> int: ...

    async def device_states(self) -> list[DeviceStateChanged]: ...
