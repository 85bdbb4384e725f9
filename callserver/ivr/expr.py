"""The conditions of IVR `branch` nodes: the shared condition language over the IVR's references.

A flow reads `customer.*` (the customer a lookup found), `call.*` (caller, dialled number...) and
`data.*` (what the flow set or collected). The language itself, and its lenient comparisons of
text values, live in `callserver.expressions.conditions` for every feature that branches on call
data; the `{ref|say-as}` templates of prompts are in `say.py`.
"""

from __future__ import annotations

from callserver.expressions import conditions
from callserver.expressions.conditions import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    ConditionError,
    Literal,
    Not,
    Resolve,
    evaluate,
    refs,
    to_decimal,
)

NAMESPACES = ("customer", "call", "data")


def parse_condition(text: str) -> Condition:
    """Parse `customer.vip == true and not customer.balance < 0`; ConditionError names the fault."""
    return conditions.parse(text, NAMESPACES)


def check_ref(ref: str) -> None:
    """A template or condition reference must be customer.<field>, call.<field> or data.<name>."""
    conditions.check_ref(ref, NAMESPACES)


__all__ = [
    "NAMESPACES",
    "AllOf",
    "AnyOf",
    "Compare",
    "Condition",
    "ConditionError",
    "Literal",
    "Not",
    "Resolve",
    "check_ref",
    "evaluate",
    "parse_condition",
    "refs",
    "to_decimal",
]
