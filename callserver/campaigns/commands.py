"""Commands the campaign engine asks the PBX adapter to carry out. Plain data: the engine does no I/O.

Each names the attempt (whose id is also the ChannelId the adapter gives the customer's channel),
so a later event about that channel finds its attempt again. docs/campaigns.md gives the intended
AMI/dialplan mapping of each command.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Dial:
    """Call `number` as `caller_id`; ring at most `ring_timeout` s; run `AMD(amd_args)` on answer if
    `amd_args` is set, then wait (silent) for the engine's next command about this attempt."""

    attempt_id: str
    campaign: str
    lead_id: str
    number: str
    caller_id: str
    caller_name: str
    ring_timeout: float
    amd_args: str | None
    trunk: str
    agent_id: str | None = None  # reserved for this agent (progressive, preview, callback)
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectToAgent:
    """Bridge the answered customer into `agent_id`'s persistent line, at once."""

    attempt_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class PlayInfoMessageAndHangup:
    """No agent in time: say who called (`caller_name`) and a number to call back, then hang up."""

    attempt_id: str
    message: str
    caller_name: str
    caller_id: str


@dataclass(frozen=True, slots=True)
class LeaveMachineMessage:
    """AMD found a machine: wait for the beep, play `message`, hang up."""

    attempt_id: str
    message: str


@dataclass(frozen=True, slots=True)
class HangUp:
    """Hang up the customer's channel (machine, stopped campaign, a line the PBX lost track of)."""

    attempt_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class OfferPreview:
    """Show a lead on an agent's desktop; they dial or skip it (or it dials itself at `auto_dial_at`)."""

    agent_id: str
    lead_id: str
    number: str
    fields: dict[str, str]
    auto_dial_at: float | None


@dataclass(frozen=True, slots=True)
class WithdrawPreview:
    """Take a preview card back (campaign paused or stopped, agent taken by inbound)."""

    agent_id: str
    lead_id: str


Command = (
    Dial
    | ConnectToAgent
    | PlayInfoMessageAndHangup
    | LeaveMachineMessage
    | HangUp
    | OfferPreview
    | WithdrawPreview
)
