"""Measure a prompt file and decide whether a caller could understand it.

Synthesis can fail quietly (a wrong voice speaking nothing, a converter cut short, a WAV header
inside a raw file); these checks catch that before Asterisk plays dead air to a caller.
"""

from __future__ import annotations

import math
import re
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

# Asterisk's raw signed-linear formats name their sample rate in the extension.
SLIN_RATES = {
    ".sln": 8000,
    ".slin": 8000,
    ".sln12": 12000,
    ".sln16": 16000,
    ".sln24": 24000,
    ".sln32": 32000,
    ".sln44": 44100,
    ".sln48": 48000,
    ".sln96": 96000,
    ".sln192": 192000,
}
FRAME_SECONDS = 0.020
SILENT_FRAME_DBFS = -45.0  # espeak-ng pauses are digital silence; line noise stays far above this
QUIET_SPEECH_DBFS = -35.0  # espeak-ng speech measures about -21 dBFS RMS
TRAILING_SILENCE_MIN = 0.040  # espeak-ng ends every utterance with a pause; its absence means a cut
DEFAULT_WPM = 165
_FULL_SCALE = 32768.0
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(
    r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*"
)  # an apostrophe or hyphen joins: "l'attente" is one word
_PAUSE = re.compile(r"[.!?;:,]+")


@dataclass(frozen=True, slots=True)
class AudioStats:
    """What was measured; dBFS values are -inf for digital silence."""

    sample_rate: int
    channels: int
    sample_width: int
    duration: float
    rms_dbfs: float
    peak_dbfs: float
    speech_rms_dbfs: float
    silent_fraction: float
    trailing_silence: float
    format_problems: tuple[str, ...] = ()


def _dbfs(level: float) -> float:
    return 20.0 * math.log10(level / _FULL_SCALE) if level > 0 else -math.inf


def _read_samples(path: Path) -> tuple[array[int], int, int, int, list[str]]:
    """Return (mono-or-first-channel samples, rate, channels, sample width, format problems)."""
    problems: list[str] = []
    suffix = path.suffix.lower()
    if suffix == ".wav":
        with wave.open(str(path), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            raw = w.readframes(w.getnframes())
        if width != 2:
            problems.append(f"sample width is {width * 8} bits, expected 16")
            return array("h"), rate, channels, width, problems
    elif suffix in SLIN_RATES:
        raw = path.read_bytes()
        rate, channels, width = SLIN_RATES[suffix], 1, 2
        if raw[:4] in (b"RIFF", b"RIFX", b"FORM", b".snd"):
            problems.append("file has a container header but a raw .sln name: Asterisk would play the header")
        if len(raw) % 2:
            problems.append("odd byte count: not 16-bit samples")
            raw = raw[:-1]
    else:
        raise ValueError(f"unsupported prompt format {path.suffix!r} (expected .wav or .sln*)")
    samples = array("h")
    samples.frombytes(raw)
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        samples = samples[::channels]
    return samples, rate, channels, width, problems


def analyse(path: Path) -> AudioStats:
    """Duration, levels and silence of a `.sln`/`.wav` prompt (first channel if not mono)."""
    samples, rate, channels, width, problems = _read_samples(path)
    frame_len = max(1, round(rate * FRAME_SECONDS))
    silent_level = _FULL_SCALE * 10 ** (SILENT_FRAME_DBFS / 20)
    total_sq = 0
    speech_sq = 0
    speech_n = 0
    peak = 0
    frames = 0
    silent_frames = 0
    trailing_silent = 0
    for start in range(0, len(samples), frame_len):
        frame = samples[start : start + frame_len]
        sq = sum(s * s for s in frame)
        total_sq += sq
        peak = max(peak, max(frame), -min(frame))
        frames += 1
        if math.sqrt(sq / len(frame)) < silent_level:
            silent_frames += 1
            trailing_silent += len(frame)
        else:
            speech_sq += sq
            speech_n += len(frame)
            trailing_silent = 0
    n = len(samples)
    return AudioStats(
        sample_rate=rate,
        channels=channels,
        sample_width=width,
        duration=n / rate if rate else 0.0,
        rms_dbfs=_dbfs(math.sqrt(total_sq / n)) if n else -math.inf,
        peak_dbfs=_dbfs(peak),
        speech_rms_dbfs=_dbfs(math.sqrt(speech_sq / speech_n)) if speech_n else -math.inf,
        silent_fraction=silent_frames / frames if frames else 1.0,
        trailing_silence=trailing_silent / rate if rate else 0.0,
        format_problems=tuple(problems),
    )


def spoken_units(text: str) -> int:
    """Rough count of words espeak-ng will say: each digit of a number is about one word."""
    digits = sum(len(m) for m in _NUMBER.findall(text))
    return len(_WORD.findall(text)) + digits


def expected_duration(text: str, *, wpm: int = DEFAULT_WPM) -> tuple[float, float]:
    """Generous (min, max) seconds for `text` at `wpm`; spelled-out numbers and pauses widen it."""
    units = spoken_units(text)
    pauses = len(_PAUSE.findall(text))
    nominal = units * 60.0 / wpm
    low = max(0.15, 0.45 * nominal)
    high = 2.5 * nominal + 0.35 * pauses + 1.5
    return low, high


def check_intelligible(
    path: Path, text: str, *, wpm: int = DEFAULT_WPM, sample_rate: int = 8000
) -> list[str]:
    """Problems that would make `path` useless as a prompt saying `text`; empty when it is fine."""
    try:
        stats = analyse(path)
    except (OSError, EOFError, wave.Error, ValueError) as exc:
        return [f"unreadable: {exc}"]
    problems = list(stats.format_problems)
    if stats.sample_rate != sample_rate:
        problems.append(f"sample rate is {stats.sample_rate} Hz, expected {sample_rate}")
    if stats.channels != 1:
        problems.append(f"{stats.channels} channels, expected mono")
    if stats.duration == 0:
        return [*problems, "empty: no samples"]
    if stats.peak_dbfs == -math.inf or stats.silent_fraction >= 0.98:
        return [*problems, "silent: no speech in the file"]
    if stats.speech_rms_dbfs < QUIET_SPEECH_DBFS:
        problems.append(f"too quiet: speech at {stats.speech_rms_dbfs:.1f} dBFS RMS (< {QUIET_SPEECH_DBFS})")
    low, high = expected_duration(text, wpm=wpm)
    if stats.duration < low:
        problems.append(f"too short: {stats.duration:.2f} s for {spoken_units(text)} words (>= {low:.2f} s)")
    elif stats.duration > high:
        problems.append(f"too long: {stats.duration:.2f} s for {spoken_units(text)} words (<= {high:.2f} s)")
    if stats.trailing_silence < TRAILING_SILENCE_MIN:
        problems.append("ends mid-sound: the audio looks truncated")
    return problems
