"""What the server knows about the AGI commands it sends: how long each may take to be answered, and
how a sound file is named so that no server path goes over the socket.
"""

from __future__ import annotations

# Commands whose reply comes only once the caller has listened, typed or spoken: they get
# `media_timeout` plus whatever wait they ask for themselves. Every other command is answered by
# Asterisk at once and gets `reply_timeout`.
_MEDIA_VERBS = (
    "STREAM FILE",
    "CONTROL STREAM FILE",
    "GET DATA",
    "GET OPTION",
    "WAIT FOR DIGIT",
    "RECORD FILE",
    "SAY ",
    "EXEC",
    "SPEECH RECOGNIZE",
    "RECEIVE CHAR",
    "RECEIVE TEXT",
)


# commands whose first argument is a sound file name (played or recorded)
_FILE_VERBS = ("STREAM FILE ", "CONTROL STREAM FILE ", "GET DATA ", "GET OPTION ", "RECORD FILE ")


def asterisk_names(line: str, sounds_dir: str) -> str:
    """`line` with a file name under `sounds_dir` made relative to it, the way Asterisk names sounds
    (it resolves relative names in its own sounds directory), so no server path goes over the socket.
    """
    upper = line.upper()
    verb = next((v for v in _FILE_VERBS if upper.startswith(v)), None)
    if verb is None or not sounds_dir:
        return line
    root = sounds_dir.rstrip("/") + "/"
    head, _, rest = line[len(verb) :].partition(" ")
    if not head.startswith(root):
        return line
    name = head[len(root) :]
    return f"{line[: len(verb)]}{name} {rest}" if rest else f"{line[: len(verb)]}{name}"


def is_media(line: str) -> bool:
    """Does the reply to `line` wait for the caller (prompt, keys, recording)?"""
    return line.upper().startswith(_MEDIA_VERBS)


def reply_budget(line: str, reply_timeout: float, media_timeout: float) -> float:
    """Seconds `line` may take to be answered: its own wait (WAIT FOR DIGIT 5000 -> 5 s, RECORD FILE's
    maximum length, GET DATA's timeout per digit) on top of `media_timeout` for media commands."""
    upper = line.upper()
    if not is_media(line):
        return reply_timeout
    words = line.split()
    waited = 0.0
    with_arg = {"WAIT": 3, "RECORD": 5, "GET": 3}
    index = with_arg.get(words[0].upper()) if words else None
    if index is not None and len(words) > index:
        try:
            waited = max(0.0, float(words[index]) / 1000)
            if upper.startswith("GET DATA") and len(words) > 4:
                waited *= max(1, min(int(words[4]), 64))
        except ValueError:
            waited = 0.0
    return media_timeout + waited + reply_timeout
