"""What the flow engine asks for (actions) and what it is told back (inputs).

All frozen: the engine returns them and the runner turns them into AGI commands. Each `feed`
returns zero or more `SetVar`s, then one action that awaits an input or one terminal action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# ---- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Digits:
    """Keys typed (GET DATA, or one key from WAIT FOR DIGIT); "" when none."""

    text: str


@dataclass(frozen=True, slots=True)
class Timeout:
    pass


@dataclass(frozen=True, slots=True)
class PlayDone:
    """A prompt ended; `digit` is the key that cut it short, if any."""

    digit: str | None = None


@dataclass(frozen=True, slots=True)
class LookupResult:
    """Matching customers, each as field -> value (a CustomerRecord's fields, maybe more)."""

    records: tuple[Mapping[str, object], ...]


@dataclass(frozen=True, slots=True)
class Recorded:
    """The voicemail recording ended; `path` is None when nothing could be recorded."""

    path: str | None


@dataclass(frozen=True, slots=True)
class HungUp:
    pass


Input = Digits | Timeout | PlayDone | LookupResult | Recorded | HungUp

# ---- actions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something to say; `prompt_id` (`flow.node.field`) is stable, for caching synthesised speech."""

    prompt_id: str
    text: str | None = None
    file: str | None = None
    language: str = "en"
    voice: str | None = None
    own: str | None = None  # one of callserver's own prompts, by name (callserver/sounds/names.py)


@dataclass(frozen=True, slots=True)
class Play:
    prompt: Prompt
    barge_in_digits: str = ""


@dataclass(frozen=True, slots=True)
class GetDigits:
    prompt: Prompt
    max_digits: int
    timeout: float
    terminator: str = "#"


@dataclass(frozen=True, slots=True)
class WaitDigit:
    timeout: float


@dataclass(frozen=True, slots=True)
class Lookup:
    by: str
    value: str


@dataclass(frozen=True, slots=True)
class Record:
    box: str
    max_length: float
    silence: float | None
    beep: bool = True


@dataclass(frozen=True, slots=True)
class SetVar:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ToQueue:
    queue: str
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToVoicemail:
    """`box` is `queue:<name>` or `agent:<id>`."""

    box: str
    data: Mapping[str, str] = field(default_factory=dict)
    recording: str | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    number: str
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str = "normal"


Awaiting = Play | GetDigits | WaitDigit | Lookup | Record
Terminal = ToQueue | ToVoicemail | Transfer | Hangup
Action = Awaiting | Terminal | SetVar

# The state table of a run: which inputs each awaited action accepts (HungUp is always accepted).
ACCEPTS: dict[type[Awaiting], tuple[type[Input], ...]] = {
    Play: (PlayDone,),
    GetDigits: (Digits, Timeout),
    WaitDigit: (Digits, Timeout),
    Lookup: (LookupResult,),
    Record: (Recorded,),
}

Outcome = Literal["queue", "voicemail", "transfer", "ended", "hangup"]


def outcome_of(action: Terminal | None) -> Outcome:
    """`hangup` means the caller hung up; `ended` means the flow hung up on purpose."""
    if isinstance(action, ToQueue):
        return "queue"
    if isinstance(action, ToVoicemail):
        return "voicemail"
    if isinstance(action, Transfer):
        return "transfer"
    if isinstance(action, Hangup):
        return "ended"
    return "hangup"
