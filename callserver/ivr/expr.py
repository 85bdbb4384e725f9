"""The small condition language of `branch` nodes and the `{ref|say-as}` templates of prompts.

Parsed into data, never handed to eval: a flow file comes from configuration, and a typo must be
a validation message naming the node rather than a surprise at three in the morning.
Values are read through `customer.*`, `call.*` and `data.*` references.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

NAMESPACES = ("customer", "call", "data")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>-?\d+(?:\.\d+)?)
    | (?P<str>"[^"]*"|'[^']*')
    | (?P<op>==|!=|<=|>=|<|>)
    | (?P<paren>[()])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}

Literal = str | Decimal | bool | None
Resolve = Callable[[str], object]


@dataclass(frozen=True, slots=True)
class Compare:
    ref: str
    op: str | None  # None: the value is tested for truth
    value: Literal = None


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


@dataclass(frozen=True, slots=True)
class AllOf:
    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    operands: tuple[Condition, ...]


Condition = Compare | Not | AllOf | AnyOf


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read condition at '{text[pos:].strip()}'")
        kind = match.lastgroup or ""
        out.append((kind, match[kind]))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.peek()
        if item is None:
            raise ValueError("condition ends too early")
        self.pos += 1
        return item

    def either(self) -> Condition:
        parts = [self.both()]
        while self.peek() == ("word", "or"):
            self.pos += 1
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def both(self) -> Condition:
        parts = [self.negation()]
        while self.peek() == ("word", "and"):
            self.pos += 1
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def negation(self) -> Condition:
        if self.peek() == ("word", "not"):
            self.pos += 1
            return Not(self.negation())
        if self.peek() == ("paren", "("):
            self.pos += 1
            inner = self.either()
            if self.take() != ("paren", ")"):
                raise ValueError("missing ')'")
            return inner
        kind, ref = self.take()
        if kind != "word" or ref in _KEYWORDS:
            raise ValueError(f"expected a reference like customer.vip, got '{ref}'")
        check_ref(ref)
        nxt = self.peek()
        if nxt is None or nxt[0] != "op":
            return Compare(ref, None)
        self.pos += 1
        return Compare(ref, nxt[1], _literal(self.take()))


def _literal(token: tuple[str, str]) -> Literal:
    kind, text = token
    if kind == "num":
        return Decimal(text)
    if kind == "str":
        return text[1:-1]
    if kind == "word" and text in ("true", "false"):
        return text == "true"
    if kind == "word" and text == "null":
        return None
    raise ValueError(f"expected a number, a quoted string, true, false or null, got '{text}'")


def check_ref(ref: str) -> None:
    namespace, _, name = ref.partition(".")
    if namespace not in NAMESPACES or not name or "." in name:
        raise ValueError(f"'{ref}' is not customer.<field>, call.<field> or data.<name>")


def parse_condition(text: str) -> Condition:
    """Parse `customer.vip == true and not customer.balance < 0`; ValueError naming the fault."""
    parser = _Parser(text)
    if parser.peek() is None:
        raise ValueError("empty condition")
    condition = parser.either()
    if parser.peek() is not None:
        raise ValueError(f"unexpected '{parser.peek()[1]}'")  # type: ignore[index]
    return condition


def refs(condition: Condition) -> list[str]:
    if isinstance(condition, Compare):
        return [condition.ref]
    if isinstance(condition, Not):
        return refs(condition.operand)
    return [r for c in condition.operands for r in refs(c)]


def evaluate(condition: Condition, resolve: Resolve) -> bool:
    """True when the condition holds; a missing value or a type mismatch makes a comparison false."""
    if isinstance(condition, Not):
        return not evaluate(condition.operand, resolve)
    if isinstance(condition, AllOf):
        return all(evaluate(c, resolve) for c in condition.operands)
    if isinstance(condition, AnyOf):
        return any(evaluate(c, resolve) for c in condition.operands)
    value = resolve(condition.ref)
    if condition.op is None:
        return _truthy(value)
    return _compare(value, condition.op, condition.value)


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() not in ("", "0", "false", "no")
    return bool(value)


def _compare(value: object, op: str, literal: Literal) -> bool:
    left: object = value
    if literal is None or isinstance(literal, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            left = value.lower() == "true"
        equal = left is literal if literal is None else (isinstance(left, bool) and left == literal)
        return {"==": equal, "!=": not equal}.get(op, False)
    if isinstance(literal, Decimal):
        number = to_decimal(value)
        if number is None:
            return False
        return _ordered(number, op, literal)
    if value is None:
        return op == "!="
    return _ordered(str(value), op, literal)


def _ordered(left: Decimal | str, op: str, right: Decimal | str) -> bool:
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        a, b = left, right
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    x, y = str(left), str(right)
    return {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def to_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None
