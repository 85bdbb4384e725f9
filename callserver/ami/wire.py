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
