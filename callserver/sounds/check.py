"""`check-config`'s sound check: every sound the configuration makes Asterisk play must be a core
Asterisk 22 sound, one of callserver's own prompts, or a file already in Asterisk's sounds directory.

Otherwise Asterisk answers `result=-1` at the first caller who reaches it (an IVR menu then fails
and its callers skip it); this says so before any call, naming the field to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from callserver.sounds.core import CORE_SOUNDS
from callserver.sounds.folder import SoundFolder, configured_languages, sound_folder
from callserver.sounds.library import SoundLibrary
from callserver.sounds.names import OWN_PROMPTS

if TYPE_CHECKING:
    from callserver.config import Settings


def own_prompt_names(folder: SoundFolder, languages: list[str]) -> set[str]:
    """The Asterisk names of every own prompt `prompts build` produces for these languages."""
    return {
        folder.name(prompt, language)
        for prompt in OWN_PROMPTS
        for language in folder.languages_of(prompt, languages)
    }


def played_sounds(settings: Settings) -> Iterator[tuple[str, str, str]]:
    """(field path, sound name, language) of every recorded sound the configuration names."""
    from callserver.ivr.model import PromptConfig
    from callserver.ivr.section import flows_of

    for i, queue in enumerate(settings.queues):
        for field in ("on_timeout", "on_full", "on_no_agents"):
            action = getattr(queue, field)
            if action is not None and action.message is not None:
                yield f"queues[{i}].{field}.message", action.message, settings.sounds.language
    config, _ = flows_of(settings)
    if config is None:
        return
    for flow_name, flow in config.flows.items():
        for node_id, node in flow.nodes.items():
            for field in ("prompt", "invalid", "no_input"):
                prompt = getattr(node, field, None)
                if isinstance(prompt, PromptConfig) and prompt.file is not None:
                    yield f"ivr.flows.{flow_name}.nodes.{node_id}.{field}.file", prompt.file, flow.language


FIX = "use a text prompt (built by `callserver prompts build`) or a core sound, or record the file there"


def unknown_sound_names(settings: Settings) -> list[tuple[str, str]]:
    """(field path, name) of each sound Asterisk would not find; empty when all are known."""
    folder = sound_folder(settings)
    own = own_prompt_names(folder, configured_languages(settings))
    library = SoundLibrary(CORE_SOUNDS, folder.asterisk_dir)
    return [
        (path, name)
        for path, name, language in played_sounds(settings)
        if name not in own and not library.exists(name, language)
    ]


def unknown_sound_problem(settings: Settings, name: str) -> str:
    return (
        f"'{name}' is not an Asterisk 22 core sound nor a callserver prompt, and there is no such file "
        f"in {sound_folder(settings).asterisk_dir}"
    )


def unknown_sounds(settings: Settings) -> list[str]:
    """`path: problem: fix` for each sound Asterisk would not find; empty when all are known."""
    return [
        f"{path}: {unknown_sound_problem(settings, name)}: {FIX}"
        for path, name in unknown_sound_names(settings)
    ]
