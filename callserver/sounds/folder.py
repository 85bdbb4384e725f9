"""The folder Asterisk reads callserver's own prompts from, and how Asterisk names a file in it.

`callserver prompts build` writes every project prompt there as `<language>/<name>.sln` (and the
IVR's synthesised texts beside them); the server plays them by the name Asterisk resolves under
its sounds directory, e.g. `callserver/en/press-1` for `/var/lib/asterisk/sounds/callserver/
en/press-1.sln`. The same rule serves the simulator, whose sounds directory is under the data dir.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from callserver.sounds.names import OwnPrompt

if TYPE_CHECKING:
    from callserver.config import Settings

PROMPT_SUFFIX = ".sln"  # 8 kHz signed linear: what the synthesiser writes, Asterisk's native format


@dataclass(frozen=True, slots=True)
class SoundFolder:
    """`dir` holds the prompts; `asterisk_dir` is Asterisk's sounds directory, which contains it."""

    dir: Path
    asterisk_dir: Path
    language: str = "en"  # for prompts not tied to a caller's language (an agent accepting a call)

    @property
    def prefix(self) -> str:
        """The folder as Asterisk names it: `callserver` for `<asterisk_dir>/callserver`."""
        return self.dir.resolve().relative_to(self.asterisk_dir.resolve()).as_posix()

    def language_of(self, prompt: OwnPrompt, language: str | None = None) -> str:
        """The language the prompt is played in: the one asked for when it has words in it, else
        the site's, else the first it has."""
        for lang in (language, self.language):
            if lang is not None and lang in prompt.texts:
                return lang
        return next(iter(prompt.texts))

    def path(self, prompt: OwnPrompt, language: str | None = None) -> Path:
        """Where `prompts build` writes the prompt."""
        return self.dir / self.language_of(prompt, language) / f"{prompt.name}{PROMPT_SUFFIX}"

    def name(self, prompt: OwnPrompt, language: str | None = None) -> str:
        """What STREAM FILE / Playback is given for the prompt, e.g. `callserver/en/press-1`."""
        return f"{self.prefix}/{self.language_of(prompt, language)}/{prompt.name}"

    def languages_of(self, prompt: OwnPrompt, wanted: Iterable[str]) -> list[str]:
        """The languages the prompt is built in for a site speaking `wanted`, without repeats."""
        out: list[str] = []
        for lang in [self.language, *wanted]:
            chosen = self.language_of(prompt, lang)
            if chosen not in out:
                out.append(chosen)
        return out


def sound_folder(settings: Settings) -> SoundFolder:
    """The configured folder (`sounds:`), defaulting to `<data_dir>/sounds/callserver`."""
    cfg = settings.sounds
    folder = cfg.dir if cfg.dir is not None else settings.data_dir / "sounds" / "callserver"
    asterisk_dir = cfg.asterisk_dir if cfg.asterisk_dir is not None else folder.parent
    return SoundFolder(folder, asterisk_dir, cfg.language)


def configured_languages(settings: Settings) -> list[str]:
    """Every language the site speaks: its own, each IVR flow's, and each language a flow's texts
    or `set` nodes give; in first-seen order."""
    from callserver.ivr.model import SetNode
    from callserver.ivr.prompts import fixed_texts
    from callserver.ivr.section import flows_of

    seen = [settings.sounds.language]
    config, _ = flows_of(settings)
    if config is not None:
        seen += [flow.language for flow in config.flows.values()]
        seen += [language for _, language, _ in fixed_texts(config)]
        for flow in config.flows.values():
            for node in flow.nodes.values():
                if isinstance(node, SetNode) and isinstance(node.values.get("language"), str):
                    seen.append(str(node.values["language"]))
    return list(dict.fromkeys(seen))
