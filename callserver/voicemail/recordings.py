"""The recordings folder: where Asterisk writes voicemail (RECORD FILE) and callserver reads it back.

Asterisk does not create missing folders for RECORD FILE: it answers `result=-1 (writefile)`. So
the server creates the folder at start and says plainly when it cannot; `callserver doctor` checks
it again on a deployment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from callserver.config import Settings


def recordings_dir(settings: Settings) -> Path:
    """`voicemail.recordings_dir`, default `<data_dir>/recordings`, as an absolute path (Asterisk
    is given it in RECORD FILE and does not share callserver's working directory)."""
    return (settings.voicemail.recordings_dir or settings.data_dir / "recordings").resolve()


def prepare_recordings_dir(path: Path) -> str | None:
    """Create the folder if needed; None when usable, else what is wrong and how to fix it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return (
            f"cannot create the recordings folder {path}: {err.strerror}; create it and let both "
            "Asterisk and callserver write to it (voicemail.recordings_dir)"
        )
    return recordings_problem(path)


def recordings_problem(path: Path) -> str | None:
    """None when `path` is a folder callserver can write to, else what is wrong and the fix."""
    if not path.is_dir():
        return f"recordings folder {path} does not exist: create it, writable by Asterisk and callserver"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"recordings folder {path} is not writable by callserver: fix its owner or mode"
    return None
