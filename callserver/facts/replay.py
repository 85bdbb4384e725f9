"""Facts read back from the event log: each row holds the whole fact (`store/facts.py::payload_of`).

A restarted server replays today's facts into its live figures, so the "today" tiles and counters
go on from what the database holds instead of starting from zero.
"""

from __future__ import annotations

import dataclasses
import typing
from enum import Enum
from functools import cache
from typing import Any

from .model import Fact


@cache
def _fact_types() -> dict[str, type[Any]]:
    types: dict[str, type[Any]] = {}
    pending = list(typing.get_args(Fact))
    while pending:
        cls = pending.pop()
        types[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return types


_ENUM_FIELDS: dict[type[Any], dict[str, type[Enum]]] = {}


def _enum_fields(cls: type[Any]) -> dict[str, type[Enum]]:
    known = _ENUM_FIELDS.get(cls)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    found: dict[str, type[Enum]] = {}
    for name, hint in hints.items():
        for option in (hint, *typing.get_args(hint)):
            if isinstance(option, type) and issubclass(option, Enum):
                found[name] = option
    _ENUM_FIELDS[cls] = found
    return found


def fact_from_record(kind: str, payload: dict[str, Any]) -> Fact | None:
    """The fact an event-log row holds; None for a kind this version does not know (an old log)."""
    cls = _fact_types().get(kind)
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in payload.items() if k in names}
    for name, enum in _enum_fields(cls).items():
        if values.get(name) is not None:
            values[name] = enum(values[name])
    try:
        fact: Fact = cls(**values)
    except TypeError:
        return None  # a field added since the row was written has no default
    return fact
