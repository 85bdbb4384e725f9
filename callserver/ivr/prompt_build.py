"""`callserver prompts build`: synthesise every fixed text prompt of every IVR flow ahead of time.

Prompts whose text depends on the call (a balance, a name) are left to the first caller who needs
them; everything else is in the cache before the server takes a call.
"""

from __future__ import annotations

from pathlib import Path

from callserver.config import Settings
from callserver.ivr.prompts import fixed_texts
from callserver.ivr.section import flows_of
from callserver.speech.build import BuildReport, Renderer, build_prompts
from callserver.speech.synth import PromptSynth


def prompt_cache_dir(settings: Settings) -> Path:
    """Where synthesised prompts live; the server and the build command must agree on it."""
    return settings.data_dir / "sounds" / "callserver"


async def build_all_prompts(settings: Settings, synth: Renderer | None = None) -> BuildReport:
    """Build every fixed text prompt of every flow, in every language; no flows: an empty report.

    Without `synth`, a `PromptSynth` on `prompt_cache_dir(settings)` is opened and closed here.
    """
    config, _ = flows_of(settings)
    if config is None:
        return BuildReport()
    texts = list(fixed_texts(config))
    if synth is not None:
        return await build_prompts(texts, synth)
    async with PromptSynth(prompt_cache_dir(settings)) as own:
        return await build_prompts(texts, own)
