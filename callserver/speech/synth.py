"""IVR prompt files from text: espeak-ng speech, converted to Asterisk's 8 kHz `.sln`, cached by content.

A prompt's file name is a hash of everything that shapes its audio (text, language, voice, rate,
engine build, output format), so a prompt is synthesised once, an edited text gets a new file, and
an engine upgrade never plays stale audio. Files appear atomically and only after an audio check.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Literal

from callserver.speech.audio import check_intelligible
from callserver.speech.backends import EspeakCliBackend, Pyttsx3Backend, SpeechBackend
from callserver.speech.convert import CONVERSION_ID, sox_path, wav_to_slin
from callserver.speech.model import BackendUnavailable, PromptQualityError, PromptResult, SpeechError
from callserver.speech.voices import VoiceCatalog, load_catalog

log = logging.getLogger(__name__)

BackendChoice = Literal["auto", "pyttsx3", "espeak-ng-cli"]
DEFAULT_RATE_WPM = 165  # a little under espeak-ng's 175: callers hear prompts through a narrow codec
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")
_VOICE = re.compile(r"^[A-Za-z0-9_./-]*(?:\+[A-Za-z0-9_-]+)?$")


def asterisk_name(path: Path, sounds_dir: Path | None = None) -> str:
    """The name AGI `STREAM FILE` takes: no extension, relative to `sounds_dir` (absolute if None)."""
    stem = path.resolve().with_suffix("")
    if sounds_dir is None:
        return stem.as_posix()
    try:
        return stem.relative_to(sounds_dir.resolve()).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not under the Asterisk sounds directory {sounds_dir}") from None


class PromptSynth:
    """Turns prompt texts into cached `.sln` files; one instance owns one speech worker.

    Use as `async with PromptSynth(dir) as synth:` or call `close()`. Keep a single instance per
    process: espeak-ng has one synthesis callback per process, so two live pyttsx3 engines would
    take each other's audio. `sounds_dir` (Asterisk's sounds directory, containing `cache_dir`)
    makes `asterisk_name` relative; without it the names are absolute paths, which Asterisk
    also accepts.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        default_language: str = "en",
        default_voice: str | None = None,
        rate_wpm: int = DEFAULT_RATE_WPM,
        backend: BackendChoice = "auto",
        sounds_dir: Path | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.default_language = self._check_language(default_language)
        self.default_voice = default_voice
        self.rate_wpm = rate_wpm
        self.sounds_dir = sounds_dir
        self._choice = backend
        self._backend: SpeechBackend | None = None
        self._voices: VoiceCatalog | None = None
        self._sox = ""
        self._start_lock = asyncio.Lock()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._closed = False
        self.jobs_run = 0  # syntheses performed: cache hits and shared waits do not count

    async def __aenter__(self) -> PromptSynth:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def engine_id(self) -> str:
        """Engine build in use (part of every cache key); empty before start."""
        return self._backend.engine_id if self._backend else ""

    @property
    def backend_name(self) -> str:
        return self._backend.name if self._backend else ""

    async def start(self) -> None:
        """Check sox, start the speech engine (pyttsx3, else the espeak-ng program); idempotent."""
        async with self._start_lock:
            if self._closed:
                raise SpeechError("PromptSynth is closed")
            if self._backend is not None:
                return
            self._sox = sox_path()
            (self.cache_dir / ".partial").mkdir(parents=True, exist_ok=True)
            program = shutil.which("espeak-ng")
            if program is None:
                log.warning("speech: the espeak-ng program is missing; voice names are passed unchecked")
            else:
                self._voices = await load_catalog(program)
            self._backend = await self._open_backend()

    async def _open_backend(self) -> SpeechBackend:
        if self._choice in ("auto", "pyttsx3"):
            pyttsx3_backend = Pyttsx3Backend()
            try:
                await pyttsx3_backend.start()
                return pyttsx3_backend
            except BackendUnavailable as exc:
                if self._choice == "pyttsx3":
                    raise
                log.warning("speech: %s; using the espeak-ng program instead", exc)
        cli = EspeakCliBackend()
        await cli.start()
        return cli

    async def prompt_file(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        """Path of the 8 kHz mono s16 `.sln` saying `text`, synthesising it on first request."""
        return (await self.render(text, language=language, voice=voice)).path

    def asterisk_name(self, path: Path) -> str:
        """`STREAM FILE` name of a prompt from this synthesiser."""
        return asterisk_name(path, self.sounds_dir)

    async def cached_path(self, text: str, *, language: str | None = None, voice: str | None = None) -> Path:
        """Where `render` puts this text; nothing is synthesised (`callserver doctor` checks it exists)."""
        spoken = " ".join(text.split())
        await self.start()
        lang, espeak_voice = self._resolve_voice(language, voice)
        return self.cache_dir / f"{lang}-{self._key(spoken, lang, espeak_voice)}.sln"

    async def render(
        self, text: str, *, language: str | None = None, voice: str | None = None
    ) -> PromptResult:
        """Like prompt_file, also saying whether this call synthesised the file and how long it took."""
        started = time.perf_counter()
        spoken = " ".join(text.split())
        if not spoken:
            raise ValueError("prompt text is empty")
        await self.start()
        lang, espeak_voice = self._resolve_voice(language, voice)
        path = self.cache_dir / f"{lang}-{self._key(spoken, lang, espeak_voice)}.sln"
        task = self._inflight.get(path.name)
        synthesized = False
        if task is None:
            if path.is_file():
                return PromptResult(path, False, time.perf_counter() - started)
            task = asyncio.create_task(self._produce(spoken, espeak_voice, path), name=f"prompt {path.name}")
            self._inflight[path.name] = task
            task.add_done_callback(self._forget(path.name))
            synthesized = True
        # Shield: one caller giving up must not cancel the job others are waiting on.
        await asyncio.shield(task)
        return PromptResult(path, synthesized, time.perf_counter() - started)

    async def close(self) -> None:
        """Abandon unfinished prompts and stop the speech worker; leaves no thread behind."""
        self._closed = True
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.close()

    def _forget(self, name: str) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._inflight.pop(name, None)
            if not task.cancelled():
                task.exception()  # every waiter re-raises it; this marks it retrieved

        return done

    def _resolve_voice(self, language: str | None, voice: str | None) -> tuple[str, str]:
        """(language, installed espeak-ng voice): `voice` may be a file ("roa/fr-BE"), a language
        code ("en-gb"), a variant of the language ("+f3") or both ("fr+m3"); None means the
        default voice of the default language, else the language's own voice."""
        lang = self._check_language(language or self.default_language)
        if voice is None and lang == self.default_language:
            voice = self.default_voice
        from_language = voice is None or voice.startswith("+")
        if voice is None:
            voice = lang
        elif voice.startswith("+"):
            voice = lang + voice
        if not voice or not _VOICE.match(voice):
            raise ValueError(f"invalid espeak-ng voice name {voice!r}")
        if self._voices is not None:
            voice = self._voices.resolve(voice, language_fallback=from_language)
        return lang, voice

    @staticmethod
    def _check_language(language: str) -> str:
        lang = language.strip().lower().replace("_", "-")
        if not _LANGUAGE.match(lang):
            raise ValueError(f"invalid language code {language!r} (expected e.g. 'en', 'fr', 'en-gb')")
        return lang

    def _key(self, text: str, lang: str, voice: str) -> str:
        parts = (CONVERSION_ID, self.engine_id, str(self.rate_wpm), lang, voice, text)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]

    async def _produce(self, text: str, voice: str, path: Path) -> None:
        assert self._backend is not None
        token = uuid.uuid4().hex[:8]
        partial = self.cache_dir / ".partial"
        wav, sln = partial / f"{path.stem}.{token}.wav", partial / f"{path.stem}.{token}.sln"
        try:
            await self._backend.synthesize(text, voice, self.rate_wpm, wav)
            self.jobs_run += 1
            await wav_to_slin(self._sox, wav, sln)
            problems = check_intelligible(sln, text, wpm=self.rate_wpm)
            if problems:
                rejected = self.cache_dir / ".rejected"
                rejected.mkdir(exist_ok=True)
                os.replace(sln, rejected / path.name)
                raise PromptQualityError(text, rejected / path.name, problems)
            os.replace(sln, path)  # atomic: Asterisk never sees a half-written prompt
        finally:
            for leftover in (wav, sln):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
