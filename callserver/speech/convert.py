"""Conversion of engine output (22,050 Hz WAV) to Asterisk's 8 kHz signed-linear `.sln`.

sox is used because it resamples with a proper anti-alias filter in a few milliseconds and keeps
this package free of numeric dependencies (`audioop` no longer exists in Python 3.13).
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from callserver.speech.model import BackendUnavailable, SynthesisFailed

SLIN_RATE = 8000
# Part of every prompt's cache key: change it whenever the output format or the sox chain changes.
CONVERSION_ID = "sox-slin8k-s16le-mono-v1"


def sox_path() -> str:
    """Locate sox once at start-up so a missing package fails loudly, not on the first call."""
    found = shutil.which("sox")
    if found is None:
        raise BackendUnavailable("sox is not installed (Debian package: sox)")
    return found


async def wav_to_slin(sox: str, src: Path, dst: Path, *, rate: int = SLIN_RATE) -> None:
    """Write `dst` as headerless mono 16-bit signed little-endian samples at `rate` Hz."""
    proc = await asyncio.create_subprocess_exec(
        sox,
        "-V1",
        str(src),
        "-r",
        str(rate),
        "-c",
        "1",
        "-b",
        "16",
        "-e",
        "signed-integer",
        "-L",
        "-t",
        "raw",
        str(dst),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise SynthesisFailed(f"sox failed ({proc.returncode}) on {src.name}: {err.decode(errors='replace')}")
