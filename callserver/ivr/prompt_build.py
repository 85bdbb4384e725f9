"""`callserver prompts build`: produce every prompt the project plays that Asterisk does not ship.

That is the project's own prompts (the agent's accept prompt, the voicemail apology...) in every
language the site speaks, and every fixed text prompt of every IVR flow. Prompts whose text depends
on the call (a balance, a name) are left to the first caller who needs them; everything else is in
the sounds folder before the server takes a call.
"""

from __future__ import annotations

from pathlib import Path

from callserver.config import Settings
from callserver.ivr.prompts import fixed_texts
from callserver.ivr.section import flows_of
from callserver.sounds.build import build_own_prompts
from callserver.sounds.folder import configured_languages, sound_folder
from callserver.speech.build import BuildReport, Renderer, build_prompts
from callserver.speech.synth import PromptSynth


def prompt_cache_dir(settings: Settings) -> Path:
    """Where synthesised prompts live; the server and the build command must agree on it."""
    return sound_folder(settings).dir


def prompt_synth(settings: Settings) -> PromptSynth:
    """The synthesiser writing into the sounds folder, naming files as Asterisk will find them."""
    folder = sound_folder(settings)
    return PromptSynth(folder.dir, default_language=settings.sounds.language, sounds_dir=folder.asterisk_dir)


async def build_all_prompts(settings: Settings, synth: Renderer | None = None) -> BuildReport:
    """Build the project's own prompts and every fixed text prompt of every flow, in every language.

    Without `synth`, a `prompt_synth(settings)` is opened and closed here.
    """
    if synth is None:
        async with prompt_synth(settings) as own:
            return await build_all_prompts(settings, own)
    report = await build_own_prompts(sound_folder(settings), configured_languages(settings), synth)
    config, _ = flows_of(settings)
    if config is not None:
        flows = await build_prompts(list(fixed_texts(config)), synth)
        report.built += flows.built
        report.failed += flows.failed
        report.seconds += flows.seconds
    return report
