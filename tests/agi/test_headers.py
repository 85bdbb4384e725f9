"""The agi_ header block: the same headers whichever way the bytes arrive, nothing read past the blank
line, and every malformed block refused with the reason, at once rather than at the header time-out."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callserver.agi.headers import LINE_LIMIT, BadHeaders, read_env
from tests.agi.test_server import headers, s9_env

FIRST_REPLY = b"200 result=0\n"


async def _read(chunks: list[bytes], *, eof: bool = False) -> tuple[dict[str, str], bytes]:
    """read_env over a reader fed `chunks` one by one as the reader waits; (env, what is left)."""
    reader = asyncio.StreamReader(limit=LINE_LIMIT)

    async def feed() -> None:
        for chunk in chunks:
            await asyncio.sleep(0)
            reader.feed_data(chunk)
        if eof:
            reader.feed_eof()

    feeder = asyncio.create_task(feed())
    async with asyncio.timeout(2):
        env = await read_env(reader)
    await feeder
    left = bytes(reader._buffer)  # what the session will read as Asterisk's first reply
    return env, left


def _pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


_KEY = st.from_regex(r"agi_[a-z_0-9]{1,12}", fullmatch=True)
_CHAR = st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="\x7f")
_VALUE = st.text(_CHAR, max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    extra=st.dictionaries(_KEY, _VALUE, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=8),
)
def test_any_valid_block_in_any_pieces_gives_its_headers_and_leaves_the_reply(
    extra: dict[str, str], cuts: list[int]
) -> None:
    env = {**extra, **s9_env()}
    data = headers(env) + FIRST_REPLY
    got, left = asyncio.run(_read(_pieces(data, cuts)))
    assert got == env
    assert left == FIRST_REPLY


async def test_a_block_longer_than_the_reader_limit_is_read_whole() -> None:
    env = {**s9_env(), **{f"agi_arg_{i}": "x" * 100 for i in range(1, 120)}}
    data = headers(env)
    assert len(data) > LINE_LIMIT
    got, left = await _read([data[:5000], data[5000:], FIRST_REPLY])
    assert got == env and left == FIRST_REPLY


async def test_cr_lf_line_ends_are_read_a_line_at_a_time() -> None:
    env = s9_env()
    data = headers(env).replace(b"\n", b"\r\n")
    got, left = await _read([data, FIRST_REPLY])
    assert got == env and left == FIRST_REPLY


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not an agi_ header"),
        (b"\n", "blank line before any agi_ header"),
        (b"agi_channel: PJSIP/x-1\n\n", "no agi_uniqueid"),
        (b"agi_channel: PJSIP/x-1\nagi_uniqueid: 1.1\nHost: x\n\n", "not an agi_ header"),
        (b"agi_channel: PJSIP/x-1\nagi_uniqueid: 1.1\nagi_x: a\x01b\n\n", "control character in 'agi_x'"),
        (b"agi_channel: PJSIP/x-1\nagi_uniqueid: 1.1\r\n\r\nagi_x: 1\n\n", "blank line inside"),
        (b"agi_channel: PJSIP/x-1\nagi_dnid: 500\n\n", "no agi_uniqueid"),
        (
            b"agi_channel: PJSIP/x-1\n" + b"".join(b"agi_%d: 1\n" % i for i in range(300)) + b"\n",
            "more than 200",
        ),
        (b"agi_" + b"a" * (LINE_LIMIT + 10) + b"\n\n", f"longer than {LINE_LIMIT} bytes"),
    ],
)
async def test_a_malformed_block_is_refused_at_once_with_the_reason(data: bytes, reason: str) -> None:
    # no end of stream: the reader must not wait for more than the block to say what is wrong
    with pytest.raises(BadHeaders, match=reason):
        await _read([data])


@pytest.mark.parametrize(
    ("data", "count"),
    [
        (b"agi_channel: PJSIP/x-1\n", 1),
        (b"agi_channel: PJSIP/x-1\nagi_uniqueid: 1.1\n", 2),
        (b"agi_channel: PJSIP/x-1\nagi_uniqueid: 1.1\nagi_dn", 2),
        (b"", 0),
    ],
)
async def test_a_peer_closing_before_the_blank_line_is_refused(data: bytes, count: int) -> None:
    with pytest.raises(BadHeaders, match=f"closed after {count} agi_ headers"):
        await _read([data], eof=True)


async def test_a_bad_line_before_the_close_is_the_reason_given() -> None:
    with pytest.raises(BadHeaders, match="not an agi_ header"):
        await _read([b"agi_channel: PJSIP/x-1\nagi_uniqueid: 1.1\nHost: x\nagi_dn"], eof=True)
