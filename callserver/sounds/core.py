"""The names of the sounds a stock Asterisk 22 ships in English (its "core sounds").

The list is generated from the core-sounds package's file list by `scripts/core-sounds.sh` and
committed as `core-sounds-en.txt` (names only, no audio). Anything else the project plays must be
produced by the project itself; the simulator and `check-config` use this list to tell them apart.
"""

from __future__ import annotations

from importlib import resources

_LIST = "core-sounds-en.txt"


def _load() -> frozenset[str]:
    text = resources.files("callserver.sounds").joinpath(_LIST).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


CORE_SOUNDS: frozenset[str] = _load()


def is_core_sound(name: str) -> bool:
    """True when a stock Asterisk 22 plays `name` (e.g. `vm-goodbye`, `digits/5`) out of the box."""
    return name in CORE_SOUNDS
