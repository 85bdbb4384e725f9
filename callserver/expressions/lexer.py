"""The tokens of every expression callserver reads from configuration, and the error they raise.

Skill requirements (`acd/expr.py`) and conditions on call data (`expressions/conditions.py`) are
read by this one tokenizer: names (dotted for references such as `customer.vip`), the keywords,
numbers, quoted strings with backslash escapes, comparisons and punctuation. A fault is an
`ExpressionError` naming the 1-based column, whose text points a caret at it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
ORDERINGS = frozenset({"<", "<=", ">", ">="})
KEYWORD_VALUES: dict[str, bool | None] = {"true": True, "false": False, "null": None}
_NAME_START = frozenset(string.ascii_letters + "_")
_NAME_PART = _NAME_START | frozenset(string.digits)
_DIGITS = frozenset(string.digits)
_PUNCTUATION = frozenset("<>(),")
_HINTS = {"=": " (did you mean '=='?)", "&": " (use 'and')", "|": " (use 'or')", "!": " (use 'not')"}

Value = str | int | float | bool | None
Kind = Literal["name", "kw", "num", "str", "op", "end"]


class ExpressionError(ValueError):
    """An expression that cannot be read; ``str()`` adds a caret line under the column (1-based)."""

    def __init__(self, message: str, text: str, column: int) -> None:
        super().__init__(message, text, column)
        self.message = message
        self.text = text
        self.column = column

    def __str__(self) -> str:
        shown = self.text.translate({ord("\t"): " ", ord("\n"): " ", ord("\r"): " "})
        return f"{self.message} at column {self.column}\n  {shown}\n  {' ' * (self.column - 1)}^"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind  # "name" (possibly dotted), "kw", "num", "str", "op" (operators, punctuation), "end"
    text: str  # as written
    column: int
    value: Value = None  # numbers and strings: the value read


def tokenize(text: str, error: type[ExpressionError] = ExpressionError) -> list[Token]:
    """The tokens of `text`, ending with an `end` token; faults raise `error` (a language's own)."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch, column = text[i], i + 1
        if ch.isspace():
            i += 1
        elif ch in _NAME_START:
            j = i + 1
            while j < n and (text[j] in _NAME_PART or text[j] == "."):
                if text[j] == "." and (j + 1 >= n or text[j + 1] not in _NAME_START):
                    raise error("expected a name after '.'", text, j + 2)
                j += 1
            word = text[i:j]
            tokens.append(Token("kw" if word in KEYWORDS else "name", word, column))
            i = j
        elif ch in _DIGITS or (ch == "-" and i + 1 < n and text[i + 1] in _DIGITS):
            j = i + 1
            while j < n and (text[j] in _NAME_PART or text[j] == "."):
                j += 1
            tokens.append(Token("num", text[i:j], column, number(text, text[i:j], column, error)))
            i = j
        elif ch in "\"'":
            j, chars = i + 1, []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(text[j])
                j += 1
            if j >= n:
                raise error("unterminated string", text, column)
            tokens.append(Token("str", text[i : j + 1], column, "".join(chars)))
            i = j + 1
        elif text[i : i + 2] in COMPARISONS:
            tokens.append(Token("op", text[i : i + 2], column))
            i += 2
        elif ch in _PUNCTUATION:
            tokens.append(Token("op", ch, column))
            i += 1
        else:
            raise error(f"unexpected character {ch!r}{_HINTS.get(ch, '')}", text, column)
    tokens.append(Token("end", "", n + 1))
    return tokens


def number(
    text: str, spelled: str, column: int, error: type[ExpressionError] = ExpressionError
) -> int | float:
    """A number as written: digits, an optional minus and one decimal point (no exponent)."""
    whole, dot, fraction = spelled.removeprefix("-").partition(".")
    if not whole.isdecimal() or (dot and not fraction.isdecimal()):  # only ASCII reaches here
        raise error(f"bad number {spelled!r}", text, column)
    return float(spelled) if dot else int(spelled)


def is_literal(token: Token) -> bool:
    """A number, a string, or one of true, false and null."""
    return token.kind in ("num", "str") or (token.kind == "kw" and token.text in KEYWORD_VALUES)


def literal_value(token: Token) -> Value:
    """The value of a literal token (see `is_literal`)."""
    if token.kind == "kw":
        return KEYWORD_VALUES[token.text]
    return token.value
