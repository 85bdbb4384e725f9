"""One plausible instance of every fact type, found by looking at the `Fact` union itself.

A fact type added to the union is covered here without anyone touching this file, as long as its
fields have types (or names) listed below; otherwise `one_of_each` fails and says which field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

from callserver.facts.model import Fact

T0 = 1_790_000_000.0
CALL_ID = "1790000000.17"
AGENT_ID = "agent1"
CAMPAIGN = "spring"

# fields whose values the public schemas restrict, by name
BY_NAME: dict[str, object] = {
    "call_id": CALL_ID,
    "agent_id": AGENT_ID,
    "at": T0,
    "queue": "support",
    "status": "available",
    "old": "idle",
    "new": "ringing",
    "kind": "queue",
    "target": "sales",
    "attempt": 1,
    "customer_id": 42,
    "ended_as": "finished",
    "question_kind": "yes-no",
    "record": {"path": ["greet", "balance_due"], "answers": []},
    "campaign": CAMPAIGN,
    "rules": ("calling_hours",),
    "numbers": ("+12125550100",),
    "settings": {"mode": "predictive"},
    "leads": (),
}
# fields whose name means different things in different facts, by fact type and name
BY_FIELD: dict[tuple[str, str], object] = {("IvrLeft", "outcome"): "ended"}
BY_TYPE: dict[type, object] = {str: "sample", float: 3.5, int: 7, bool: True}


def fact_types() -> tuple[type[Any], ...]:
    return typing.get_args(Fact)


def sample(cls: type[Any]) -> Fact:
    """An instance of `cls` with every field filled (defaults left as they are)."""
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING:
            continue
        values[field.name] = _value(cls, field.name, hints[field.name])
    fact: Fact = cls(**values)
    return fact


def one_of_each() -> list[Fact]:
    return [sample(cls) for cls in fact_types()]


def _value(cls: type[Any], name: str, hint: Any) -> object:
    if (cls.__name__, name) in BY_FIELD:
        return BY_FIELD[(cls.__name__, name)]
    if name in BY_NAME:
        return BY_NAME[name]
    options = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and options:
        hint = options[0]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return next(iter(hint))
    if hint in BY_TYPE:
        return BY_TYPE[hint]
    raise AssertionError(f"no sample value for {cls.__name__}.{name} ({hint}): add one in {__name__}")
