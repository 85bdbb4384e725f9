"""Server-side checks of every answer type: what is accepted, what it becomes, what is refused and how."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callserver.scripts.answers import MAX_INPUT, AnswerError, Checking, canonical, check_answer
from callserver.scripts.model import (
    AskAmount,
    AskChoice,
    AskDate,
    AskNumber,
    AskText,
    AskYesNo,
    DateBound,
    Option,
    Question,
    Template,
)

LABEL = Template("Q", ("Q",))
TODAY = date(2026, 3, 2)
EN = Checking(TODAY)
FR = Checking(TODAY, "fr-FR", "EUR")

CHOICE = AskChoice("c", LABEL, None, True, 1, (Option("card", LABEL, 1), Option("bank", LABEL, 1)))
YES_NO = AskYesNo("y", LABEL, None, True, 1)
TEXT = AskText("t", LABEL, None, True, 1, min_length=2, max_length=10)
POSTCODE = AskText("p", LABEL, None, True, 1, pattern=r"[0-9]{5}")
NOTES = AskText("n", LABEL, None, False, 1, max_length=100, multiline=True)
MONTHS = AskNumber("m", LABEL, None, True, 1, min=Decimal(2), max=Decimal(12))
RATE = AskNumber("r", LABEL, None, True, 1, min=Decimal(0), decimals=2)
AMOUNT = AskAmount("a", LABEL, None, True, 1, min=Decimal(0), max=Decimal(5000))
DAY = AskDate("d", LABEL, None, True, 1, min=DateBound(None, 1), max=DateBound(None, 14))
BIRTH = AskDate("b", LABEL, None, True, 1, max=DateBound(date(2008, 3, 2)))


@pytest.mark.parametrize(
    ("question", "raw", "expected"),
    [
        (CHOICE, "card", "card"),
        (CHOICE, "  bank ", "bank"),
        (YES_NO, True, True),
        (YES_NO, "Yes", True),
        (YES_NO, "no", False),
        (YES_NO, "FALSE", False),
        (TEXT, "  Jeanne  ", "Jeanne"),
        (TEXT, "e\u0301t\u00e9", "\u00e9t\u00e9"),  # composed (NFC) as stored
        (POSTCODE, "75011", "75011"),
        (NOTES, "line 1\r\nline 2\tend", "line 1\nline 2\tend"),
        (
            NOTES,
            "family \U0001f468\u200d\U0001f469\u200d\U0001f467",
            "family \U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
        (MONTHS, "6", Decimal(6)),
        (MONTHS, 12, Decimal(12)),
        (MONTHS, "6.0", Decimal(6)),
        (MONTHS, "+2", Decimal(2)),
        (RATE, 2.5, Decimal("2.50")),
        (RATE, "1,234.5", Decimal("1234.50")),
        (AMOUNT, "42.1", Decimal("42.10")),
        (AMOUNT, "€42.10", Decimal("42.10")),
        (AMOUNT, "42.10 EUR", Decimal("42.10")),
        (AMOUNT, Decimal("0"), Decimal("0.00")),
        (DAY, "2026-03-03", date(2026, 3, 3)),
        (DAY, date(2026, 3, 16), date(2026, 3, 16)),
        (BIRTH, "1970-01-31", date(1970, 1, 31)),
    ],
)
def test_accepted_answers_become_typed_values(question: Question, raw: object, expected: object) -> None:
    value = check_answer(question, raw, EN)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1 234,5", Decimal("1234.50")), ("1\u202f234,50", Decimal("1234.50")), ("12,5", Decimal("12.50"))],
)
def test_numbers_may_be_written_the_way_the_locale_writes_them(raw: str, expected: Decimal) -> None:
    assert check_answer(RATE, raw, FR) == expected


def test_amounts_follow_the_precision_of_the_currency() -> None:
    assert check_answer(AMOUNT, "1,5 €", FR) == Decimal("1.50")
    with pytest.raises(AnswerError, match=r"^Enter a whole number\.$"):
        check_answer(AMOUNT, "1.5", Checking(TODAY, "ja", "JPY"))
    assert check_answer(AMOUNT, "1500", Checking(TODAY, "ja", "JPY")) == Decimal(1500)


@pytest.mark.parametrize(
    ("question", "raw", "message"),
    [
        (CHOICE, "cash", "Choose one of the options."),
        (CHOICE, 1, "Choose one of the options."),
        (CHOICE, ["card"], "Choose one of the options."),
        (YES_NO, "maybe", "Answer yes or no."),
        (YES_NO, 1, "Answer yes or no."),
        (TEXT, "J", "Enter at least 2 characters."),
        (TEXT, "J" * 11, "Enter at most 10 characters."),
        (TEXT, 42, "Enter a text."),
        (TEXT, "two\nlines", "Enter a single line."),
        (TEXT, "bell\x07", "The answer contains characters that are not allowed."),
        (TEXT, "abc\u202edcba", "The answer contains characters that are not allowed."),
        (TEXT, "x" * (MAX_INPUT + 1), f"The answer is too long (at most {MAX_INPUT} characters)."),
        (POSTCODE, "7501", "The answer is not in the expected form."),
        (POSTCODE, "75011x", "The answer is not in the expected form."),
        (MONTHS, "six", "Enter a number."),
        (MONTHS, "1e1", "Enter a number."),
        (MONTHS, "NaN", "Enter a number."),
        (MONTHS, float("nan"), "Enter a number."),
        (MONTHS, float("inf"), "Enter a number."),
        (MONTHS, True, "Enter a number."),
        (MONTHS, {"value": 6}, "Enter a number."),
        (MONTHS, "6.5", "Enter a whole number."),
        (MONTHS, "1", "Enter a value from 2 to 12."),
        (MONTHS, 13, "Enter a value from 2 to 12."),
        (MONTHS, "9" * 16, "Enter a number of at most 15 digits."),
        (RATE, "-1", "Enter 0 or more."),
        (RATE, "1.234", "Enter at most 2 decimal places."),
        (AMOUNT, "5000.01", "Enter a value from 0 to 5000."),
        (AMOUNT, "1.005", "Enter at most 2 decimal places."),
        (AMOUNT, "£3", "Enter an amount."),
        (DAY, "2026-03-02", "Enter a day from 2026-03-03 to 2026-03-16."),
        (DAY, "2026-03-17", "Enter a day from 2026-03-03 to 2026-03-16."),
        (DAY, "2026-02-30", "This day does not exist."),
        (DAY, "03/03/2026", "Enter a day as YYYY-MM-DD."),
        (DAY, "20260303", "Enter a day as YYYY-MM-DD."),
        (DAY, datetime(2026, 3, 3, 10, 0), "Enter a day, without a time."),
        (DAY, 20260303, "Enter a day as YYYY-MM-DD."),
        (BIRTH, "2010-01-01", "Enter 2008-03-02 or earlier."),
    ],
)
def test_refused_answers_say_what_is_wanted(question: Question, raw: object, message: str) -> None:
    with pytest.raises(AnswerError) as caught:
        check_answer(question, raw, EN)
    assert str(caught.value) == message


@pytest.mark.parametrize("question", [CHOICE, YES_NO, TEXT, MONTHS, AMOUNT, DAY])
@pytest.mark.parametrize("raw", [None, "", "   "])
def test_nothing_and_blanks_are_no_answer(question: Question, raw: object) -> None:
    assert check_answer(question, raw, EN) is None


def test_only_a_lower_bound_gives_its_own_message() -> None:
    later = AskDate("d", LABEL, None, True, 1, min=DateBound(None, 0))
    with pytest.raises(AnswerError, match=r"^Enter 2026-03-02 or later\.$"):
        check_answer(later, "2026-03-01", EN)
    small = AskNumber("s", LABEL, None, True, 1, max=Decimal(3))
    with pytest.raises(AnswerError, match=r"^Enter 3 or less\.$"):
        check_answer(small, 4, EN)


def test_canonical_text_of_each_kind_of_value() -> None:
    assert [canonical(v) for v in (True, False, Decimal("42.10"), date(2026, 3, 31), "x")] == [
        "true",
        "false",
        "42.10",
        "2026-03-31",
        "x",
    ]


HOSTILE: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text()
    | st.dates()
    | st.sampled_from(["card", "yes", "6", "42.10", "2026-03-05", "1 234,5", "€3", " \u202e"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=5,
)


@given(
    raw=HOSTILE, question=st.sampled_from([CHOICE, YES_NO, TEXT, POSTCODE, NOTES, MONTHS, RATE, AMOUNT, DAY])
)
def test_any_input_is_refused_cleanly_or_accepted_as_a_value_that_checks_again(
    raw: object, question: Question
) -> None:
    try:
        value = check_answer(question, raw, EN)
    except AnswerError as err:
        assert str(err).endswith(".")
        return
    if value is not None:
        assert check_answer(question, canonical(value), EN) == value
