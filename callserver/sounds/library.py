"""Where Asterisk finds a sound by name, as `file.c` looks it up.

`<sounds>/<language>/<name>.<format>`, then `<sounds>/<name>.<format>` (absolute names as they
are); the core sounds count as installed. Shared by the simulator (which must fail where Asterisk
fails), `check-config` and `callserver doctor`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# formats Asterisk 22 reads for prompts (file extension as on disk)
FORMATS = ("sln", "slin", "sln16", "wav", "WAV", "gsm", "ulaw", "alaw", "g722", "g729", "siren7", "ogg")


class SoundLibrary:
    """Which names Asterisk can play from `sounds_dir` (its sounds directory); where RECORD FILE writes."""

    def __init__(self, core: Iterable[str], sounds_dir: Path) -> None:
        self.core = frozenset(core)
        self.sounds_dir = sounds_dir

    def exists(self, name: str, language: str = "en") -> bool:
        """True when Asterisk would find `name` for a channel speaking `language`."""
        if not name or name.endswith("/"):
            return False
        if name.startswith("/"):
            return _any_format(Path(name))
        if name in self.core:  # installed under <sounds>/en/, the default language
            return True
        return any(_any_format(folder / name) for folder in (self.sounds_dir / language, self.sounds_dir))

    def missing(self, names: Iterable[str], language: str = "en") -> list[str]:
        """The names among `names` Asterisk would not find, in order."""
        return [n for n in names if not self.exists(n, language)]

    def record_path(self, name: str, fmt: str) -> Path:
        """Where `RECORD FILE name fmt` writes: absolute names as they are, others under sounds."""
        base = Path(name) if name.startswith("/") else self.sounds_dir / name
        return base.with_name(f"{base.name}.{fmt}")


def _any_format(stem: Path) -> bool:
    return any(stem.with_name(f"{stem.name}.{fmt}").is_file() for fmt in FORMATS)
