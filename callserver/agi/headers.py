"""The agi_ header block Asterisk sends first on a FastAGI connection, read strictly.

Asterisk always sends agi_channel and agi_uniqueid, one `agi_key: value` per line, no control
characters, and a blank line at the end; anything else is not Asterisk and is refused here, before
any handler, so that no later log line or domain event carries what a stranger made up.
"""

from __future__ import annotations

import asyncio
import re

from callserver.logs import printable

LINE_LIMIT = 8192
_MAX_HEADERS = 200  # Asterisk sends ~25, plus agi_arg_N
_REQUIRED = ("agi_channel", "agi_uniqueid")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class BadHeaders(Exception):
    """The agi_ header block is not one Asterisk would send; the connection is dropped."""


async def read_env(reader: asyncio.StreamReader) -> dict[str, str]:
    """The `agi_key: value` lines up to the blank line; BadHeaders for anything Asterisk would not send."""
    env: dict[str, str] = {}
    while True:
        try:
            raw = await reader.readline()
        except ValueError:
            raise BadHeaders(f"header line longer than {LINE_LIMIT} bytes") from None
        if not raw.endswith(b"\n"):
            raise BadHeaders(f"closed after {len(env)} agi_ headers, before the blank line")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if not env:
                raise BadHeaders("blank line before any agi_ header")
            missing = [k for k in _REQUIRED if not env.get(k)]
            if missing:
                raise BadHeaders(f"no {' or '.join(missing)} (Asterisk always sends them)")
            return env
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_"):
            raise BadHeaders(f"not an agi_ header: {printable(raw, 60)}")
        if _CONTROL.search(line):
            # Asterisk never sends them; refusing them here keeps them out of every later log line
            raise BadHeaders(f"control character in {printable(key, 40)}")
        if len(env) >= _MAX_HEADERS:
            raise BadHeaders(f"more than {_MAX_HEADERS} headers")
        env[key] = value.removeprefix(" ")
