"""Types shared by the prompt synthesiser, its backends and the prompt builder.

Errors carry enough detail (text, voice, problems) for an operator to fix the prompt without
re-running anything under a debugger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SpeechError(Exception):
    """Base class for every failure to turn text into a playable prompt."""


class BackendUnavailable(SpeechError):
    """A speech backend cannot start on this machine (library or program missing)."""


class VoiceNotFound(SpeechError):
    """espeak-ng has no voice by that name; it would otherwise speak silently in another voice."""

    def __init__(self, voice: str) -> None:
        super().__init__(f"espeak-ng has no voice {voice!r} (see `espeak-ng --voices`)")
        self.voice = voice


class SynthesisFailed(SpeechError):
    """The engine or the converter failed for one prompt."""


class PromptQualityError(SpeechError):
    """A generated prompt is silent, truncated or in the wrong format: never hand it to Asterisk."""

    def __init__(self, text: str, path: Path, problems: list[str]) -> None:
        super().__init__(f"prompt {text!r} failed the audio check ({path.name}): " + "; ".join(problems))
        self.text = text
        self.path = path
        self.problems = problems


@dataclass(frozen=True, slots=True)
class PromptResult:
    """Outcome of one request: where the file is and whether this call had to synthesise it."""

    path: Path
    synthesized: bool
    seconds: float
