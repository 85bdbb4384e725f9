"""The two ways of driving espeak-ng: pyttsx3 on one dedicated thread, or the `espeak-ng` program.

pyttsx3 keeps espeak-ng loaded in the process and is not thread-safe, and its `runAndWait` blocks,
so every job goes through a queue to a single worker thread. The program is the fallback when the
library cannot load; it gives the same audio at about the same cost.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.metadata
import queue
import shutil
import sys
import tempfile
import threading
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from callserver.speech.model import BackendUnavailable, SynthesisFailed, VoiceNotFound

JOB_TIMEOUT = 30.0


class SpeechBackend(Protocol):
    """Writes one utterance as a WAV file; `engine_id` names the engine build for cache keys."""

    name: str
    engine_id: str

    async def start(self) -> None: ...

    async def synthesize(self, text: str, voice: str, rate_wpm: int, out_wav: Path) -> None: ...

    async def close(self) -> None: ...


class _DropSavedNotice:
    """Stand-in for sys.stdout that swallows pyttsx3's "Audio saved to ..." line, passing all else.

    The line is printed from espeak-ng's own callback thread, so only a process-wide stream swap
    reaches it; filtering by content keeps other threads' output intact while it is in place.
    """

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self._dropped_line = False

    def write(self, text: str) -> int:
        if text.startswith("Audio saved to "):
            self._dropped_line = True
            return len(text)
        if self._dropped_line and text == "\n":
            self._dropped_line = False
            return len(text)
        self._dropped_line = False
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)


@contextlib.contextmanager
def _quiet_pyttsx3() -> Iterator[None]:
    original = sys.stdout
    wrapper = _DropSavedNotice(original)
    sys.stdout = wrapper
    try:
        yield
    finally:
        # Someone else may have swapped stdout meanwhile (a test harness); do not undo their change.
        if sys.stdout is wrapper:
            sys.stdout = original


@dataclass(slots=True)
class _Job:
    text: str
    voice: str
    rate_wpm: int
    out_wav: Path
    done: concurrent.futures.Future[None]


class Pyttsx3Backend:
    """pyttsx3 + espeak-ng on one worker thread fed by a queue, one `save_to_file` per `runAndWait`."""

    name = "pyttsx3"

    def __init__(self, *, job_timeout: float = JOB_TIMEOUT) -> None:
        self.engine_id = ""
        self._job_timeout = job_timeout
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._exited: concurrent.futures.Future[None] = concurrent.futures.Future()

    async def start(self) -> None:
        """Start the worker and wait until espeak-ng is loaded; BackendUnavailable says why not."""
        ready: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="speech-pyttsx3", daemon=True)
        self._thread.start()
        try:
            self.engine_id = await asyncio.wrap_future(ready)
        except Exception as exc:
            await self.close()
            raise BackendUnavailable(f"pyttsx3 with espeak-ng cannot start: {exc!r}") from exc

    async def synthesize(self, text: str, voice: str, rate_wpm: int, out_wav: Path) -> None:
        if self._thread is None or not self._thread.is_alive():
            raise SynthesisFailed("the pyttsx3 worker is not running")
        job = _Job(text, voice, rate_wpm, out_wav, concurrent.futures.Future())
        self._jobs.put(job)
        try:
            # Longer than the worker's own limit, so its more precise error normally wins.
            async with asyncio.timeout(2 * self._job_timeout):
                await asyncio.wrap_future(job.done)
        except TimeoutError as exc:
            raise SynthesisFailed(f"pyttsx3 took over {self._job_timeout:.0f} s for {text!r}") from exc

    async def close(self) -> None:
        """Let queued jobs finish, stop the worker and join it without borrowing an executor thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._jobs.put(None)
        async with asyncio.timeout(self._job_timeout):
            await asyncio.wrap_future(self._exited)
        thread.join()

    def _run(self, ready: concurrent.futures.Future[str]) -> None:
        try:
            session = _Pyttsx3Session(self._job_timeout)
        except Exception as exc:
            ready.set_exception(exc)
            self._exited.set_result(None)
            return
        ready.set_result(session.engine_id)
        try:
            while (job := self._jobs.get()) is not None:
                if not job.done.set_running_or_notify_cancel():
                    continue
                try:
                    session.render(job)
                except Exception as exc:
                    job.done.set_exception(exc)
                else:
                    job.done.set_result(None)
        finally:
            del session  # drops the engine on this thread, which unhooks its espeak-ng callback
            self._exited.set_result(None)


class _Pyttsx3Session:
    """One pyttsx3 engine, used only from the worker thread, and what it takes to drive it safely.

    pyttsx3 2.99's espeak driver has three traps, each seen to cut or drop prompts under load:
    runAndWait may return before the utterance ends (always on a fresh engine); it cancels the new
    utterance if espeak-ng still looks busy (winding down the previous one, loading a voice); and
    a fresh engine's first property changes are only queued. Hence: wait for the driver's
    end-of-utterance notice, call espeak-ng's Synchronize before each utterance, warm up at start.
    """

    def __init__(self, timeout: float) -> None:
        from pyttsx3.drivers import _espeak  # imported here: a missing library means fallback
        from pyttsx3.engine import Engine

        self._timeout = timeout
        # A private Engine, not pyttsx3.init(): init() shares one engine process-wide.
        self._engine = Engine("espeak")
        self._synchronize: Callable[[], object] = _espeak.Synchronize
        version = _espeak.Info(None).decode()
        self.engine_id = f"pyttsx3-{importlib.metadata.version('pyttsx3')}+espeak-ng-{version}"
        self._finished = threading.Event()
        self._error: BaseException | None = None
        self._engine.connect("finished-utterance", self._on_finished)
        self._engine.connect("error", self._on_error)
        self._settings: tuple[str, int] | None = None  # voice and rate last sent to espeak-ng
        self._broken = ""  # set when espeak-ng stopped answering: later jobs would mix with it
        with tempfile.TemporaryDirectory(prefix="speech-warmup-") as tmp:
            self._utter("ready", Path(tmp) / "warmup.wav")  # leaves the engine idle, not queueing

    def render(self, job: _Job) -> None:
        if self._broken:
            raise SynthesisFailed(f"pyttsx3 is unusable since {self._broken}")
        if (job.voice, job.rate_wpm) != self._settings:
            self._engine.setProperty("voice", job.voice)
            self._engine.setProperty("rate", job.rate_wpm)
            self._settings = (job.voice, job.rate_wpm)
        for attempt in range(2):
            self._utter(job.text, job.out_wav)
            if self._error is None:
                break
            if attempt:  # a cancelled utterance is retried once; twice is a real fault
                raise SynthesisFailed(f"pyttsx3 failed on {job.text!r}: {self._error!r}")
        # espeak-ng reports success for an unknown voice name and keeps the previous voice: only
        # after synthesis does the current voice tell whether the request was honoured.
        current = str(self._engine.getProperty("voice") or "")
        wanted = job.voice.lower()
        if current != wanted and not current.endswith("/" + wanted):
            job.out_wav.unlink(missing_ok=True)
            self._settings = None
            raise VoiceNotFound(job.voice)
        if _wav_frames(job.out_wav) == 0:
            raise SynthesisFailed(f"pyttsx3 wrote no audio for {job.text!r}")

    def _utter(self, text: str, out_wav: Path) -> None:
        self._synchronize()
        self._finished.clear()
        self._error = None
        with _quiet_pyttsx3():
            self._engine.save_to_file(text, str(out_wav))
            self._engine.runAndWait()
            if not self._finished.wait(self._timeout):
                self._broken = f"espeak-ng never finished {text!r}"
                raise SynthesisFailed(self._broken)

    # Called on espeak-ng's callback thread, after the WAV file is written.
    def _on_finished(self, name: str | None = None, completed: bool = True) -> None:
        self._error = None if completed else SynthesisFailed("utterance cancelled before its end")
        self._finished.set()

    def _on_error(self, name: str | None = None, exception: BaseException | None = None) -> None:
        self._error = exception or SynthesisFailed("unknown pyttsx3 error")
        self._finished.set()


def _wav_frames(path: Path) -> int:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


class EspeakCliBackend:
    """The `espeak-ng -w` program, one process per prompt; text goes on stdin so no dash is an option."""

    name = "espeak-ng-cli"

    def __init__(self, *, job_timeout: float = JOB_TIMEOUT) -> None:
        self.engine_id = ""
        self._job_timeout = job_timeout
        self._program = ""

    async def start(self) -> None:
        program = shutil.which("espeak-ng")
        if program is None:
            raise BackendUnavailable("espeak-ng is not installed (Debian package: espeak-ng)")
        proc = await asyncio.create_subprocess_exec(
            program, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        out, _ = await proc.communicate()
        # "eSpeak NG text-to-speech: 1.51  Data at: ..."
        words = out.decode(errors="replace").split()
        version = words[words.index("text-to-speech:") + 1] if "text-to-speech:" in words else "unknown"
        self._program = program
        self.engine_id = f"espeak-ng-cli+espeak-ng-{version}"

    async def synthesize(self, text: str, voice: str, rate_wpm: int, out_wav: Path) -> None:
        proc = await asyncio.create_subprocess_exec(
            self._program,
            "-b",
            "1",
            "-v",
            voice,
            "-s",
            str(rate_wpm),
            "-w",
            str(out_wav),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with asyncio.timeout(self._job_timeout):
                _, err = await proc.communicate(text.encode())
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise SynthesisFailed(f"espeak-ng took over {self._job_timeout:.0f} s for {text!r}") from exc
        message = err.decode(errors="replace").strip()
        if proc.returncode != 0:
            if "voice does not exist" in message:
                raise VoiceNotFound(voice)
            raise SynthesisFailed(f"espeak-ng failed ({proc.returncode}): {message}")

    async def close(self) -> None:
        """Nothing runs between prompts."""
