"""One lexer and one error type for the expressions in configuration; the reusable condition language."""

from __future__ import annotations

import pytest

from callserver.acd.expr import RequirementError
from callserver.acd.expr import parse as parse_requirement
from callserver.expressions import conditions
from callserver.expressions.lexer import ExpressionError, tokenize
from callserver.ivr.expr import evaluate, parse_condition


def test_one_tokenizer_reads_names_keywords_numbers_strings_and_operators() -> None:
    tokens = tokenize("customer.vip == 'a\\'b' and not call.priority >= -2.5")
    assert [(t.kind, t.text, t.column) for t in tokens] == [
        ("name", "customer.vip", 1),
        ("op", "==", 14),
        ("str", "'a\\'b'", 17),
        ("kw", "and", 24),
        ("kw", "not", 28),
        ("name", "call.priority", 32),
        ("op", ">=", 46),
        ("num", "-2.5", 49),
        ("end", "", 53),
    ]
    assert (tokens[2].value, tokens[7].value) == ("a'b", -2.5)


def test_both_languages_raise_the_shared_error_with_a_column() -> None:
    with pytest.raises(ExpressionError) as requirement:
        parse_requirement("french = 5")
    with pytest.raises(ExpressionError) as condition:
        parse_condition("customer.vip = true")
    assert isinstance(requirement.value, RequirementError)
    assert (requirement.value.column, condition.value.column) == (8, 14)
    assert condition.value.message == "cannot read condition at '= true'"


def test_condition_errors_read_as_one_line_for_validation_reports() -> None:
    with pytest.raises(ValueError) as caught:
        parse_condition("customer.vip and")
    assert str(caught.value) == "condition ends too early"


def test_quoted_strings_in_conditions_may_hold_their_quote() -> None:
    condition = parse_condition('customer.name == "Rock \\"n\\" Roll"')
    assert evaluate(condition, lambda ref: 'Rock "n" Roll')


def test_the_condition_language_takes_the_namespaces_its_user_names() -> None:
    # e.g. a dialogue script branching on the answers an agent recorded
    condition = conditions.parse("answer.interested and customer.balance > 100", ("customer", "answer"))
    values = {"answer.interested": "yes", "customer.balance": "120.50"}
    assert conditions.evaluate(condition, values.get)
    assert conditions.refs(condition) == ["answer.interested", "customer.balance"]
    with pytest.raises(conditions.ConditionError) as caught:
        conditions.parse("data.x", ("customer", "answer"))
    assert caught.value.message == "'data.x' is not customer.<field> or answer.<field>"
