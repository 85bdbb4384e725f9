"""Text prompts as sound files: the `PromptResolver` backed by the speech synthesiser, and the list of
every fixed text the flows can say, so they can be built ahead of the first caller.

Texts with template fields (`{customer.balance|currency}`) depend on the call and are synthesised
when first spoken; everything else can be pre-built by `callserver prompts build`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from callserver.ivr.actions import Prompt
from callserver.ivr.model import FlowConfig, IvrConfig, LocalText, PromptConfig, SayNode, text_variants
from callserver.ivr.say import parse_template
from callserver.speech.model import PromptResult


class Synth(Protocol):
    async def render(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> PromptResult: ...

    def asterisk_name(self, path: Path) -> str: ...


class SynthPrompts:
    """Plays text prompts as the synthesiser's cached files, named as Asterisk wants them.

    Wrap it in `FilePrompts(SynthPrompts(synth))` so `file:` prompts pass through unchanged.
    """

    def __init__(self, synth: Synth) -> None:
        self._synth = synth

    async def resolve(self, prompt: Prompt) -> str:
        if prompt.file is not None:
            return prompt.file
        result = await self._synth.render(prompt.text or "", language=prompt.language, voice=prompt.voice)
        return self._synth.asterisk_name(result.path)


def fixed_text(text: str) -> str | None:
    """The text as spoken when it has no template field (the same for every caller), else None."""
    parts = parse_template(text)
    if not all(isinstance(part, str) for part in parts):
        return None
    return "".join(str(part) for part in parts)


def fixed_texts(config: IvrConfig) -> Iterator[tuple[str, str, str | None]]:
    """(text, language, voice) of every fixed text prompt of every flow, in every language given."""
    for flow in config.flows.values():
        for node in flow.nodes.values():
            for text in _node_texts(node):
                yield from _variants(flow, text)


def _node_texts(node: object) -> Iterator[LocalText]:
    if isinstance(node, SayNode):
        yield node.text
    for field in ("prompt", "invalid", "no_input"):
        config = getattr(node, field, None)
        if isinstance(config, PromptConfig) and config.text is not None:
            yield config.text


def _variants(flow: FlowConfig, text: LocalText) -> Iterator[tuple[str, str, str | None]]:
    for suffix, variant in text_variants(text):
        language = suffix.lstrip(".") or flow.language
        spoken = fixed_text(variant)
        if spoken is not None and spoken.strip():
            yield spoken, language, flow.voice
