"""The sounds callserver plays: Asterisk's core sounds it relies on, and the prompts it produces
itself into one folder Asterisk reads (`callserver prompts build`).

Every name is defined once in `names.py`; `core.py` knows which names a stock Asterisk 22 ships;
`folder.py` says where the project's own prompts live and how Asterisk names them.
"""

from callserver.sounds.core import CORE_SOUNDS, is_core_sound
from callserver.sounds.folder import SoundFolder, configured_languages, sound_folder
from callserver.sounds.names import OWN_PROMPTS, OwnPrompt

__all__ = [
    "CORE_SOUNDS",
    "OWN_PROMPTS",
    "OwnPrompt",
    "SoundFolder",
    "configured_languages",
    "is_core_sound",
    "sound_folder",
]
