"""Skill requirements: which agents may take a call, e.g. ``french >= 5 and (mortgage >= 3 or loans >= 7)``.

Parsed once from configuration into data (never handed to ``eval``), bound to a call's data when the
call is queued (the ``call.*`` / ``customer.*`` parts fold to constants), and the bound form is
compiled to closures that the router tests against every agent's skills. The language is described in
docs/requirements.md; its tokens and error type are those of every expression (`expressions/lexer.py`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeGuard

from ..expressions.lexer import (
    COMPARISONS,
    ORDERINGS,
    ExpressionError,
    Token,
    Value,
    is_literal,
    literal_value,
    tokenize,
)

PREFIXES = ("call", "customer")
MIN_LEVEL, MAX_LEVEL = 0, 10
_NEGATED = {">=": "<", "<": ">=", ">": "<=", "<=": ">", "==": "!=", "!=": "=="}

SkillTest = Callable[[Mapping[str, int]], bool]


class RequirementError(ExpressionError):
    """A requirement that cannot be parsed; ``str()`` adds a caret line under the column (1-based)."""


# --- syntax tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    value: bool


@dataclass(frozen=True, slots=True)
class SkillCmp:
    """``skill op level``; a bare skill name is ``skill >= 1``."""

    skill: str
    op: str
    level: int
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class DataTest:
    """A test of call data: ``op`` is a comparison, ``in`` (``value`` is a tuple) or ``truthy``."""

    ref: str
    op: str
    value: Value | tuple[Value, ...] = None
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expr, ...]


Expr = Const | SkillCmp | DataTest | Not | And | Or


# --- parser ------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text, RequirementError)
        self.pos = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def accept(self, kind: str, text: str) -> bool:
        token = self.peek()
        if token.kind == kind and token.text == text:
            self.pos += 1
            return True
        return False

    def error(self, message: str, column: int) -> RequirementError:
        return RequirementError(message, self.text, column)

    def unexpected(self, token: Token, after: str) -> RequirementError:
        if token.kind == "end" or token.text == ")":
            return self.error(f"missing operand after {after!r}", token.column)
        return self.error(f"unexpected token {token.text!r}", token.column)

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise self.error("empty expression", 1)
        expr = self.either()
        token = self.peek()
        if token.text == ")":
            raise self.error("unmatched ')'", token.column)
        if token.kind != "end":
            raise self.error(f"unexpected token {token.text!r}", token.column)
        return expr

    def either(self) -> Expr:
        operands = [self.both()]
        while self.accept("kw", "or"):
            operands.append(self.both())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def both(self) -> Expr:
        operands = [self.negation()]
        while self.accept("kw", "and"):
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def negation(self) -> Expr:
        if self.accept("kw", "not"):
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Expr:
        before = self.tokens[self.pos - 1].text if self.pos else ""
        token = self.advance()
        if token.kind == "op" and token.text == "(":
            inner = self.either()
            close = self.advance()
            if close.text == ")":
                return inner
            if close.kind == "end":
                raise self.error("unclosed '('", token.column)
            raise self.error(f"unexpected token {close.text!r}", close.column)
        if token.kind == "kw" and token.text in ("true", "false"):
            return Const(token.text == "true")
        if token.kind == "name" and "." in token.text:
            return self.data_test(token)
        if token.kind == "name":
            return self.skill_test(token)
        raise self.unexpected(token, before)

    def skill_test(self, name: Token) -> SkillCmp:
        if name.text in PREFIXES:
            raise self.error(f"'{name.text}' needs a field, e.g. '{name.text}.<name>'", name.column)
        op = self.peek()
        if op.kind == "kw" and op.text == "in":
            raise self.error(
                f"'in' needs a call.* or customer.* reference, not skill '{name.text}'", op.column
            )
        if not (op.kind == "op" and op.text in COMPARISONS):
            return SkillCmp(name.text, ">=", 1, name.column)
        self.advance()
        level = self.advance()
        if level.kind == "num" and isinstance(level.value, int):
            return SkillCmp(name.text, op.text, level.value, name.column)
        if level.kind == "num":
            raise self.error(f"skill level must be a whole number, not {level.text}", level.column)
        if level.kind == "end":
            raise self.error(f"missing level after {op.text!r}", level.column)
        if level.kind in ("str", "name") or level.text in ("true", "false", "null"):
            raise self.error(
                f"skill '{name.text}' compared with {level.text}; skill levels are whole numbers 0-10",
                level.column,
            )
        raise self.error(f"unexpected token {level.text!r}", level.column)

    def data_test(self, ref: Token) -> DataTest:
        prefix = ref.text.partition(".")[0]
        if prefix not in PREFIXES:
            raise self.error(f"unknown prefix '{prefix}.' (expected 'call.' or 'customer.')", ref.column)
        op = self.peek()
        if op.kind == "op" and op.text in COMPARISONS:
            self.advance()
            token, value = self.literal(op.text)
            if op.text in ORDERINGS and not _is_number(value):
                raise self.error(f"{op.text!r} needs a number, not {token.text}", token.column)
            return DataTest(ref.text, op.text, value, ref.column)
        if self.accept("kw", "in"):
            opening = self.advance()
            if opening.text != "(":
                raise self.error("expected '(' after 'in'", opening.column)
            if self.peek().text == ")":
                raise self.error("empty list after 'in'", self.peek().column)
            values = [self.literal("(")[1]]
            while self.accept("op", ","):
                values.append(self.literal(",")[1])
            close = self.advance()
            if close.kind == "end":
                raise self.error("unclosed '('", opening.column)
            if close.text != ")":
                raise self.error(f"unexpected token {close.text!r}", close.column)
            return DataTest(ref.text, "in", tuple(values), ref.column)
        return DataTest(ref.text, "truthy", None, ref.column)

    def literal(self, after: str) -> tuple[Token, Value]:
        token = self.advance()
        if is_literal(token):
            return token, literal_value(token)
        if token.kind == "end":
            raise self.error(f"missing value after {after!r}", token.column)
        if token.kind == "name":
            raise self.error(
                f"expected a value, found name {token.text!r} (strings need quotes)", token.column
            )
        raise self.error(f"unexpected token {token.text!r}", token.column)


# --- meaning -----------------------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):  # True is not 1 here
        return a is b
    return bool(a == b)


def _ordered(op: str, a: float, b: float) -> bool:
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    return a != b


def _data_holds(test: DataTest, value: object) -> bool:
    if test.op == "truthy":
        return bool(value)
    if isinstance(test.value, tuple):
        return any(_same(value, option) for option in test.value)
    if test.op == "==":
        return _same(value, test.value)
    if test.op == "!=":
        return not _same(value, test.value)
    return _is_number(value) and _is_number(test.value) and _ordered(test.op, value, test.value)


def _evaluate(node: Expr, skills: Mapping[str, int], data: Mapping[str, object]) -> bool:
    if isinstance(node, SkillCmp):
        return _ordered(node.op, skills.get(node.skill, 0), node.level)
    if isinstance(node, DataTest):
        return _data_holds(node, data.get(node.ref))
    if isinstance(node, And):
        return all(_evaluate(operand, skills, data) for operand in node.operands)
    if isinstance(node, Or):
        return any(_evaluate(operand, skills, data) for operand in node.operands)
    if isinstance(node, Not):
        return not _evaluate(node.operand, skills, data)
    return node.value


def _fold(node: Expr, data: Mapping[str, object], negate: bool) -> Expr:
    """Substitute data and push negations down to the comparisons: the result has no Not or DataTest."""
    if isinstance(node, Const):
        return Const(node.value != negate)
    if isinstance(node, DataTest):
        return Const(_data_holds(node, data.get(node.ref)) != negate)
    if isinstance(node, Not):
        return _fold(node.operand, data, not negate)
    if isinstance(node, SkillCmp):
        op, level = (_NEGATED[node.op] if negate else node.op), node.level
        if op in (">", "<="):  # levels are whole numbers: keep one spelling of each test
            op, level = {">": ">=", "<=": "<"}[op], level + 1
        return SkillCmp(node.skill, op, level, node.column)
    conjunction = isinstance(node, And) != negate
    return _combine(conjunction, [_fold(operand, data, negate) for operand in node.operands])


def _combine(conjunction: bool, operands: list[Expr]) -> Expr:
    kind = And if conjunction else Or
    unique: dict[str, Expr] = {}
    for operand in operands:
        if isinstance(operand, Const):
            if operand.value != conjunction:  # false in an 'and', true in an 'or'
                return operand
            continue
        for part in operand.operands if isinstance(operand, kind) else (operand,):
            unique.setdefault(render(part), part)
    _keep_tightest(unique, conjunction)
    if not unique:
        return Const(conjunction)
    if len(unique) == 1:
        return next(iter(unique.values()))
    return kind(tuple(unique[key] for key in sorted(unique)))


def _keep_tightest(terms: dict[str, Expr], conjunction: bool) -> None:
    """Of several bounds on one skill, 'and' needs only the strictest, 'or' only the loosest."""
    best: dict[tuple[str, str], SkillCmp] = {}
    for term in terms.values():
        if isinstance(term, SkillCmp) and term.op in (">=", "<"):
            slot = (term.skill, term.op)
            kept = best.get(slot)
            higher = kept is None or term.level > kept.level
            if kept is None or higher == ((term.op == ">=") == conjunction):
                best[slot] = term
    for key, term in list(terms.items()):
        if isinstance(term, SkillCmp) and term.op in (">=", "<") and best[(term.skill, term.op)] is not term:
            del terms[key]


def render(node: Expr) -> str:
    """The canonical text of an expression; parsing it gives back an equivalent requirement."""
    if isinstance(node, Const):
        return "true" if node.value else "false"
    if isinstance(node, SkillCmp):
        return f"{node.skill} {node.op} {node.level}"
    if isinstance(node, DataTest):
        if node.op == "truthy":
            return node.ref
        if isinstance(node.value, tuple):
            return f"{node.ref} in ({', '.join(_render_value(v) for v in node.value)})"
        return f"{node.ref} {node.op} {_render_value(node.value)}"
    if isinstance(node, Not):
        inner = render(node.operand)
        return f"not ({inner})" if isinstance(node.operand, And | Or) else f"not {inner}"
    if isinstance(node, And):
        return " and ".join(f"({render(o)})" if isinstance(o, Or) else render(o) for o in node.operands)
    return " or ".join(render(o) for o in node.operands)


def _render_value(value: Value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _walk(node: Expr) -> Iterator[Expr]:
    yield node
    if isinstance(node, Not):
        yield from _walk(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from _walk(operand)


# --- compilation -------------------------------------------------------------------------------


def _always(value: bool) -> SkillTest:
    def constant(skills: Mapping[str, int]) -> bool:
        return value

    return constant


def _compile_skill(skill: str, op: str, level: int) -> SkillTest:
    # One closure per operator: no dispatch left for the per-agent call.
    if op == ">=":

        def at_least(skills: Mapping[str, int]) -> bool:
            return skills.get(skill, 0) >= level

        return at_least
    if op == "<":

        def below(skills: Mapping[str, int]) -> bool:
            return skills.get(skill, 0) < level

        return below
    if op == "==":

        def exactly(skills: Mapping[str, int]) -> bool:
            return skills.get(skill, 0) == level

        return exactly

    def other_than(skills: Mapping[str, int]) -> bool:
        return skills.get(skill, 0) != level

    return other_than


def _compile(node: Expr) -> SkillTest:
    if isinstance(node, Const):
        return _always(node.value)
    if isinstance(node, SkillCmp):
        return _compile_skill(node.skill, node.op, node.level)
    if not isinstance(node, And | Or):
        raise TypeError(f"cannot compile {type(node).__name__}: bind the call data first")
    parts = tuple(_compile(operand) for operand in node.operands)
    if len(parts) == 1:
        return parts[0]
    return _all_of(parts) if isinstance(node, And) else _any_of(parts)


def _all_of(parts: tuple[SkillTest, ...]) -> SkillTest:
    if len(parts) == 2:
        first, second = parts

        def both(skills: Mapping[str, int]) -> bool:
            return first(skills) and second(skills)

        return both

    def every(skills: Mapping[str, int]) -> bool:
        return all(part(skills) for part in parts)

    return every


def _any_of(parts: tuple[SkillTest, ...]) -> SkillTest:
    if len(parts) == 2:
        first, second = parts

        def either(skills: Mapping[str, int]) -> bool:
            return first(skills) or second(skills)

        return either

    def some(skills: Mapping[str, int]) -> bool:
        return any(part(skills) for part in parts)

    return some


# --- public API --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoundRequirement:
    """A requirement with the call's data folded in: a test over skills only, equal by ``key``."""

    key: str
    expr: Expr = field(compare=False)
    skills: frozenset[str] = field(compare=False)
    test: SkillTest = field(compare=False, repr=False)

    @property
    def constant(self) -> bool | None:
        """True or False when the data decided the requirement for every agent, else None."""
        return self.expr.value if isinstance(self.expr, Const) else None

    def best_level(self, skills: Mapping[str, int]) -> int:
        """The agent's highest level among the skills this requirement mentions (0 if none)."""
        return max((skills.get(skill, 0) for skill in self.skills), default=0)

    def conjuncts(self) -> tuple[Expr, ...]:
        """The top-level 'and' terms; each SkillCmp among them is a (skill, op, level) every match meets."""
        if isinstance(self.expr, And):
            return self.expr.operands
        return () if self.expr == Const(True) else (self.expr,)


@dataclass(frozen=True, slots=True)
class Requirement:
    """A parsed requirement; ``data_refs`` are the full dotted names, e.g. 'call.language'."""

    text: str
    expr: Expr = field(repr=False)
    skills: frozenset[str]
    data_refs: frozenset[str]

    def matches(self, skills: Mapping[str, int], data: Mapping[str, object] | None = None) -> bool:
        """Whether an agent with these skill levels may take a call with this data (missing = None)."""
        return _evaluate(self.expr, skills, data or {})

    def bind(self, data: Mapping[str, object]) -> BoundRequirement:
        """Fold in one call's data (keyed 'call.x' / 'customer.y'; missing is None) and compile the rest."""
        expr = _fold(self.expr, data, negate=False)
        skills = frozenset(n.skill for n in _walk(expr) if isinstance(n, SkillCmp))
        return BoundRequirement(render(expr), expr, skills, _compile(expr))

    def conjuncts(self) -> tuple[Expr, ...]:
        """The top-level 'and' terms as written."""
        return self.expr.operands if isinstance(self.expr, And) else (self.expr,)


def parse(text: str) -> Requirement:
    """Parse a requirement, raising RequirementError with the column of the first problem."""
    expr = _Parser(text).parse()
    nodes = list(_walk(expr))
    return Requirement(
        text,
        expr,
        frozenset(n.skill for n in nodes if isinstance(n, SkillCmp)),
        frozenset(n.ref for n in nodes if isinstance(n, DataTest)),
    )


def check(req: Requirement, *, known_skills: set[str], known_data: set[str] | None = None) -> list[str]:
    """Problems a valid parse cannot see: unknown names and comparisons no level 0-10 can change."""
    problems: list[tuple[int, str]] = []
    for node in _walk(req.expr):
        if isinstance(node, SkillCmp):
            if node.skill not in known_skills:
                problems.append((node.column, _unknown("skill", node.skill, node.column, known_skills)))
            outcomes = {_ordered(node.op, level, node.level) for level in range(MIN_LEVEL, MAX_LEVEL + 1)}
            if len(outcomes) == 1:
                verdict = "always holds" if outcomes == {True} else "never holds"
                problems.append(
                    (
                        node.column,
                        f"'{render(node)}' {verdict} (levels are {MIN_LEVEL}-{MAX_LEVEL}) "
                        f"at column {node.column}",
                    )
                )
        elif isinstance(node, DataTest) and known_data is not None and node.ref not in known_data:
            problems.append((node.column, _unknown("data", node.ref, node.column, known_data)))
    return [message for _, message in sorted(problems, key=lambda problem: problem[0])]


def _unknown(what: str, name: str, column: int, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {what} '{name}' at column {column}{hint}"
