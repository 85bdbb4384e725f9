"""The agi_ header block Asterisk sends first on a FastAGI connection, read strictly.

Asterisk always sends agi_channel and agi_uniqueid, one `agi_key: value` per line, no control
characters, and a blank line at the end; anything else is not Asterisk and is refused here, before
any handler, so that no later log line or domain event carries what a stranger made up.

Asterisk writes the whole block at once, so after the first line the rest is taken in one read up
to the blank line rather than a line at a time: two dozen `readline` awaits cost more than the
rest of a short AGI session's parsing. The first line is still read alone, so that a stranger
(an HTTP request, a port scanner) is refused at its first line instead of being waited for; a block
longer than the reader's limit, or one with CR LF line ends, is read a line at a time as before.
"""

from __future__ import annotations

import asyncio
import re

from callserver.agi.stream import AgiReader
from callserver.logs import printable

LINE_LIMIT = 8192
_MAX_HEADERS = 200  # Asterisk sends ~25, plus agi_arg_N
_REQUIRED = ("agi_channel", "agi_uniqueid")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_BUT_LF = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")  # in a block: anything but its LF line ends


class BadHeaders(Exception):
    """The agi_ header block is not one Asterisk would send; the connection is dropped."""


async def read_env(reader: AgiReader) -> dict[str, str]:
    """The `agi_key: value` lines up to the blank line; BadHeaders for anything Asterisk would not send."""
    env: dict[str, str] = {}
    first = await _readline(reader, env)
    _take(first, env)  # never the end: a blank first line is refused there
    if not first.endswith(b"\r\n"):
        rest = await _rest_of_block(reader, env)
        if isinstance(rest, dict):
            return rest
        if _take(rest, env):
            return env
    while True:
        if _take(await _readline(reader, env), env):
            return env


async def _readline(reader: AgiReader, env: dict[str, str]) -> bytes:
    try:
        raw = await reader.readline()
    except ValueError:
        raise BadHeaders(f"header line longer than {LINE_LIMIT} bytes") from None
    if not raw.endswith(b"\n"):
        raise BadHeaders(f"closed after {len(env)} agi_ headers, before the blank line")
    return raw


async def _rest_of_block(reader: AgiReader, env: dict[str, str]) -> dict[str, str] | bytes:
    """The headers after the first one in a single read: the whole `env`, or when the block is longer
    than the reader's limit, the next line (ending in LF) for the line-by-line reader to go on from."""
    # the blank line may come right after the first header; one byte tells, the search needs two
    start = await reader.read(1)
    if start == b"\n":
        _take(start, env)
        return env
    try:
        block = start + await reader.readuntil(b"\n\n")
    except asyncio.IncompleteReadError as err:
        # closed before the blank line: the lines that came are judged as they would have been one by one
        for line in (start + err.partial).split(b"\n")[:-1]:
            _take(line + b"\n", env)
        raise BadHeaders(f"closed after {len(env)} agi_ headers, before the blank line") from None
    except asyncio.LimitOverrunError:
        # what was read stays in the reader's buffer: finish this line and go on a line at a time
        return start + await _readline(reader, env)
    lines = block.split(b"\n")[:-2]
    if not _plain(block, lines, env):
        for line in lines:
            if _take(line + b"\n", env):
                # a CR LF blank line inside: Asterisk ends every line of the block with LF alone
                raise BadHeaders("blank line inside the agi_ headers")
    _take(b"\n", env)
    return env


def _plain(block: bytes, lines: list[bytes], env: dict[str, str]) -> bool:
    """Add the block's lines at once when every check is sure to pass (what Asterisk sends); False,
    with `env` untouched, when some line needs `_take`'s checks one at a time to say what is wrong."""
    if len(env) + len(lines) > _MAX_HEADERS or _CONTROL_BUT_LF.search(block) is not None:
        return False
    pairs = [line.decode("utf-8", "replace").partition(":") for line in lines]
    if not all(sep and key.startswith("agi_") for key, sep, _ in pairs):
        return False
    for key, _, value in pairs:
        env[key] = value.removeprefix(" ")
    return True


def _take(raw: bytes, env: dict[str, str]) -> bool:
    """Add one header line to `env`; True when it is the blank line that ends a complete block."""
    line = raw.decode("utf-8", "replace").rstrip("\r\n")
    if not line:
        if not env:
            raise BadHeaders("blank line before any agi_ header")
        missing = [k for k in _REQUIRED if not env.get(k)]
        if missing:
            raise BadHeaders(f"no {' or '.join(missing)} (Asterisk always sends them)")
        return True
    key, sep, value = line.partition(":")
    if not sep or not key.startswith("agi_"):
        raise BadHeaders(f"not an agi_ header: {printable(raw, 60)}")
    if _CONTROL.search(line):
        # Asterisk never sends them; refusing them here keeps them out of every later log line
        raise BadHeaders(f"control character in {printable(key, 40)}")
    if len(env) >= _MAX_HEADERS:
        raise BadHeaders(f"more than {_MAX_HEADERS} headers")
    env[key] = value.removeprefix(" ")
    return False
