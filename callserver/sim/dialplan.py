"""Asterisk `extensions.conf` parsing, pattern matching and variable substitution, free of I/O.

The simulator executes the very dialplan file deployed on the real Asterisk, so the subset parsed
here is what that file uses; anything else is reported with its file and line, never skipped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


class DialplanError(Exception):
    """A dialplan that cannot be parsed; the message names the file and line."""


@dataclass(frozen=True)
class Step:
    """One priority of an extension: the application to run and where it was written."""

    priority: int
    app: str
    data: str
    label: str | None
    source: str
    line: int


@dataclass
class Extension:
    pattern: str
    steps: dict[int, Step] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)


@dataclass
class Context:
    name: str
    extensions: dict[str, Extension] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)


@dataclass
class Dialplan:
    contexts: dict[str, Context] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)

    def find(self, context: str, exten: str, priority: int) -> tuple[Extension, Step] | None:
        """The step to run for (context, exten, priority), following `include =>` lines."""
        ext = self.match_extension(context, exten)
        if ext is None:
            return None
        step = ext.steps.get(priority)
        return None if step is None else (ext, step)

    def match_extension(
        self, context: str, exten: str, _seen: frozenset[str] = frozenset()
    ) -> Extension | None:
        ctx = self.contexts.get(context)
        if ctx is None or context in _seen:
            return None
        if exten in ctx.extensions:
            return ctx.extensions[exten]
        candidates = [e for p, e in ctx.extensions.items() if p.startswith("_") and match(p, exten)]
        if candidates:
            return min(candidates, key=lambda e: _specificity(e.pattern))
        for inc in ctx.includes:
            found = self.match_extension(inc, exten, _seen | {context})
            if found is not None:
                return found
        return None

    def label_priority(self, context: str, exten: str, label: str) -> int | None:
        ext = self.match_extension(context, exten)
        return None if ext is None else ext.labels.get(label)


_CLASSES = {"X": "0-9", "Z": "1-9", "N": "2-9"}


@functools.cache
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """The compiled form of an extension pattern; a dialplan has few, each matched per call."""
    out = []
    i, body = 0, pattern[1:]
    while i < len(body):
        c = body[i].upper()
        if c in _CLASSES:
            out.append(f"[{_CLASSES[c]}]")
        elif c == "[":
            end = body.index("]", i)
            out.append("[" + re.sub(r"([\\^])", r"\\\1", body[i + 1 : end]) + "]")
            i = end
        elif c == ".":
            out.append(".+")
        elif c == "!":
            out.append(".*")
        else:
            out.append(re.escape(body[i]))
        i += 1
    return re.compile("".join(out) + r"\Z")


def match(pattern: str, exten: str) -> bool:
    """Whether dialled `exten` matches the extension `pattern` (`_X.`, `_NXX`, `_[1-5]X.`, literal)."""
    if not pattern.startswith("_"):
        return pattern == exten
    return _pattern_regex(pattern).match(exten) is not None


def _specificity(pattern: str) -> tuple[int, int]:
    """Asterisk prefers longer, narrower patterns; a wildcard tail sorts last."""
    wild = 1 if pattern.endswith((".", "!")) else 0
    return (wild, -len(pattern))


_LINE = re.compile(r"^(exten|same)\s*=>?\s*(.*)$", re.IGNORECASE)
_INCLUDE = re.compile(r"^include\s*=>?\s*(\S+)$", re.IGNORECASE)
_APP = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def _strip_comment(line: str) -> str:
    out = []
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line):
            out.append(line[i : i + 2])
            i += 2
            continue
        if line[i] == ";":
            break
        out.append(line[i])
        i += 1
    return "".join(out).strip()


def parse(text: str, source: str = "<string>", dialplan: Dialplan | None = None) -> Dialplan:
    """Parse one extensions file into `dialplan` (a new one by default)."""
    plan = dialplan if dialplan is not None else Dialplan()
    context: Context | None = None
    current: Extension | None = None
    last_priority = 0
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        where = f"{source}:{lineno}"
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                raise DialplanError(f"{where}: malformed context header {line!r}")
            name = line[1:-1].strip()
            context = plan.contexts.setdefault(name, Context(name))
            current, last_priority = None, 0
            continue
        if line.startswith("#"):
            raise DialplanError(f"{where}: directive {line.split()[0]!r} is not supported")
        if context is None:
            raise DialplanError(f"{where}: line outside any [context]: {line!r}")
        if context.name == "globals":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise DialplanError(f"{where}: expected VAR=value in [globals], got {line!r}")
            plan.globals[key.strip()] = value.strip()
            continue
        inc = _INCLUDE.match(line)
        if inc:
            context.includes.append(inc.group(1))
            continue
        m = _LINE.match(line)
        if m is None:
            raise DialplanError(f"{where}: expected 'exten =>', 'same =>' or 'include =>': {line!r}")
        kind, rest = m.group(1).lower(), m.group(2)
        if kind == "exten":
            pattern, sep, rest = rest.partition(",")
            if not sep or not pattern.strip():
                raise DialplanError(f"{where}: 'exten =>' needs pattern,priority,App(args)")
            pattern = pattern.strip()
            current = context.extensions.setdefault(pattern, Extension(pattern))
            last_priority = 0
        elif current is None:
            raise DialplanError(f"{where}: 'same =>' without a preceding 'exten =>'")
        prio_text, sep, rest = rest.partition(",")
        if not sep:
            raise DialplanError(f"{where}: missing application after priority {prio_text!r}")
        prio_text = prio_text.strip()
        label = None
        lm = re.match(r"^(\w+|n|\d+)\((\w+)\)$", prio_text)
        if lm:
            prio_text, label = lm.group(1), lm.group(2)
        if prio_text == "n":
            priority = last_priority + 1
        elif prio_text.isdigit():
            priority = int(prio_text)
        else:
            raise DialplanError(f"{where}: bad priority {prio_text!r} (use a number or 'n')")
        rest = rest.strip()
        first, comma, after = rest.partition(",")
        if comma and re.fullmatch(r"\w+", first.strip()) and _APP.match(after.strip()):
            # `exten => x,1,label,App()` form: the third field is a label
            label, rest = first.strip(), after.strip()
        am = _APP.match(rest)
        if am is None:
            raise DialplanError(f"{where}: cannot read application call {rest!r}")
        step = Step(priority, am.group(1), am.group(2) or "", label, source, lineno)
        assert current is not None
        current.steps[priority] = step
        if label:
            current.labels[label] = priority
        last_priority = priority
    return plan


def load(paths: list[Path]) -> Dialplan:
    """Parse every file in order into one dialplan (later files add to earlier contexts)."""
    plan = Dialplan()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise DialplanError(f"{path}: cannot read dialplan: {err.strerror}") from None
        parse(text, str(path), plan)
    return plan


Lookup = Callable[[str], str | None]


def substitute(text: str, lookup: Lookup) -> str:
    """Expand `${...}` (nested allowed) with `lookup(name)`; unknown names expand to ''."""
    if "${" not in text:
        return text  # most arguments: nothing to expand
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("${", j):
                    depth += 1
                    j += 2
                    continue
                if text[j] == "}":
                    depth -= 1
                j += 1
            inner = substitute(text[i + 2 : j - 1], lookup)
            out.append(lookup(inner) or "")
            i = j
        else:
            nxt = text.find("${", i)
            end = len(text) if nxt < 0 else nxt
            out.append(text[i:end])
            i = end
    return "".join(out)


def split_args(data: str) -> list[str]:
    """Split application arguments on commas outside parentheses and quotes."""
    if '"' not in data and "(" not in data and ")" not in data:
        return data.split(",")
    args: list[str] = []
    cur: list[str] = []
    depth, quote = 0, False
    for c in data:
        if c == '"':
            quote = not quote
        elif not quote and c == "(":
            depth += 1
        elif not quote and c == ")":
            depth -= 1
        elif c == "," and depth == 0 and not quote:
            args.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    args.append("".join(cur))
    return args


def channel_lookup(variables: Mapping[str, str], builtins: Mapping[str, str]) -> Lookup:
    """A `substitute` lookup over channel variables, channel built-ins, then globals."""

    def lookup(name: str) -> str | None:
        if name in builtins:
            return builtins[name]
        return variables.get(name)

    return lookup
