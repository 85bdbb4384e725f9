"""build_prompts: every IVR text pre-generated once, with new, cached and failed prompts counted."""

from __future__ import annotations

from callserver.speech import PromptSynth, build_prompts, check_intelligible

FLOW_TEXTS: list[tuple[str, str, str | None]] = [
    ("Welcome to Example Telecom.", "en", None),
    ("For sales, press 1. For support, press 2.", "en", None),
    ("Bienvenue chez Example Télécom.", "fr", None),
    ("Pour le service commercial, tapez 1.", "fr", "+f3"),
    ("Welcome to Example Telecom.", "en", None),  # the same prompt used by two menus
]


async def test_build_generates_each_prompt_once_then_finds_them_cached(synth: PromptSynth) -> None:
    first = await build_prompts(FLOW_TEXTS, synth)

    assert first.ok and (first.new, first.cached) == (4, 0)
    assert synth.jobs_run == 4
    for item in first.built:
        assert check_intelligible(item.path, item.text) == []
        assert item.seconds > 0

    again = await build_prompts(FLOW_TEXTS, synth)
    assert (again.new, again.cached) == (0, 4) and synth.jobs_run == 4
    assert [p.path for p in again.built] == [p.path for p in first.built]
    assert "4 prompts (0 new, 4 cached), 0 failed" in again.summary()


async def test_build_reports_every_bad_prompt_and_builds_the_rest(synth: PromptSynth) -> None:
    report = await build_prompts(
        [("Hello.", "en", None), ("Hallo.", "xx", None), ("...", "en", None), ("Goodbye.", "en", "nosuch")],
        synth,
    )

    assert not report.ok
    assert [p.text for p in report.built] == ["Hello."]
    errors = {f.text: f.error for f in report.failed}
    assert set(errors) == {"Hallo.", "...", "Goodbye."}
    assert "no voice" in errors["Hallo."] and "silent" in errors["..."] and "no voice" in errors["Goodbye."]
