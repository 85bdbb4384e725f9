"""Voicemail recordings for the browser: measure them and hand out plain PCM WAV.

Asterisk records in the format the dialplan asks for (`wav` is 8 kHz 16-bit PCM, which browsers
play as it is; `gsm`, `wav49`, `sln` and others are not). Anything else is converted once with sox
into `cache_dir` and the converted file is served from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import wave
from pathlib import Path

SLIN_RATE = 8000


class AudioUnavailable(Exception):
    """The recording is missing or cannot be converted; the message says which."""


def duration_of(path: Path) -> float | None:
    """Seconds of audio in a recording; None when it is missing or unreadable."""
    try:
        if path.suffix.lower() == ".wav":
            with wave.open(str(path), "rb") as w:
                return w.getnframes() / float(w.getframerate() or SLIN_RATE)
        if path.suffix.lower() in (".sln", ".raw"):
            return path.stat().st_size / (2 * SLIN_RATE)
    except (OSError, wave.Error, EOFError):
        return None
    return None


def _playable_wav(path: Path) -> bool:
    if path.suffix.lower() != ".wav":
        return False
    try:
        with wave.open(str(path), "rb") as w:
            return w.getsampwidth() in (1, 2) and w.getnchannels() in (1, 2)
    except (OSError, wave.Error, EOFError):
        return False  # e.g. GSM-in-WAV (wav49): the wave module reads PCM only


def _ready(path: Path, target: Path) -> Path | None:
    """The file to serve without converting, if there is one (file system checks, run in a thread)."""
    if not path.is_file():
        raise AudioUnavailable(f"recording {path} is missing")
    if _playable_wav(path):
        return path
    if target.is_file() and target.stat().st_mtime >= path.stat().st_mtime:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    return None


async def browser_wav(path: Path, cache_dir: Path, name: str) -> Path:
    """A PCM WAV of `path` that a browser's audio element plays; converts with sox when needed."""
    target = cache_dir / f"{name}.wav"
    ready = await asyncio.to_thread(_ready, path, target)
    if ready is not None:
        return ready
    sox = shutil.which("sox")
    if sox is None:
        raise AudioUnavailable("sox is not installed: cannot convert the recording to WAV")
    partial = cache_dir / f".{name}.{os.getpid()}.wav"
    source: list[str] = [str(path)]
    if path.suffix.lower() in (".sln", ".raw"):  # headerless: say what the samples are
        source = ["-t", "raw", "-r", str(SLIN_RATE), "-e", "signed-integer", "-b", "16", "-c", "1", str(path)]
    proc = await asyncio.create_subprocess_exec(
        sox,
        "-V1",
        *source,
        "-e",
        "signed-integer",
        "-b",
        "16",
        str(partial),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise AudioUnavailable(f"sox could not convert {path.name}: {err.decode(errors='replace').strip()}")
    os.replace(partial, target)
    return target
