"""The audio check: it must catch silent, truncated, quiet and mis-formatted prompts."""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

from callserver.speech import PromptSynth, analyse, check_intelligible

TEXT = "For opening hours, press two. To speak to an agent, press zero."


def _write_sln(path: Path, samples: array[int]) -> Path:
    path.write_bytes(samples.tobytes())
    return path


async def test_a_good_prompt_has_no_problems(synth: PromptSynth) -> None:
    assert check_intelligible(await synth.prompt_file(TEXT), TEXT) == []


def test_silent_file_is_flagged(tmp_path: Path) -> None:
    silent = _write_sln(tmp_path / "silent.sln", array("h", [0] * 8000 * 3))

    problems = check_intelligible(silent, TEXT)
    assert any(p.startswith("silent") for p in problems), problems


def test_empty_file_is_flagged(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sln"
    empty.write_bytes(b"")

    assert any(p.startswith("empty") for p in check_intelligible(empty, TEXT))


async def test_truncated_prompt_is_flagged(synth: PromptSynth, tmp_path: Path) -> None:
    good = (await synth.prompt_file(TEXT)).read_bytes()
    cut = tmp_path / "cut.sln"
    cut.write_bytes(good[: len(good) // 2 // 2 * 2])

    problems = check_intelligible(cut, TEXT)
    assert any("truncated" in p or "too short" in p for p in problems), problems


async def test_prompt_for_a_longer_text_is_flagged_too_short(synth: PromptSynth) -> None:
    short = await synth.prompt_file("Goodbye.")

    problems = check_intelligible(short, TEXT + " " + TEXT)
    assert any(p.startswith("too short") for p in problems), problems


async def test_quiet_prompt_is_flagged(synth: PromptSynth, tmp_path: Path) -> None:
    good = array("h")
    good.frombytes((await synth.prompt_file(TEXT)).read_bytes())
    quiet = _write_sln(tmp_path / "quiet.sln", array("h", (s // 10 for s in good)))  # -20 dB

    problems = check_intelligible(quiet, TEXT)
    assert any(p.startswith("too quiet") for p in problems), problems


def test_wav_at_the_wrong_rate_or_channels_is_flagged(tmp_path: Path) -> None:
    tone = array("h", (int(8000 * math.sin(i / 10)) for i in range(22050 * 2)))
    tone.extend([0] * 22050)
    stereo = tmp_path / "stereo22k.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(array("h", (s for s in tone for _ in range(2))).tobytes())

    problems = check_intelligible(stereo, "Hello there, caller.")
    assert any("22050 Hz" in p for p in problems) and any("mono" in p for p in problems), problems


def test_wav_saved_under_a_raw_sln_name_is_flagged(tmp_path: Path) -> None:
    wav = tmp_path / "prompt.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(array("h", [1000, -1000] * 8000 + [0] * 4000).tobytes())
    disguised = tmp_path / "prompt.sln"
    disguised.write_bytes(wav.read_bytes())

    assert any("header" in p for p in check_intelligible(disguised, "Hello there."))
    assert check_intelligible(tmp_path / "prompt.sln16", "Hello.")[0].startswith("unreadable")


def test_analyse_measures_level_and_silence(tmp_path: Path) -> None:
    half_scale = array("h", [16384, -16384] * 4000)  # 1 s of square wave at -6 dBFS
    path = _write_sln(tmp_path / "square.sln", half_scale + array("h", [0] * 8000))

    stats = analyse(path)
    assert stats.duration == 2.0
    assert round(stats.peak_dbfs, 1) == -6.0 and round(stats.speech_rms_dbfs, 1) == -6.0
    assert stats.silent_fraction == 0.5 and stats.trailing_silence == 1.0
