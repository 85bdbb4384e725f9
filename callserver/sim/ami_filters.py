"""Per-session AMI event filters as Asterisk 22's `Filter` action adds them (manager.c).

A filter is legacy (`Filter: !Event: Newexten`, a regular expression over the whole event) or
advanced (`MatchCriteria: action(exclude),name(Newexten)`, optionally with `header(...)` and
`method(...)` applied to `Filter`). Malformed criteria are refused with the error Asterisk gives,
and a session decides what to send exactly as `should_send_event` does: no filter sends all,
include filters alone send what one of them matches, exclude filters alone send what none of
them matches, and with both an event must match an include and no exclude.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from callserver.sim import messages as m

FORMAT_ERROR = "Filter was formatted incorrectly.  Check the syntax of the filter given."
COMPILE_ERROR = "Filter did not compile.  Check the syntax of the filter given."
METHODS = ("regex", "exact", "starts_with", "ends_with", "contains", "none")


class FilterRefused(ValueError):
    """The message is the one Asterisk answers the `Filter` action with."""


_MATCH: dict[str, Callable[[str, str, re.Pattern[str] | None], bool]] = {
    "regex": lambda text, _pattern, regex: regex is not None and regex.search(text) is not None,
    "exact": lambda text, pattern, _regex: text == pattern,
    "starts_with": lambda text, pattern, _regex: text.startswith(pattern),
    "ends_with": lambda text, pattern, _regex: text.endswith(pattern),
    "contains": lambda text, pattern, _regex: pattern in text,
    "none": lambda _text, _pattern, _regex: True,
}


@dataclass(frozen=True, slots=True)
class EventFilter:
    exclude: bool
    method: str
    pattern: str
    name: str | None = None
    header: str | None = None  # with its colon, as manager.c keeps it
    regex: re.Pattern[str] | None = None

    def matches(self, event: str, text: str) -> bool:
        if self.name is not None and event != self.name:
            return False
        match = _MATCH[self.method]
        if self.header is None:
            return match(text, self.pattern, self.regex)
        for line in text.split("\r\n"):
            if line.startswith(self.header):
                value = line[len(self.header) :].lstrip()
                if value and match(value, self.pattern, self.regex):
                    return True
        return False


def parse_filter(criteria: str, pattern: str) -> EventFilter:
    """The filter of one `Filter` action (`criteria`: its MatchCriteria, empty for a legacy one)."""
    exclude = pattern.startswith("!")
    if exclude:
        pattern = pattern[1:]
    if not criteria:
        if not pattern:
            raise FilterRefused(FORMAT_ERROR)  # a legacy filter needs a pattern
        return EventFilter(exclude, "regex", pattern, regex=_compile(pattern))
    body = criteria.strip()
    if not body.endswith(")"):
        raise FilterRefused(FORMAT_ERROR)
    method, name, header, found = "none", None, None, False
    # manager.c splits on spaces, commas and closing brackets; each option is `word(value`
    for option in (part for part in re.split(r"[ ,)]+", body) if part):
        word, _, value = option.partition("(")
        value = value.strip()
        if word.startswith("action"):
            if value not in ("include", "exclude"):
                raise FilterRefused(FORMAT_ERROR)
            exclude = value == "exclude"
        elif word.startswith("name"):
            if not value:
                raise FilterRefused(FORMAT_ERROR)
            name = value
        elif word.startswith("header"):
            if not value:
                raise FilterRefused(FORMAT_ERROR)
            header = value if value.endswith(":") else value + ":"
        elif word.startswith("method"):
            if value not in METHODS:
                raise FilterRefused(FORMAT_ERROR)
            method = value
        else:
            raise FilterRefused(FORMAT_ERROR)
        found = True
    if not found:
        raise FilterRefused(FORMAT_ERROR)
    if (not pattern) != (method == "none"):
        raise FilterRefused(FORMAT_ERROR)  # a method needs a pattern, and a pattern a method
    if name is None and header is None and method == "none":
        raise FilterRefused(FORMAT_ERROR)
    regex = _compile(pattern) if method == "regex" else None
    return EventFilter(exclude, method, pattern, name, header, regex)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        raise FilterRefused(COMPILE_ERROR) from None


@dataclass(slots=True)
class SessionFilters:
    include: list[EventFilter] = field(default_factory=list)
    exclude: list[EventFilter] = field(default_factory=list)
    # The same filters split for speed: those that test the event's name alone (`name(X)`, no
    # header, no method: what a client filtering out the events it does not use adds) as sets,
    # the others tested in turn on the event's text.
    _include_names: set[str] = field(default_factory=set)
    _exclude_names: set[str] = field(default_factory=set)
    _include_rest: list[EventFilter] = field(default_factory=list)
    _exclude_rest: list[EventFilter] = field(default_factory=list)

    def add(self, entry: EventFilter) -> None:
        (self.exclude if entry.exclude else self.include).append(entry)
        if entry.name is not None and entry.header is None and entry.method == "none":
            (self._exclude_names if entry.exclude else self._include_names).add(entry.name)
        else:
            (self._exclude_rest if entry.exclude else self._include_rest).append(entry)

    def allows(self, msg: m.Message, encoded: bytes | None = None) -> bool:
        """Whether `msg` reaches the session; `encoded` is its wire form when the caller has it."""
        if not self.include and not self.exclude:
            return True
        event = next((value for key, value in msg if key == "Event"), "")
        text = ""
        if self._include_rest or self._exclude_rest:
            text = (m.encode(msg) if encoded is None else encoded).decode(errors="replace")
        if self.include and not (
            event in self._include_names or any(f.matches(event, text) for f in self._include_rest)
        ):
            return False
        return not (event in self._exclude_names or any(f.matches(event, text) for f in self._exclude_rest))
