"""Synthesise the project's own prompts (`names.OWN_PROMPTS`) into the sounds folder under their
fixed names, in every language the site speaks that a prompt has words for.

The synthesiser caches by content; the named file is a copy of the cached one, replaced atomically
and only when its audio changed, so Asterisk never reads a half-written prompt and a rebuild with
nothing new touches nothing.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from callserver.sounds.folder import SoundFolder
from callserver.sounds.names import OWN_PROMPTS, OwnPrompt
from callserver.speech.build import BuildReport, BuiltPrompt, FailedPrompt, Renderer
from callserver.speech.model import SpeechError


async def build_own_prompts(
    folder: SoundFolder,
    languages: Iterable[str],
    synth: Renderer,
    *,
    prompts: Iterable[OwnPrompt] = OWN_PROMPTS,
    report: BuildReport | None = None,
) -> BuildReport:
    """Write `<dir>/<language>/<name>.sln` for each prompt; failures are listed, the rest go on."""
    report = report if report is not None else BuildReport()
    wanted = list(languages)
    began = time.perf_counter()
    for prompt in prompts:
        for language in folder.languages_of(prompt, wanted):
            text = prompt.texts[language]
            started = time.perf_counter()
            try:
                result = await synth.render(text, language=language, voice=None)
                target = folder.path(prompt, language)
                unchanged = _place(result.path, target)
            except (SpeechError, ValueError, OSError) as exc:
                report.failed.append(FailedPrompt(f"{prompt.name}: {text}", language, None, str(exc)))
                continue
            seconds = time.perf_counter() - started
            report.built.append(BuiltPrompt(text, language, None, target, unchanged, seconds))
    report.seconds += time.perf_counter() - began
    return report


def _place(source: Path, target: Path) -> bool:
    """Copy `source` to `target` atomically; True when `target` already had this audio."""
    audio = source.read_bytes()
    if target.is_file() and target.read_bytes() == audio:
        return True
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    partial.write_bytes(audio)
    os.replace(partial, target)
    return False
