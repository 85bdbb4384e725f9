"""AgiStream reads like asyncio.StreamReader, and a close from another task ends a waiting read
without touching a later socket that gets the same descriptor number."""

from __future__ import annotations

import asyncio
import socket

from hypothesis import given
from hypothesis import strategies as st

from callserver.agi.stream import AgiStream
from tests.fuzz.budget import fuzz_settings

LIMIT = 16
OPS = st.lists(st.sampled_from(["readline", "read1", "read5", "until2", "until1"]), min_size=1, max_size=12)


async def _outcomes(reader: object, ops: list[str]) -> list[object]:
    """What each operation returned or raised, in a form both readers can be compared on."""
    out: list[object] = []
    for op in ops:
        try:
            match op:
                case "readline":
                    out.append(await reader.readline())  # type: ignore[attr-defined]
                case "read1":
                    out.append(await reader.read(1))  # type: ignore[attr-defined]
                case "read5":
                    out.append(await reader.read(5))  # type: ignore[attr-defined]
                case "until2":
                    out.append(await reader.readuntil(b"\n\n"))  # type: ignore[attr-defined]
                case _:
                    out.append(await reader.readuntil(b"\n"))  # type: ignore[attr-defined]
        except asyncio.IncompleteReadError as err:
            out.append(("incomplete", err.partial))
        except asyncio.LimitOverrunError as err:
            out.append(("overrun", err.consumed))
        except ValueError:
            out.append("too long")
    return out


async def _through_stream(data: bytes, ops: list[str]) -> list[object]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    stream = AgiStream(ours, limit=LIMIT, loop=asyncio.get_running_loop())
    theirs.sendall(data)
    theirs.close()
    try:
        return await _outcomes(stream, ops)
    finally:
        stream.close()


async def _through_streamreader(data: bytes, ops: list[str]) -> list[object]:
    reader = asyncio.StreamReader(limit=LIMIT)
    reader.feed_data(data)
    reader.feed_eof()
    return await _outcomes(reader, ops)


@fuzz_settings(short=300, long=10_000)
@given(
    # lines about the limit long as often as short ones: the limit's edges are where readers differ
    lines=st.lists(
        st.one_of(st.binary(max_size=6), st.binary(min_size=LIMIT - 3, max_size=LIMIT + 3)).map(
            lambda b: b.replace(b"\n", b"")
        ),
        max_size=6,
    ),
    tail=st.binary(max_size=20),
    ops=OPS,
)
def test_reads_give_what_asyncio_stream_reader_gives(lines: list[bytes], tail: bytes, ops: list[str]) -> None:
    data = b"".join(line + b"\n" for line in lines) + tail
    mine = asyncio.run(_through_stream(data, ops))
    theirs = asyncio.run(_through_streamreader(data, ops))
    # an overrun's `consumed` is where each reader stopped looking: only that it overran must agree
    strip = [("overrun" if isinstance(x, tuple) and x[0] == "overrun" else x) for x in mine]
    assert strip == [("overrun" if isinstance(x, tuple) and x[0] == "overrun" else x) for x in theirs]


async def test_a_close_from_another_task_ends_a_waiting_read_and_spares_the_next_socket() -> None:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    stream = AgiStream(ours, limit=LIMIT, loop=loop)
    fd = ours.fileno()
    reading = asyncio.create_task(stream.readline())
    await asyncio.sleep(0.01)
    assert not reading.done()  # waiting for the peer
    stream.close()
    async with asyncio.timeout(2):
        assert await reading == b""  # as at the peer's close
    # the next socket may get the same number: nothing of the old read may be left registered on it
    assert not loop.remove_reader(fd)
    theirs.close()


async def test_a_cancelled_read_leaves_no_reader_behind() -> None:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    stream = AgiStream(ours, limit=LIMIT, loop=loop)
    reading = asyncio.create_task(stream.readline())
    await asyncio.sleep(0.01)
    reading.cancel()
    await asyncio.gather(reading, return_exceptions=True)
    assert not loop.remove_reader(ours.fileno())
    theirs.sendall(b"200 result=1\n")  # the stream is still usable after a cancelled read
    async with asyncio.timeout(2):
        assert await stream.readline() == b"200 result=1\n"
    stream.close()
    theirs.close()


async def test_writes_reach_the_peer_and_a_write_after_close_is_a_connection_error() -> None:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    stream = AgiStream(ours, limit=LIMIT, loop=loop)
    big = b"x" * 3_000_000  # more than a socket buffer: drain sends the rest
    stream.write(big)
    received = bytearray()
    theirs.setblocking(False)

    async def receive() -> None:
        while len(received) < len(big):
            received.extend(await loop.sock_recv(theirs, 1 << 20))

    async with asyncio.timeout(10):
        await asyncio.gather(stream.drain(), receive())
    assert received == big
    stream.close()
    try:
        stream.write(b"late\n")
    except ConnectionError:
        pass
    else:
        raise AssertionError("a write on a closed stream must fail")
    theirs.close()
