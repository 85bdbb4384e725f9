"""The condition language over call data: `customer.vip == true and not customer.balance < 0`.

Branches test what is known of a call through references `<namespace>.<name>`; each user says which
namespaces exist (the IVR: `customer`, `call`, `data`; dialogue scripts will add their answers).
Parsed into data, never handed to eval: a condition comes from configuration, and a typo must be a
validation message naming where it is rather than a surprise at three in the morning. Values come
from a resolver and are often text (typed digits, CSV columns): comparisons read them leniently,
as described in docs/expressions.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .lexer import COMPARISONS, KEYWORD_VALUES, ExpressionError, Token, tokenize

Literal = str | Decimal | bool | None
Resolve = Callable[[str], object]


class ConditionError(ExpressionError):
    """A condition that cannot be read; ``str()`` is the message alone, for one-line reports."""

    def __str__(self) -> str:
        return self.message


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


def _shape(namespace: str) -> str:
    # a record (customer, call) has fields; `data` holds what a flow or script named itself
    return f"{namespace}.<name>" if namespace == "data" else f"{namespace}.<field>"


def check_ref(ref: str, namespaces: Sequence[str], column: int = 1) -> None:
    """A reference is `<namespace>.<name>`, exactly one dot, in one of `namespaces`."""
    namespace, _, name = ref.partition(".")
    if namespace not in namespaces or not name or "." in name:
        shown = [_shape(n) for n in namespaces]
        shapes = ", ".join(shown[:-1]) + f" or {shown[-1]}"
        raise ConditionError(f"'{ref}' is not {shapes}", ref, column)


class _Parser:
    def __init__(self, text: str, namespaces: Sequence[str]) -> None:
        self.text = text
        self.namespaces = namespaces
        try:
            self.tokens = tokenize(text, ConditionError)
        except ExpressionError as err:
            rest = text[err.column - 1 :].strip()
            raise ConditionError(f"cannot read condition at '{rest}'", text, err.column) from None
        self.pos = 0

    def error(self, message: str, token: Token) -> ConditionError:
        return ConditionError(message, self.text, token.column)

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.peek()
        if token.kind == "end":
            raise self.error("condition ends too early", token)
        self.pos += 1
        return token

    def accept(self, kind: str, text: str) -> bool:
        token = self.peek()
        if token.kind == kind and token.text == text:
            self.pos += 1
            return True
        return False

    def parse(self) -> Condition:
        if self.peek().kind == "end":
            raise self.error("empty condition", self.peek())
        condition = self.either()
        if self.peek().kind != "end":
            raise self.error(f"unexpected '{self.peek().text}'", self.peek())
        return condition

    def either(self) -> Condition:
        parts = [self.both()]
        while self.accept("kw", "or"):
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def both(self) -> Condition:
        parts = [self.negation()]
        while self.accept("kw", "and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def negation(self) -> Condition:
        if self.accept("kw", "not"):
            return Not(self.negation())
        if self.accept("op", "("):
            inner = self.either()
            if not self.accept("op", ")"):
                raise self.error("missing ')'", self.peek())
            return inner
        token = self.take()
        if token.kind != "name":
            raise self.error(f"expected a reference like customer.vip, got '{token.text}'", token)
        check_ref(token.text, self.namespaces, token.column)
        op = self.peek()
        if op.kind != "op" or op.text not in COMPARISONS:
            return Compare(token.text, None)
        self.pos += 1
        return Compare(token.text, op.text, self.literal(self.take()))

    def literal(self, token: Token) -> Literal:
        if token.kind == "num":
            return Decimal(token.text)  # exact: balances and amounts are compared to the cent
        if token.kind == "str":
            return str(token.value)
        if token.kind == "kw" and token.text in KEYWORD_VALUES:
            return KEYWORD_VALUES[token.text]
        raise self.error(
            f"expected a number, a quoted string, true, false or null, got '{token.text}'", token
        )


def parse(text: str, namespaces: Sequence[str]) -> Condition:
    """Parse a condition whose references belong to `namespaces`; ConditionError names the fault."""
    return _Parser(text, namespaces).parse()


def refs(condition: Condition) -> list[str]:
    """Every reference the condition reads, in order."""
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
    """A number read from a value of any type (text included); None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None
