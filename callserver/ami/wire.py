"""AMI wire format: turn the header lines of one message into a mapping, and actions into bytes.

Shared by the live link (adapter.py) and by the tests that replay recorded transcripts, so both
read AMI exactly the same way. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

EOL = "\r\n"


@dataclass(slots=True)
class Frame:
    """One AMI message. A header repeated in one message (Command's `Output:`, `ChanVariable:`)
    is kept in order, its values joined with a newline, so a plain `Mapping[str, str]` suffices."""

    headers: dict[str, str] = field(default_factory=dict)
    bad_lines: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """`event`, `response` or `unknown`; `Event:` wins because OriginateResponse has both."""
        if "Event" in self.headers:
            return "event"
        if "Response" in self.headers:
            return "response"
        return "unknown"


def parse_lines(lines: Iterable[str]) -> Frame:
    """Build a Frame from the lines of one message (line endings already removed).

    A line without a colon cannot be a header: it is kept in `bad_lines` for the caller to log,
    instead of aborting the whole message.
    """
    frame = Frame()
    for line in lines:
        if not line:
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key or " " in key:
            frame.bad_lines.append(line)
            continue
        value = value.removeprefix(" ")
        if key in frame.headers:
            frame.headers[key] = f"{frame.headers[key]}\n{value}"
        else:
            frame.headers[key] = value
    return frame


def parse_message(text: str) -> Frame:
    """Parse one message given as text (CRLF or LF line endings)."""
    return parse_lines(text.splitlines())


class FrameReader:
    """Cuts a byte stream into messages at blank lines and parses them: feed it what the socket
    gives (64 KiB at a time), get the complete frames back; an incomplete tail waits for the next
    chunk. Working on whole chunks instead of line by line keeps the per-line cost in C (find,
    decode, replace, split), which is most of the time an AMI link spends reading.

    A message that grows past `max_message` bytes without its blank line is dropped (up to its
    end) and counted in `discarded`, so a broken peer cannot make the buffer grow without bound.
    """

    def __init__(self, max_message: int = 1 << 20) -> None:
        self.max_message = max_message
        self.discarded = 0
        self._buffer = b""
        self._skipping = False

    def feed(self, data: bytes) -> list[Frame]:
        buffer = self._buffer + data if self._buffer else data
        # the end of the last complete message: a line end followed by an empty line
        crlf, lf = buffer.rfind(b"\n\r\n"), buffer.rfind(b"\n\n")
        end = max(crlf + 3 if crlf >= 0 else 0, lf + 2 if lf >= 0 else 0)
        if end == 0:
            self._buffer = buffer
            if len(buffer) > self.max_message:
                self._buffer, self._skipping = b"", True
                self.discarded += 1
            return []
        self._buffer = buffer[end:]
        text = buffer[:end].decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        messages = text.split("\n\n")
        if self._skipping:  # the rest of a message too long to keep
            self._skipping = False
            messages = messages[1:]
        return [parse_lines(m.split("\n")) for m in messages if m.strip("\n")]


def encode_action(name: str, action_id: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """Serialise an action; `fields` may repeat a key (several `Variable:` lines of Originate).

    CR and LF inside values are replaced by spaces: they would otherwise let a value inject
    extra headers or end the action early.
    """
    out = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in fields:
        clean = str(value).replace("\r", " ").replace("\n", " ")
        out.append(f"{key}: {clean}")
    return (EOL.join(out) + EOL + EOL).encode("utf-8")
