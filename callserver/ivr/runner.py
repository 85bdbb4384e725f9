"""Runs a flow over one FastAGI session: the engine decides, this module talks to Asterisk.

Prompts become sound file names through a `PromptResolver` (recorded files as they are, text via
the speech synthesiser). A caller hanging up at any point ends the run cleanly, with where they left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from callserver.agi.session import AgiError, AgiHangup, AgiSession, quote
from callserver.ivr.actions import (
    Action,
    Digits,
    GetDigits,
    Hangup,
    HungUp,
    Input,
    Lookup,
    LookupResult,
    Outcome,
    Play,
    PlayDone,
    Prompt,
    Record,
    Recorded,
    SetVar,
    Terminal,
    Timeout,
    WaitDigit,
)
from callserver.ivr.engine import CallContext, FlowRun
from callserver.ivr.model import FlowConfig
from callserver.sounds.names import OwnPrompt, own_prompt
from callserver.store.records import CustomerRecord

log = logging.getLogger(__name__)

CUSTOMER_FIELDS = frozenset(f.name for f in dataclasses.fields(CustomerRecord))
_DEAD_CHANNEL = 511


class PromptResolver(Protocol):
    async def resolve(self, prompt: Prompt) -> str:
        """The sound file to play, without extension, as STREAM FILE and GET DATA want it."""
        ...


class PromptError(Exception):
    """A prompt that cannot be turned into a sound file."""


class OwnPromptNames(Protocol):
    def name(self, prompt: OwnPrompt, language: str | None = None) -> str:
        """The Asterisk name of one of callserver's own prompts (`sounds.folder.SoundFolder`)."""
        ...


class FilePrompts:
    """Plays `file:` prompts as they are, callserver's own prompts by their name in the sounds
    folder (`sounds`), and hands text prompts to `speech` (none: PromptError)."""

    def __init__(self, speech: PromptResolver | None = None, *, sounds: OwnPromptNames | None = None) -> None:
        self._speech = speech
        self._sounds = sounds

    async def resolve(self, prompt: Prompt) -> str:
        if prompt.own is not None:
            if self._sounds is None:
                raise PromptError(f"{prompt.prompt_id}: prompt {prompt.own!r} but no sounds folder given")
            return self._sounds.name(own_prompt(prompt.own), prompt.language)
        if prompt.file is not None:
            return prompt.file
        if self._speech is None:
            raise PromptError(f"{prompt.prompt_id}: text prompt but no speech synthesiser configured")
        return await self._speech.resolve(prompt)


CustomerLookup = Callable[[str, str], Awaitable[Sequence[CustomerRecord | Mapping[str, object]]]]


@dataclass(frozen=True, slots=True)
class IvrResult:
    """How the flow ended. `outcome` "hangup" means the caller hung up, at `left_at`."""

    outcome: Outcome
    action: Terminal | None
    path: tuple[str, ...]
    left_at: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)
    recording: str | None = None
    # the customer a lookup node identified (as the engine saw it), for the screen-pop and the call row
    customer: Mapping[str, object] | None = None
    # a voicemail node could not record (RECORD FILE failed): no message exists, the caller moved on
    recording_failed: bool = False
    # menu node -> the key the caller pressed there (a menu left by its fallback is not listed)
    keys: Mapping[str, str] = field(default_factory=dict)


def customer_view(record: CustomerRecord | Mapping[str, object]) -> Mapping[str, object]:
    """A customer as the engine reads it; mappings (records enriched with e.g. a balance) pass."""
    if isinstance(record, CustomerRecord):
        return {f: getattr(record, f) for f in CUSTOMER_FIELDS}
    return record


async def run_flow(
    session: AgiSession,
    flow: FlowConfig,
    *,
    lookup: CustomerLookup,
    prompts: PromptResolver,
    now: Callable[[], datetime],
    on_node: Callable[[str], None] | None = None,
    name: str = "flow",
    var_prefix: str = "IVR_",
    recordings_dir: str = "/var/spool/asterisk/callserver",
) -> IvrResult:
    """Play `flow` to the caller on `session` until it hands the call on or someone hangs up.

    `SetVar` actions become channel variables `<var_prefix><NAME>`; a `Hangup` node hangs up the
    channel; queue, voicemail and transfer endings are returned for the caller of this function.
    """
    call = CallContext(session.caller_num, session.dnis, session.channel, session.uniqueid)
    run = FlowRun(flow, call, now(), name=name)
    reported = 0

    def report() -> None:
        nonlocal reported
        for node_id in run.path[reported:]:
            if on_node is not None:
                on_node(node_id)
        reported = len(run.path)

    io = _Io(session, lookup, prompts, recordings_dir)
    try:
        actions = run.start()
        while True:
            report()
            event = await _perform(io, actions, var_prefix, run.node_id)
            if run.finished or event is None:
                break
            actions = run.feed(event, now())
    except AgiHangup:
        _hung_up(run)
    except AgiError as err:
        if err.code != _DEAD_CHANNEL and not await _caller_left(session):
            raise
        _hung_up(run)
    report()
    recording = getattr(run.result, "recording", None)
    return IvrResult(
        run.outcome or "hangup",
        run.result,
        tuple(run.path),
        run.left_at,
        dict(run.data),
        recording,
        run.customer,
        run.record_failed,
        dict(run.keys),
    )


async def _caller_left(session: AgiSession) -> bool:
    """After a command failed (GET DATA, STREAM FILE answer -1 when the caller hangs up during
    them): Asterisk follows a hang-up with `HANGUP`, so the next command tells the two apart."""
    if session.hung_up:
        return True
    try:
        await session.command("NOOP")
    except AgiHangup:
        return True
    except AgiError as err:
        return err.code == _DEAD_CHANNEL
    return session.hung_up


def _hung_up(run: FlowRun) -> None:
    if not run.finished:
        run.feed(HungUp())


async def _perform(io: _Io, actions: list[Action], var_prefix: str, node_id: str) -> Input | None:
    """Carry out one batch; the answer to its awaited action, None when the batch ended the flow."""
    event: Input | None = None
    for action in actions:
        if isinstance(action, SetVar):
            await io.session.set_variable(var_prefix + action.name.upper(), action.value)
        elif isinstance(action, Hangup):
            with contextlib.suppress(AgiHangup):  # the channel is gone either way
                await io.session.hangup()
        elif isinstance(action, Play | GetDigits | WaitDigit | Lookup | Record):
            event = await io.perform(action, node_id)
    return event


class _Io:
    def __init__(
        self, session: AgiSession, lookup: CustomerLookup, prompts: PromptResolver, recordings_dir: str
    ) -> None:
        self.session = session
        self.lookup = lookup
        self.prompts = prompts
        self.recordings_dir = recordings_dir.rstrip("/")

    async def perform(self, action: Play | GetDigits | WaitDigit | Lookup | Record, node_id: str) -> Input:
        if isinstance(action, Play):
            if not action.prompt.file and not action.prompt.text and not action.prompt.own:
                return PlayDone(None)
            sound = await self.prompts.resolve(action.prompt)
            return PlayDone(await self.session.stream_file(sound, action.barge_in_digits))
        if isinstance(action, GetDigits):
            sound = await self.prompts.resolve(action.prompt)
            typed = await self.session.get_data(sound, _ms(action.timeout), action.max_digits)
            return Digits(typed) if typed else Timeout()
        if isinstance(action, WaitDigit):
            key = await self.session.wait_for_digit(_ms(action.timeout))
            return Digits(key) if key else Timeout()
        if isinstance(action, Lookup):
            return LookupResult(await self._lookup(action))
        return Recorded(await self._record(action, node_id))

    async def _lookup(self, action: Lookup) -> tuple[Mapping[str, object], ...]:
        try:
            records = await self.lookup(action.by, action.value)
        except Exception:
            # the caller is on the line: carry on as "not found" rather than drop the call
            log.exception("IVR customer lookup by %s failed", action.by)
            return ()
        return tuple(customer_view(r) for r in records)

    async def _record(self, action: Record, node_id: str) -> str | None:
        """RECORD FILE with '#' to stop; a hang-up ends a voicemail normally and keeps the file."""
        base = f"{self.recordings_dir}/{self.session.uniqueid or 'call'}-{node_id}"
        parts = [f"RECORD FILE {base} wav {quote('#')} {_ms(action.max_length)}"]
        if action.beep:
            parts.append("BEEP")
        if action.silence is not None:
            parts.append(f"s={max(1, round(action.silence))}")
        response = await self.session.command(" ".join(parts))
        if response.result.startswith("-") and response.data != "hangup":
            log.warning("RECORD FILE failed on %s: %s", self.session.channel, response)
            return None
        return f"{base}.wav"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
