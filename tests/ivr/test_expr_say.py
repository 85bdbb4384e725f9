"""Conditions of branch nodes and the say-as rendering of prompt templates."""

from __future__ import annotations

from datetime import date

import pytest

from callserver.ivr.expr import evaluate, parse_condition
from callserver.ivr.say import parse_template, render, say, say_currency, say_date

CUSTOMER: dict[str, object] = {"vip": True, "language": "fr", "balance": "-12.5", "name": "Ada"}


def holds(text: str, values: dict[str, object] = CUSTOMER) -> bool:
    return evaluate(parse_condition(text), lambda ref: values.get(ref.partition(".")[2]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customer.vip == true", True),
        ("customer.vip", True),
        ('customer.language == "fr"', True),
        ("customer.language != 'fr'", False),
        ("customer.balance < 0", True),
        ("customer.balance >= -12.5", True),
        ("customer.balance < 0 and not customer.vip", False),
        ("customer.missing == null", True),
        ("customer.missing > 3 or (customer.vip and customer.balance < -10)", True),
        ("customer.name > 5", False),  # a name is not a number: comparison is false, not an error
    ],
)
def test_conditions(text: str, expected: bool) -> None:
    assert holds(text) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty condition"),
        ("customer.vip ==", "ends too early"),
        ("vip == true", "is not customer"),
        ("customer.vip == yes", "expected a number"),
        ("__import__('os')", "is not customer"),
        ("customer.name.__class__", "is not customer"),
        ("customer.vip == true true", "unexpected 'true'"),
    ],
)
def test_bad_conditions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_condition(text)


@pytest.mark.parametrize(
    ("amount", "spoken"),
    [
        ("42.10", "42 euros 10"),
        ("42.1", "42 euros 10"),
        (1, "1 euro"),
        ("0.05", "5 cents"),
        ("-3", "minus 3 euros"),
        ("1000.99", "1000 euros 99"),
    ],
)
def test_currency_is_spoken_as_units_and_cents(amount: object, spoken: str) -> None:
    assert say_currency(amount) == spoken


def test_say_as_digits_number_date() -> None:
    assert say("4127 88", "digits") == "4 1 2 7 8 8"
    assert say("-7.5", "number") == "minus 7.5"
    assert say_date("03032024") == "3 March 2024"
    assert say_date(date(2024, 7, 14), "fr") == "14 juillet 2024"
    assert say_date("not a date") == "not a date"
    assert say_currency("12", "GBP", "fr") == "12 pounds"


def test_template_renders_fields_and_keeps_doubled_braces() -> None:
    template = parse_template("{{ref}} {customer.name}: {customer.balance|currency}")
    values = {"customer.name": "Ada", "customer.balance": "42.10"}
    assert render(template, values.get, language="en", currency="EUR") == "{ref} Ada: 42 euros 10"
    with pytest.raises(ValueError, match="unbalanced"):
        parse_template("oops {customer.name")
