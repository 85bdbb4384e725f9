"""PromptSynth against real espeak-ng and sox: format, caching, languages, errors, shutdown."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from callserver.speech import (
    PromptQualityError,
    PromptSynth,
    VoiceNotFound,
    analyse,
    asterisk_name,
    check_intelligible,
    expected_duration,
)

WELCOME = "Thank you for calling. Please hold while we connect you to an agent."


async def test_prompt_is_8khz_mono_s16_with_speech_and_plausible_duration(synth: PromptSynth) -> None:
    path = await synth.prompt_file(WELCOME, language="en", voice=None)

    assert path.suffix == ".sln" and path.parent == synth.cache_dir
    raw = path.read_bytes()
    assert raw[:4] != b"RIFF" and len(raw) % 2 == 0
    stats = analyse(path)
    assert (stats.sample_rate, stats.channels, stats.sample_width) == (8000, 1, 2)
    low, high = expected_duration(WELCOME, wpm=synth.rate_wpm)
    assert low <= stats.duration <= high
    assert 2.5 < stats.duration < 7.0  # 13 words at 165 words per minute
    assert -30 < stats.speech_rms_dbfs < -10 and stats.peak_dbfs > -12
    assert stats.silent_fraction < 0.6
    assert check_intelligible(path, WELCOME) == []


async def test_same_text_twice_gives_the_same_file_synthesised_once(synth: PromptSynth) -> None:
    first = await synth.render(WELCOME)
    second = await synth.render(WELCOME, language="en")

    assert first.path == second.path
    assert (first.synthesized, second.synthesized) == (True, False)
    assert synth.jobs_run == 1


async def test_concurrent_requests_for_one_text_share_one_job(synth: PromptSynth) -> None:
    paths = await asyncio.gather(
        *(synth.prompt_file("Please hold.", language="en", voice=None) for _ in range(8))
    )

    assert len(set(paths)) == 1
    assert synth.jobs_run == 1


async def test_a_cancelled_caller_does_not_cancel_the_job_others_wait_on(synth: PromptSynth) -> None:
    quitter = asyncio.create_task(synth.prompt_file("Your call is important to us."))
    stayer = asyncio.create_task(synth.prompt_file("Your call is important to us."))
    await asyncio.sleep(0)  # both have joined the job
    quitter.cancel()

    path = await stayer
    assert check_intelligible(path, "Your call is important to us.") == []
    assert synth.jobs_run == 1


async def test_changed_text_makes_a_new_file_and_keeps_the_old(synth: PromptSynth) -> None:
    old = await synth.prompt_file("Our office is open from nine to five.", language="en", voice=None)
    new = await synth.prompt_file("Our office is open from eight to six.", language="en", voice=None)

    assert old != new
    assert old.is_file() and new.is_file()
    assert old.read_bytes() != new.read_bytes()
    assert synth.jobs_run == 2


async def test_whitespace_differences_share_one_prompt(synth: PromptSynth) -> None:
    a = await synth.prompt_file("Please  hold.\n")
    b = await synth.prompt_file(" Please hold.")

    assert a == b and synth.jobs_run == 1


async def test_french_prompt_is_spoken_in_a_french_voice(synth: PromptSynth) -> None:
    text = "Merci de votre appel. Tous nos conseillers sont actuellement en ligne."
    fr = await synth.prompt_file(text, language="fr", voice=None)
    en = await synth.prompt_file(text, language="en", voice=None)

    assert fr.name.startswith("fr-") and fr != en
    assert check_intelligible(fr, text) == []
    assert fr.read_bytes() != en.read_bytes()


async def test_voice_variant_makes_its_own_file(synth: PromptSynth) -> None:
    plain = await synth.prompt_file(WELCOME, language="en", voice=None)
    female = await synth.prompt_file(WELCOME, language="en", voice="+f3")

    assert plain != female
    assert check_intelligible(female, WELCOME) == []


async def test_unknown_voice_is_an_error_not_another_voice(synth: PromptSynth) -> None:
    await synth.prompt_file("Hello.")  # a known voice is loaded: espeak-ng would silently keep it
    with pytest.raises(VoiceNotFound, match="zz"):
        await synth.prompt_file("Hello.", language="zz", voice=None)
    assert list(synth.cache_dir.glob("zz-*")) == []


async def test_prompt_that_speaks_nothing_raises_and_is_not_cached(synth: PromptSynth) -> None:
    with pytest.raises(PromptQualityError, match="silent"):
        await synth.prompt_file("...")

    assert list(synth.cache_dir.glob("*.sln")) == []
    assert list((synth.cache_dir / ".partial").iterdir()) == []


async def test_invalid_language_or_empty_text_is_rejected(synth: PromptSynth) -> None:
    with pytest.raises(ValueError, match="language"):
        await synth.prompt_file("Hello.", language="../etc")
    with pytest.raises(ValueError, match="empty"):
        await synth.prompt_file("   ")


async def test_pyttsx3_progress_notice_stays_off_stdout(
    synth: PromptSynth, capsys: pytest.CaptureFixture[str]
) -> None:
    await synth.prompt_file(WELCOME)
    print("after")

    assert capsys.readouterr().out == "after\n"


async def test_espeak_ng_program_gives_a_valid_prompt_under_its_own_name(tmp_path: Path) -> None:
    async with (
        PromptSynth(tmp_path / "cli", backend="espeak-ng-cli") as cli,
        PromptSynth(tmp_path / "lib", backend="pyttsx3") as lib,
    ):
        from_cli = await cli.prompt_file("- Press one for sales.", language="en", voice=None)
        from_lib = await lib.prompt_file("- Press one for sales.", language="en", voice=None)

        assert cli.backend_name == "espeak-ng-cli" and cli.engine_id.startswith("espeak-ng-cli+espeak-ng-1.")
        assert check_intelligible(from_cli, "Press one for sales.") == []
        assert from_cli.name != from_lib.name  # the engine is part of the cache key
        assert abs(analyse(from_cli).duration - analyse(from_lib).duration) < 0.2


async def test_close_leaves_no_thread_and_refuses_new_work(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    synth = PromptSynth(tmp_path)
    await synth.prompt_file(WELCOME)
    assert any(t.name == "speech-pyttsx3" for t in threading.enumerate())

    await synth.close()

    # Python 3.11's asyncio reaps each sox/espeak-ng child on a short-lived "waitpid" thread that
    # ends just after the child; let those finish, then nothing else may remain.
    for thread in threading.enumerate():
        if thread.name.startswith("asyncio-waitpid"):
            thread.join(timeout=5)
    assert set(threading.enumerate()) == before
    with pytest.raises(Exception, match="closed"):
        await synth.prompt_file(WELCOME)


async def test_a_second_synthesiser_reuses_the_first_ones_files(tmp_path: Path) -> None:
    async with PromptSynth(tmp_path) as first:
        path = await first.prompt_file(WELCOME)
    async with PromptSynth(tmp_path) as second:
        result = await second.render(WELCOME)

    assert result.path == path and not result.synthesized and second.jobs_run == 0


def test_asterisk_name_is_the_path_without_extension_relative_to_sounds(tmp_path: Path) -> None:
    prompt = tmp_path / "callserver" / "en-abc.sln"

    assert asterisk_name(prompt, tmp_path) == "callserver/en-abc"
    assert asterisk_name(prompt) == str(tmp_path.resolve() / "callserver" / "en-abc")
    with pytest.raises(ValueError, match="sounds directory"):
        asterisk_name(prompt, tmp_path / "elsewhere")


async def test_language_codes_resolve_to_the_same_voice_on_both_backends(tmp_path: Path) -> None:
    async with (
        PromptSynth(tmp_path / "lib", backend="pyttsx3") as lib,
        PromptSynth(tmp_path / "cli", backend="espeak-ng-cli") as cli,
    ):
        durations: set[float] = set()
        for language in ("en-gb", "fr-fr", "fr-ca"):
            a = await lib.prompt_file("Bonjour et bienvenue.", language=language)
            b = await cli.prompt_file("Bonjour et bienvenue.", language=language)
            # Not byte-identical (the engines pad the end with silence differently), but the same
            # voice: the same length of speech.
            sa, sb = analyse(a), analyse(b)
            speech_a, speech_b = sa.duration - sa.trailing_silence, sb.duration - sb.trailing_silence
            assert abs(speech_a - speech_b) < 0.05, (language, speech_a, speech_b)
            durations.add(round(analyse(a).duration, 1))
        assert len(durations) == 2  # fr-fr and fr-ca (fallback to fr) match; en-gb differs
        # "fr" and "fr-fr" name the same espeak-ng voice
        fr = analyse(await lib.prompt_file("Au revoir.", language="fr")).duration
        assert abs(analyse(await lib.prompt_file("Au revoir.", language="fr-fr")).duration - fr) < 0.01


async def test_unknown_variant_is_an_error(synth: PromptSynth) -> None:
    with pytest.raises(VoiceNotFound):
        await synth.prompt_file("Hello.", voice="+nosuchvariant")


async def test_alternating_languages_never_yields_an_empty_prompt(synth: PromptSynth) -> None:
    texts = [(f"Vous êtes l'appelant numéro {n}.", "fr") for n in range(30)]
    texts += [(f"You are caller number {n}.", "en") for n in range(30)]
    texts = [t for pair in zip(texts[:30], texts[30:], strict=True) for t in pair]

    paths = [await synth.prompt_file(text, language=lang) for text, lang in texts]

    assert len(set(paths)) == 60 and synth.jobs_run == 60
    for (text, _), path in zip(texts, paths, strict=True):
        assert check_intelligible(path, text) == [], text
