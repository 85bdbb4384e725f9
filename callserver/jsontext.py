"""JSON text for the hot paths: every fact's payload in the database, every live-channel frame.

The standard library's encoder costs about 3 µs for a fact's payload, which was the largest single
Python cost of writing a fact; orjson (a compiled encoder) does it in about 0.5 µs. The text differs
only in spacing and in what the standard library would write as invalid JSON (NaN and infinities
become null), so readers (SQLite's and PostgreSQL's JSON functions, browsers' `JSON.parse`) see
the same values. Mapping keys that are not text are written as text, as the standard library
does."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """`value` as compact JSON text; a value JSON cannot hold raises TypeError, as `json.dumps` does."""
    return orjson.dumps(value, option=_OPTIONS).decode()


def loads(text: str | bytes) -> Any:
    """The value of JSON text; invalid text raises ValueError (`json.JSONDecodeError` is one too)."""
    return orjson.loads(text)
