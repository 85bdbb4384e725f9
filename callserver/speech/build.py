"""Pre-generate every prompt the IVR flows can play, so no caller waits for synthesis.

Prompts are built one after another: the engine has a single worker anyway, and sequential timing
gives an honest cost per prompt. A failing prompt is recorded and the build carries on, so one run
lists every text that needs fixing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from callserver.speech.model import PromptResult, SpeechError


class Renderer(Protocol):
    async def render(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> PromptResult: ...


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    text: str
    language: str
    voice: str | None
    path: Path
    cached: bool
    seconds: float


@dataclass(frozen=True, slots=True)
class FailedPrompt:
    text: str
    language: str
    voice: str | None
    error: str


@dataclass(slots=True)
class BuildReport:
    """What a build did; `ok` is False when any prompt could not be produced."""

    built: list[BuiltPrompt] = field(default_factory=list)
    failed: list[FailedPrompt] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def new(self) -> int:
        return sum(not p.cached for p in self.built)

    @property
    def cached(self) -> int:
        return sum(p.cached for p in self.built)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        """One line for the command-line tool and the log."""
        slowest = max((p.seconds for p in self.built if not p.cached), default=0.0)
        return (
            f"{len(self.built)} prompts ({self.new} new, {self.cached} cached), {len(self.failed)} failed, "
            f"{self.seconds:.2f} s total, slowest new prompt {slowest * 1000:.0f} ms"
        )


async def build_prompts(texts: Iterable[tuple[str, str, str | None]], synth: Renderer) -> BuildReport:
    """Synthesise each (text, language, voice) once; duplicates in the input are built once."""
    report = BuildReport()
    started = time.perf_counter()
    seen: set[tuple[str, str, str | None]] = set()
    for text, language, voice in texts:
        item = (" ".join(text.split()), language, voice)
        if item in seen:
            continue
        seen.add(item)
        try:
            result = await synth.render(text, language=language, voice=voice)
        except (SpeechError, ValueError) as exc:
            report.failed.append(FailedPrompt(text, language, voice, str(exc)))
            continue
        report.built.append(
            BuiltPrompt(text, language, voice, result.path, not result.synthesized, result.seconds)
        )
    report.seconds = time.perf_counter() - started
    return report
