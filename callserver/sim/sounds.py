"""Recordings as the simulated Asterisk writes them (RECORD FILE). Which sounds it can play is
`callserver.sounds.library.SoundLibrary`: the core list plus real files in its sounds directory.
"""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

RECORD_RATE = 8000


def write_recording(path: Path, seconds: float) -> None:
    """What a caller said, as Asterisk would store it: 8 kHz mono 16-bit (a quiet tone here).

    `.wav` gets a RIFF header, `.sln`/`.slin` raw samples; OSError if the folder is missing.
    """
    count = max(1, round(seconds * RECORD_RATE))
    samples = array("h", (round(3000 * math.sin(2 * math.pi * 440 * i / RECORD_RATE)) for i in range(count)))
    if path.suffix.lower() == ".wav":
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RECORD_RATE)
            out.writeframes(samples.tobytes())
    else:
        path.write_bytes(samples.tobytes())


WRITABLE_FORMATS = ("wav", "sln", "slin")  # what the simulator can write (the project records wav)
