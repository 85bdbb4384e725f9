"""Customers' extra fields are kept as canonical text; their configured type says how to read it.

One place turns text into the typed value a dialogue script compares and formats (`42.10` into
Decimal("42.10"), `2026-03-05` into a date) and checks that a value to store fits its type, for the
seed loader and for the fields scripts set alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

KINDS = ("text", "number", "amount", "date", "yes-no")
MAX_TEXT = 2000
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}


class FieldValueError(ValueError):
    """A value that does not fit the field's type; the message says what was expected."""


def canonical(kind: str, raw: str) -> str:
    """`raw` checked against `kind` and written the one way it is stored."""
    text = raw.strip()
    if kind == "text":
        if len(text) > MAX_TEXT:
            raise FieldValueError(f"at most {MAX_TEXT} characters")
        return text
    if kind in ("number", "amount"):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldValueError(f"'{_short(text)}' is not a number") from None
        if not number.is_finite():
            raise FieldValueError(f"'{_short(text)}' is not a number")
        return format(number, "f")
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise FieldValueError(f"'{_short(text)}' is not a date (YYYY-MM-DD)") from None
    if kind == "yes-no":
        lowered = text.lower()
        if lowered in _TRUE:
            return "true"
        if lowered in _FALSE:
            return "false"
        raise FieldValueError(f"'{_short(text)}' is not yes or no")
    raise FieldValueError(f"unknown field type '{kind}'")


def typed(kind: str, text: str) -> object:
    """The stored text as the value a script reads; text that no longer fits stays text."""
    try:
        value = canonical(kind, text)
    except FieldValueError:
        return text
    if kind in ("number", "amount"):
        return Decimal(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "yes-no":
        return value == "true"
    return value


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
