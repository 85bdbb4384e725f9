"""Map a language code or voice name to the exact espeak-ng voice file, the same for both backends.

espeak-ng's library call silently keeps the previous voice for a name it does not know (such as
"en-gb", a language rather than a file), while its program looks languages up: resolving names here,
from the voice list, makes both backends speak the same voice and rejects unknown names up front.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from callserver.speech.model import VoiceNotFound

_OTHER_LANGUAGE = re.compile(r"\(([^ ()]+) (\d+)\)")


@dataclass(frozen=True, slots=True)
class VoiceCatalog:
    """Voice files and variants installed with espeak-ng, with the languages each one speaks."""

    files: dict[str, str]  # lower-case file path or base name -> file path as installed
    languages: dict[str, str]  # language code -> file path of its highest-priority voice
    variants: dict[str, str]  # lower-case variant name -> name as installed

    @classmethod
    def parse(cls, voices_listing: str, variants_listing: str) -> VoiceCatalog:
        """Build from `espeak-ng --voices` and `espeak-ng --voices=variant` output."""
        files: dict[str, str] = {}
        ranked: dict[str, tuple[int, str]] = {}
        for line in voices_listing.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 5 or not fields[0].isdigit():
                continue
            priority, language, path = int(fields[0]), fields[1].lower(), fields[4]
            files.setdefault(path.lower(), path)
            files.setdefault(path.rsplit("/", 1)[-1].lower(), path)
            offers = [(language, priority)]
            offers += [(lang.lower(), int(p)) for lang, p in _OTHER_LANGUAGE.findall(line)]
            for lang, rank in offers:
                if lang not in ranked or rank < ranked[lang][0]:
                    ranked[lang] = (rank, path)
        variants: dict[str, str] = {}
        for line in variants_listing.splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 5 and fields[4].startswith("!v/"):
                name = fields[4][3:]
                variants[name.lower()] = name
        return cls(files, {lang: path for lang, (_, path) in ranked.items()}, variants)

    def resolve(self, voice: str, *, language_fallback: bool = False) -> str:
        """Installed file path (plus `+variant`) for a file, base name or language code.

        With `language_fallback`, a regional code espeak-ng lacks ("fr-ca") falls back to its parent
        language ("fr"), which is what a caller would rather hear than an error.
        """
        base, _, variant = voice.partition("+")
        key = base.lower()
        path = self.files.get(key) or self.languages.get(key)
        while path is None and language_fallback and "-" in key:
            key = key.rsplit("-", 1)[0]
            path = self.files.get(key) or self.languages.get(key)
        if path is None:
            raise VoiceNotFound(voice)
        if not variant:
            return path
        if variant.lower() not in self.variants:
            raise VoiceNotFound(voice)
        return f"{path}+{self.variants[variant.lower()]}"


async def load_catalog(program: str) -> VoiceCatalog:
    """Ask the installed espeak-ng for its voices (a few milliseconds, once per start)."""
    listings: list[str] = []
    for option in ("--voices", "--voices=variant"):
        proc = await asyncio.create_subprocess_exec(
            program, option, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await proc.communicate()
        listings.append(out.decode(errors="replace"))
    return VoiceCatalog.parse(*listings)
