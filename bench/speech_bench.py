"""Cost of IVR prompt synthesis: engine start, cold and cached prompts, conversion and file sizes.

Run with `python -m bench.speech_bench`. Each stage is timed on its own (engine, sox, audio check)
and end to end through PromptSynth, for both espeak-ng backends, on realistic English and French
prompts, so the figures say where the milliseconds go and whether pre-building is worth it.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from callserver.speech import PromptSynth, analyse, check_intelligible
from callserver.speech.backends import EspeakCliBackend, Pyttsx3Backend, SpeechBackend
from callserver.speech.convert import sox_path, wav_to_slin
from callserver.speech.synth import DEFAULT_RATE_WPM

PROMPTS: list[tuple[str, str]] = [
    ("en", "Thank you for calling. Your call is important to us."),
    ("en", "For sales, press 1. For support, press 2. For billing, press 3."),
    ("en", "To hear these options again, press star."),
    ("en", "All of our agents are currently busy. Please stay on the line."),
    ("en", "You are caller number 3 in the queue."),
    ("en", "Your estimated waiting time is 4 minutes."),
    ("en", "Our office is open Monday to Friday, from 8 am to 6 pm."),
    ("en", "Please enter your 8 digit customer number, followed by the hash key."),
    ("en", "Sorry, that was not a valid option."),
    ("en", "Please leave a message after the tone. Press hash when you have finished."),
    ("en", "This call may be recorded for quality and training purposes."),
    ("en", "Goodbye."),
    ("fr", "Merci de votre appel. Votre appel est important pour nous."),
    ("fr", "Pour le service commercial, tapez 1. Pour l'assistance, tapez 2."),
    ("fr", "Tous nos conseillers sont actuellement en ligne. Veuillez patienter."),
    ("fr", "Vous êtes le 3e appelant dans la file d'attente."),
    ("fr", "Votre temps d'attente estimé est de 4 minutes."),
    ("fr", "Nos bureaux sont ouverts du lundi au vendredi, de 8 heures à 18 heures."),
    ("fr", "Veuillez saisir votre numéro client, suivi de la touche dièse."),
    ("fr", "Choix incorrect."),
    ("fr", "Laissez votre message après le bip sonore."),
    ("fr", "Au revoir."),
]


@dataclass(slots=True)
class Row:
    language: str
    text: str
    seconds_audio: float
    wav_bytes: int
    sln_bytes: int
    synth_ms: float
    convert_ms: float
    check_ms: float


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


async def _stages(backend: SpeechBackend, workdir: Path) -> list[Row]:
    """Time engine, sox and check separately, the way PromptSynth chains them."""
    sox = sox_path()
    rows = []
    for i, (language, text) in enumerate(PROMPTS):
        wav, sln = workdir / f"{i}.wav", workdir / f"{i}.sln"
        t = time.perf_counter()
        await backend.synthesize(text, "roa/fr" if language == "fr" else "gmw/en", DEFAULT_RATE_WPM, wav)
        synth_ms = _ms(t)
        t = time.perf_counter()
        await wav_to_slin(sox, wav, sln)
        convert_ms = _ms(t)
        t = time.perf_counter()
        problems = check_intelligible(sln, text, wpm=DEFAULT_RATE_WPM)
        check_ms = _ms(t)
        if problems:
            raise SystemExit(f"{text!r}: {problems}")
        rows.append(
            Row(language, text, analyse(sln).duration, wav.stat().st_size, sln.stat().st_size,
                synth_ms, convert_ms, check_ms)
        )  # fmt: skip
    return rows


def _summary(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{label} median {statistics.median(values):7.2f}  p95 {p95:7.2f}  max {max(values):7.2f}"


async def _bench_backend(backend: SpeechBackend, workdir: Path) -> None:
    t = time.perf_counter()
    await backend.start()
    start_ms = _ms(t)
    try:
        await _stages(backend, workdir)  # warm-up: page in voices and sox
        rows = await _stages(backend, workdir)
    finally:
        await backend.close()
    print(f"\n== {backend.engine_id}: engine start {start_ms:.1f} ms")
    print(
        f"{'lang':4} {'audio s':>7} {'synth ms':>8} {'sox ms':>6} {'check ms':>8} "
        f"{'wav KB':>6} {'sln KB':>6}  text"
    )
    for r in rows:
        print(
            f"{r.language:4} {r.seconds_audio:7.2f} {r.synth_ms:8.1f} {r.convert_ms:6.1f} {r.check_ms:8.1f} "
            f"{r.wav_bytes / 1024:6.1f} {r.sln_bytes / 1024:6.1f}  {r.text[:48]}"
        )
    print(_summary("synth ms ", [r.synth_ms for r in rows]))
    print(_summary("sox ms   ", [r.convert_ms for r in rows]))
    print(_summary("check ms ", [r.check_ms for r in rows]))
    audio = sum(r.seconds_audio for r in rows)
    print(f"audio {audio:.1f} s in {sum(r.sln_bytes for r in rows) / 1024:.0f} KB of .sln (16,000 bytes/s)")


async def _bench_synth(backend: str, root: Path) -> None:
    """End to end through PromptSynth: cold (new cache), cached, and a concurrent cold burst."""
    cold: list[float] = []
    cached: list[float] = []
    async with PromptSynth(root / f"{backend}-seq", backend=backend) as synth:  # type: ignore[arg-type]
        for language, text in PROMPTS:
            cold.append((await synth.render(text, language=language)).seconds * 1000)
        for language, text in PROMPTS:
            cached.append((await synth.render(text, language=language)).seconds * 1000)
    async with PromptSynth(root / f"{backend}-burst", backend=backend) as synth:  # type: ignore[arg-type]
        t = time.perf_counter()
        await asyncio.gather(*(synth.prompt_file(text, language=lang) for lang, text in PROMPTS))
        burst_ms = _ms(t)
    print(f"\n== PromptSynth({backend!r}), {len(PROMPTS)} prompts")
    print(_summary("cold ms  ", cold))
    print(_summary("cached ms", cached))
    print(f"all {len(PROMPTS)} cold: {sum(cold):.0f} ms one by one, {burst_ms:.0f} ms requested together")


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as tmp:
        root = Path(tmp)
        for name, backend in (("lib", Pyttsx3Backend()), ("cli", EspeakCliBackend())):
            (root / name).mkdir()
            await _bench_backend(backend, root / name)
        for choice in ("pyttsx3", "espeak-ng-cli"):
            await _bench_synth(choice, root)


if __name__ == "__main__":
    asyncio.run(main())
