"""The chunked AMI reader cuts the recorded wire streams into exactly the messages a line-by-line
reader finds, wherever the socket happens to split the bytes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from callserver.ami.wire import Frame, FrameReader
from tests.ami.traces import messages, traces_dir, wire_stream

TRACES = traces_dir()
needs_traces = pytest.mark.skipif(
    TRACES is None,
    reason="AMI TRANSCRIPTS NOT FOUND: set CALLSERVER_TRACES or check out ../shared/ami-traces",
)


def _read(data: bytes, cuts: list[int]) -> list[Frame]:
    reader = FrameReader()
    frames: list[Frame] = []
    start = 0
    for cut in [*cuts, len(data)]:
        frames += reader.feed(data[start:cut])
        start = cut
    return frames


def _trace(name: str) -> Path:
    assert TRACES is not None
    return TRACES / name


@needs_traces
def test_the_load_transcript_read_in_64k_chunks_gives_every_message() -> None:
    path = _trace("s8_load.ami.log.gz")
    data = wire_stream(path)
    expected = [f.headers for f in messages(path)]
    frames = _read(data, list(range(65536, len(data), 65536)))
    assert [f.headers for f in frames] == expected
    assert len(frames) > 1000


@needs_traces
def test_random_cuts_anywhere_in_a_message_change_nothing() -> None:
    path = _trace("s9_acd_answered.ami.log")
    data = wire_stream(path)
    expected = [f.headers for f in messages(path)]
    rng = random.Random(11)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), 60))
        assert [f.headers for f in _read(data, cuts)] == expected


def test_a_message_split_inside_its_blank_line_waits_for_the_rest() -> None:
    reader = FrameReader()
    assert reader.feed(b"Event: Ping\r\nA: 1\r\n\r") == []
    (frame,) = reader.feed(b"\nEvent: Pong\r\n")
    assert frame.headers == {"Event": "Ping", "A": "1"}
    (frame,) = reader.feed(b"\r\n")
    assert frame.headers == {"Event": "Pong"}


def test_lf_and_crlf_line_ends_and_extra_blank_lines_are_read_alike() -> None:
    frames = FrameReader().feed(b"Event: A\nX: 1\n\n\r\n\r\nEvent: B\r\nY: two words \r\n\r\n")
    assert [f.headers for f in frames] == [{"Event": "A", "X": "1"}, {"Event": "B", "Y": "two words "}]


def test_a_multibyte_character_cut_between_chunks_is_decoded_whole() -> None:
    data = "Event: Newchannel\r\nCallerIDName: Zoë Müller\r\n\r\n".encode()
    cut = data.index("ë".encode()) + 1
    (frame,) = _read(data, [cut])
    assert frame.headers["CallerIDName"] == "Zoë Müller"


def test_an_endless_message_is_dropped_and_the_next_one_read() -> None:
    reader = FrameReader(max_message=1000)
    assert reader.feed(b"Event: Huge\r\n" + b"X: " + b"y" * 2000) == []
    assert reader.discarded == 1
    (frame,) = reader.feed(b"y" * 50 + b"\r\n\r\nEvent: After\r\n\r\n")
    assert frame.headers == {"Event": "After"}
