"""A burst of AMI data already in the stream's buffer (a 20,000-channel listing is 12 MB) is not
parsed in one stretch of the event loop: the reader hands the loop back between full reads."""

from __future__ import annotations

import asyncio

from callserver.ami.protocol import READ_SIZE, AmiConnection
from callserver.ami.wire import Frame

EVENTS = 3000


class _BufferedReader:
    """A stream whose data is all buffered: every read returns at once without waiting, as
    `StreamReader.read` does while its buffer holds data."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self, n: int) -> bytes:
        chunk, self._data = self._data[:n], self._data[n:]
        return chunk


class _Writer:
    def get_extra_info(self, name: str) -> object:
        return ("127.0.0.1", 5038)

    def close(self) -> None: ...


async def test_a_buffered_burst_is_read_with_the_loop_handed_back_between_full_reads() -> None:
    frame = b"Event: CoreShowChannel\r\nActionID: x\r\nUniqueid: 1800000000.%d\r\n" + b"X-Pad: " + b"p" * 400
    data = b"".join(frame % i + b"\r\n\r\n" for i in range(EVENTS))
    assert len(data) > 10 * READ_SIZE
    seen: list[Frame] = []
    counts: list[int] = []  # events read so far, each time another task got the loop

    async def other_task() -> None:
        while len(seen) < EVENTS:
            counts.append(len(seen))
            await asyncio.sleep(0)

    watcher = asyncio.create_task(other_task())
    connection = AmiConnection(
        _BufferedReader(data),  # type: ignore[arg-type]
        _Writer(),  # type: ignore[arg-type]
        seen.append,
        "Asterisk Call Manager/9.0.0",
    )
    connection.read_budget = 0.0  # hand back after every full read
    async with asyncio.timeout(10):
        await connection.closed.wait()
        await watcher
    assert len(seen) == EVENTS
    # the other task ran while the burst was being read, not only before and after it
    assert any(0 < count < EVENTS for count in counts)
