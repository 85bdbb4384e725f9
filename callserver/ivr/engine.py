"""The flow engine: walks one caller through a flow, free of I/O.

`start()` and `feed(input)` return actions; the runner performs them and feeds back what happened.
Time is handed in (`now`), so business hours are tested on any date. The path taken is kept, and
where the caller was when they hung up, for the supervisor's view and the call's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callserver.ivr.actions import (
    ACCEPTS,
    Action,
    Awaiting,
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
    ToQueue,
    ToVoicemail,
    Transfer,
    WaitDigit,
    outcome_of,
)
from callserver.ivr.checks import digits_valid
from callserver.ivr.expr import evaluate, parse_condition
from callserver.ivr.model import (
    BranchNode,
    CollectNode,
    FlowConfig,
    HangupNode,
    HoursNode,
    LookupNode,
    MenuNode,
    PlayNode,
    PromptConfig,
    QueueNode,
    SayNode,
    SetNode,
    TransferNode,
    VoicemailNode,
    pick_text,
)
from callserver.ivr.say import parse_template, render
from callserver.sounds.names import VOICEMAIL_FAILED

_MAX_STEPS = 200  # nodes passed without waiting for anything: a loop validation did not see


class FlowError(Exception):
    """The engine was used out of order (an input it was not waiting for, a finished run)."""


@dataclass(frozen=True, slots=True)
class CallContext:
    """What is known about the call before the flow starts; read as `call.<field>`."""

    caller: str = ""
    dnis: str = ""
    channel: str = ""
    uniqueid: str = ""


class FlowRun:
    """One caller's way through one flow."""

    def __init__(self, flow: FlowConfig, call: CallContext, now: datetime, *, name: str = "flow") -> None:
        self.flow = flow
        self.call = call
        self.now = now
        self.name = name
        self.language = flow.language
        self.data: dict[str, str] = {}
        self.customer: Mapping[str, object] | None = None
        self.path: list[str] = []
        self.keys: dict[str, str] = {}  # menu node -> the key that chose its way (not a fallback)
        self.left_at: str | None = None
        self.result: Terminal | None = None
        self.finished = False
        self.record_failed = False  # a voicemail node could not record: nothing was left
        self._private: dict[str, str] = {}
        self._node_id = ""
        self._phase = ""
        self._attempts = 0
        self._awaiting: Awaiting | None = None
        self._out: list[Action] = []
        self._steps = 0

    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def outcome(self) -> Outcome | None:
        return outcome_of(self.result) if self.finished else None

    def start(self) -> list[Action]:
        if self.path:
            raise FlowError(f"flow {self.name} already started")
        self._goto(self.flow.start)
        return self._flush()

    def feed(self, event: Input, now: datetime | None = None) -> list[Action]:
        """Tell the engine what happened to the last action it asked for."""
        if now is not None:
            self.now = now
        if self.finished:
            raise FlowError(f"flow {self.name} finished at {self._node_id}; got {event!r}")
        if isinstance(event, HungUp):
            self.left_at, self.finished, self._awaiting = self._node_id, True, None
            return []
        waiting = self._awaiting
        if waiting is None:
            raise FlowError(f"flow {self.name} not started; got {event!r}")
        if not isinstance(event, ACCEPTS[type(waiting)]):
            raise FlowError(f"at {self._node_id} waiting after {type(waiting).__name__}; got {event!r}")
        self._awaiting = None
        self._on_input(self.flow.nodes[self._node_id], event)
        return self._flush()

    # ---- plumbing ----

    def _flush(self) -> list[Action]:
        out, self._out, self._steps = self._out, [], 0
        return out

    def _emit(self, action: Action, phase: str = "") -> None:
        self._out.append(action)
        if isinstance(action, Play | GetDigits | WaitDigit | Lookup | Record):
            self._awaiting, self._phase = action, phase
        elif not isinstance(action, SetVar):
            self.result, self.finished = action, True

    def _goto(self, node_id: str) -> None:
        self._steps += 1
        if self._steps > _MAX_STEPS:
            raise FlowError(f"flow {self.name}: {_MAX_STEPS} nodes without caller input at {node_id}")
        self._node_id, self._attempts = node_id, 0
        self.path.append(node_id)
        self._enter(self.flow.nodes[node_id])

    def _prompt(self, config: PromptConfig, field: str) -> Prompt:
        text = None
        if config.text is not None:
            text = self._render(pick_text(config.text, self.language, self.flow.language))
        pid = f"{self.name}.{self._node_id}.{field}"
        return Prompt(pid, text, config.file, self.language, self.flow.voice)

    def _render(self, text: str, currency: str = "EUR") -> str:
        return render(parse_template(text), self.resolve, language=self.language, currency=currency)

    def resolve(self, ref: str) -> object:
        """The value behind `customer.x`, `call.x` or `data.x`; None when unknown."""
        namespace, _, name = ref.partition(".")
        if namespace == "customer":
            return None if self.customer is None else self.customer.get(name)
        if namespace == "call":
            return self.language if name == "language" else getattr(self.call, name, None)
        return self.data.get(name, self._private.get(name))

    # ---- entering a node ----

    def _enter(self, node: Any) -> None:
        if isinstance(node, PlayNode):
            if node.prompt is None:
                return self._goto(node.next)
            self._emit(Play(self._prompt(node.prompt, "prompt")))
        elif isinstance(node, SayNode):
            text = self._render(pick_text(node.text, self.language, self.flow.language), node.currency)
            self._emit(
                Play(Prompt(f"{self.name}.{self._node_id}.text", text, None, self.language, self.flow.voice))
            )
        elif isinstance(node, MenuNode):
            self._menu_prompt(node)
        elif isinstance(node, CollectNode):
            self._ask_digits(node)
        elif isinstance(node, LookupNode):
            value = (
                self.call.caller
                if node.variable is None
                else str(self.resolve(f"data.{node.variable}") or "")
            )
            if not value:
                return self._goto(node.not_found)
            self._emit(Lookup(node.by, value))
        elif isinstance(node, BranchNode):
            for case in node.cases:
                if evaluate(parse_condition(case.when), self.resolve):
                    return self._goto(case.next)
            self._goto(node.default)
        elif isinstance(node, SetNode):
            self._set(node)
        elif isinstance(node, HoursNode):
            schedule = node.hours if node.hours is not None else self.flow.schedules[node.schedule or ""]
            self._goto(node.open if schedule.is_open(self.now) else node.closed)
        elif node.prompt is not None:  # queue, voicemail, transfer, hangup: say something first
            self._emit(Play(self._prompt(node.prompt, "prompt")), "farewell")
        else:
            self._leave(node)
        return None

    def _menu_prompt(self, node: MenuNode, config: PromptConfig | None = None, field: str = "prompt") -> None:
        prompt = self._prompt(config or node.prompt or PromptConfig(text=""), field)
        self._emit(Play(prompt, "".join(node.options)), "reprompt" if config else "prompt")

    def _ask_digits(self, node: CollectNode) -> None:
        prompt = self._prompt(node.prompt or PromptConfig(text=""), "prompt")
        self._emit(GetDigits(prompt, node.max_length, node.timeout, node.terminator))

    def _set(self, node: SetNode) -> None:
        for key, raw in node.values.items():
            value = self._render(raw) if isinstance(raw, str) else _text(raw)
            self.data[key] = value
            if key == "language":
                self.language = value
            self._emit(SetVar(key, value))
        self._goto(node.next)

    def _leave(self, node: Any, recording: str | None = None) -> None:
        data = dict(self.data)
        if isinstance(node, QueueNode):
            self._emit(ToQueue(node.queue, data))
        elif isinstance(node, TransferNode):
            self._emit(Transfer(node.number, data))
        elif isinstance(node, HangupNode):
            self._emit(Hangup(node.reason))
        elif isinstance(node, VoicemailNode):
            if self._phase != "record":
                self._emit(Record(_box(node), node.max_length, node.silence, node.beep), "record")
            elif recording is not None:
                self._emit(ToVoicemail(_box(node), data, recording))
            else:
                # no message without audio: say so, then the caller goes on (see _after_failed_recording)
                self.record_failed = True
                pid = f"{self.name}.{self._node_id}.failed"
                own = VOICEMAIL_FAILED.name
                apology = Prompt(pid, language=self.language, voice=self.flow.voice, own=own)
                self._emit(Play(apology), "apology")

    # ---- inputs ----

    def _on_input(self, node: Any, event: Input) -> None:
        if isinstance(node, PlayNode | SayNode):
            self._goto(node.next)
        elif isinstance(node, MenuNode):
            self._on_menu(node, event)
        elif isinstance(node, CollectNode):
            self._on_collect(node, event)
        elif isinstance(node, LookupNode) and isinstance(event, LookupResult):
            self._on_lookup(node, event.records)
        elif isinstance(node, VoicemailNode) and self._phase == "apology":
            self._after_failed_recording(node)
        else:
            self._leave(node, event.path if isinstance(event, Recorded) else None)

    def _after_failed_recording(self, node: VoicemailNode) -> None:
        """`on_failure` if given; else the mailbox's queue takes the caller live; else the end."""
        if node.on_failure is not None:
            self._goto(node.on_failure)
        elif node.queue is not None:
            self._emit(ToQueue(node.queue, dict(self.data)))
        else:
            self._emit(Hangup("voicemail not recorded"))

    def _on_menu(self, node: MenuNode, event: Input) -> None:
        if isinstance(event, PlayDone):
            if event.digit in node.options:
                self.keys[self._node_id] = event.digit or ""
                return self._goto(node.options[event.digit or ""])
            if event.digit is not None:
                return self._menu_retry(node, node.invalid, "invalid")
            if self._phase == "prompt":
                return self._emit(WaitDigit(node.timeout))
            return self._menu_prompt(node)
        key = event.text[:1] if isinstance(event, Digits) else ""
        if key in node.options:
            self.keys[self._node_id] = key
            return self._goto(node.options[key])
        if key:
            return self._menu_retry(node, node.invalid, "invalid")
        return self._menu_retry(node, node.no_input, "no_input")

    def _menu_retry(self, node: MenuNode, prompt: PromptConfig | None, field: str) -> None:
        self._attempts += 1
        if self._attempts > node.retries:
            return self._goto(node.fallback)
        if prompt is not None:
            return self._menu_prompt(node, prompt, field)
        return self._menu_prompt(node)

    def _on_collect(self, node: CollectNode, event: Input) -> None:
        if isinstance(event, PlayDone):
            return self._ask_digits(node)
        text = event.text.rstrip("#") if isinstance(event, Digits) else ""
        if text and digits_valid(node, text):
            (self._private if node.private else self.data)[node.variable] = text
            if not node.private:
                self._emit(SetVar(node.variable, text))
            return self._goto(node.next)
        self._attempts += 1
        if self._attempts > node.retries:
            return self._goto(node.on_invalid)
        if node.invalid is not None:
            return self._emit(Play(self._prompt(node.invalid, "invalid")), "reprompt")
        return self._ask_digits(node)

    def _on_lookup(self, node: LookupNode, records: tuple[Mapping[str, object], ...]) -> None:
        if len(records) == 1:
            self.customer = records[0]
            if records[0].get("id") is not None:
                self.data["customer_id"] = str(records[0]["id"])
            return self._goto(node.found)
        if len(records) > 1 and node.several is not None:
            return self._goto(node.several)
        return self._goto(node.not_found)


def _box(node: VoicemailNode) -> str:
    return f"queue:{node.queue}" if node.queue is not None else f"agent:{node.agent}"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


__all__ = ["CallContext", "FlowError", "FlowRun"]
