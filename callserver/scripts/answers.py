"""Checks one answer against its question and turns it into a typed value, on the server.

What arrives may come from the public web page, so anything is expected: wrong JSON types, huge
strings, control characters, NaN, numbers written the local way ("1 234,50"). Each refusal is an
`AnswerError` whose message can be shown to the person as it is: it names no internals.
Values are `str` (choice, text), `bool` (yes/no), `Decimal` (number, amount) or `date`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import assert_never

from babel.numbers import (
    NumberFormatError,
    get_currency_precision,
    get_currency_symbol,
    get_group_symbol,
    parse_decimal,
)

from callserver.scripts.model import AskAmount, AskChoice, AskDate, AskNumber, AskText, AskYesNo, Question

Value = str | bool | Decimal | date
MAX_INPUT = 10_000  # characters; longer input is refused before any other work
_MAX_DIGITS = 15  # integer digits of a number or an amount
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_LOCAL_NUMBER = re.compile(r"[+\-\u2212]?[\d.,'\u2019 \u00a0\u202f]+")
_SPACE = re.compile(r"[ \u00a0\u202f]")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_YES = frozenset({"yes", "true"})
_NO = frozenset({"no", "false"})
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class AnswerError(ValueError):
    """An answer that does not fit its question; the message is for the person who typed it."""


@dataclass(frozen=True, slots=True)
class Checking:
    """What an answer is checked against besides the question: the day, the locale, the currency."""

    today: date
    locale: str = "en"
    currency: str = "EUR"


def check_answer(question: Question, raw: object, checking: Checking) -> Value | None:
    """The typed value of `raw`, or None for no answer (None, or a blank text); AnswerError if it is wrong.

    Whether a missing answer is allowed is the engine's business (it knows `required`).
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        if len(raw) > MAX_INPUT:
            raise AnswerError(f"The answer is too long (at most {MAX_INPUT} characters).")
        raw = _clean(raw, multiline=isinstance(question, AskText) and question.multiline)
        if raw == "":
            return None
    match question:
        case AskChoice():
            return _choice(question, raw)
        case AskYesNo():
            return _yes_no(raw)
        case AskText():
            return _text(question, raw)
        case AskNumber():
            number = _number(raw, checking.locale, checking.currency, amount=False)
            return _bounded(_places(number, question.decimals), question.min, question.max)
        case AskAmount():
            number = _number(raw, checking.locale, checking.currency, amount=True)
            precision = get_currency_precision(checking.currency)
            return _bounded(_places(number, precision), question.min, question.max)
        case AskDate():
            return _date(question, raw, checking.today)
        case _:
            assert_never(question)


def _clean(text: str, *, multiline: bool) -> str:
    """Trimmed, line ends made `\n`; control characters and bidirectional overrides refused.

    Overrides would make an agent's screen show something other than what is stored; joiners and
    other format characters stay (emoji sequences and several scripts need them).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    allowed = {"\n", "\t"} if multiline else {"\n"}  # a single-line text then says so
    for ch in text:
        if ch in _BIDI or (ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs", "Co")):
            raise AnswerError("The answer contains characters that are not allowed.")
    return unicodedata.normalize("NFC", text)


def _choice(question: AskChoice, raw: object) -> str:
    if isinstance(raw, str):
        for option in question.options:
            if option.value == raw:
                return raw
    raise AnswerError("Choose one of the options.")


def _yes_no(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = raw.lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
    raise AnswerError("Answer yes or no.")


def _text(question: AskText, raw: object) -> str:
    if not isinstance(raw, str):
        raise AnswerError("Enter a text.")
    if not question.multiline and "\n" in raw:
        raise AnswerError("Enter a single line.")
    if len(raw) < question.min_length:
        raise AnswerError(f"Enter at least {question.min_length} characters.")
    if len(raw) > question.max_length:
        raise AnswerError(f"Enter at most {question.max_length} characters.")
    if question.pattern is not None and re.fullmatch(question.pattern, raw) is None:
        raise AnswerError("The answer is not in the expected form.")
    return raw


def _number(raw: object, locale: str, currency: str, *, amount: bool) -> Decimal:
    """A finite Decimal from a JSON number or from text written plainly (42.5) or the local way."""
    wanted = "an amount" if amount else "a number"
    if isinstance(raw, bool):
        raise AnswerError(f"Enter {wanted}.")
    if isinstance(raw, int | Decimal):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = _strip_currency(raw, locale, currency) if amount else raw
        number = _parse_text_number(text, locale, wanted)
    else:
        raise AnswerError(f"Enter {wanted}.")
    if not number.is_finite():
        raise AnswerError(f"Enter {wanted}.")
    if number.adjusted() >= _MAX_DIGITS:
        raise AnswerError(f"Enter {wanted} of at most {_MAX_DIGITS} digits.")
    return number


def _parse_text_number(text: str, locale: str, wanted: str) -> Decimal:
    """`42.5` as it is; `1,234.50` (en) or `1 234,50` (fr) by the locale's rules, strictly."""
    if _PLAIN_NUMBER.fullmatch(text):
        return Decimal(text)
    if len(text) > 40 or not _LOCAL_NUMBER.fullmatch(text):  # no exponents, no NaN or Infinity
        raise AnswerError(f"Enter {wanted}.")
    babel_locale = locale.replace("-", "_")
    group = get_group_symbol(babel_locale)
    if group.isspace():  # people type a plain space where the locale writes a narrow one
        text = _SPACE.sub(group, text)
    try:
        return parse_decimal(text, locale=babel_locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise AnswerError(f"Enter {wanted}.") from None


def _strip_currency(text: str, locale: str, currency: str) -> str:
    symbol = get_currency_symbol(currency, locale=locale.replace("-", "_"))
    for mark in (currency, symbol):
        if text.startswith(mark):
            text = text[len(mark) :]
        elif text.endswith(mark):
            text = text[: -len(mark)]
    return text.strip().replace("\u00a0", " ")


def _places(number: Decimal, decimals: int) -> Decimal:
    step = Decimal(1).scaleb(-decimals)
    rounded = number.quantize(step)
    if rounded != number:
        if decimals == 0:
            raise AnswerError("Enter a whole number.")
        raise AnswerError(f"Enter at most {decimals} decimal places.")
    return rounded


def _bounded(number: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    if low is not None and high is not None and not low <= number <= high:
        raise AnswerError(f"Enter a value from {_plain(low)} to {_plain(high)}.")
    if low is not None and number < low:
        raise AnswerError(f"Enter {_plain(low)} or more.")
    if high is not None and number > high:
        raise AnswerError(f"Enter {_plain(high)} or less.")
    return number


def _date(question: AskDate, raw: object, today: date) -> date:
    if isinstance(raw, datetime):
        raise AnswerError("Enter a day, without a time.")
    if isinstance(raw, date):
        day = raw
    elif isinstance(raw, str) and _DAY.fullmatch(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise AnswerError("This day does not exist.") from None
    else:
        raise AnswerError("Enter a day as YYYY-MM-DD.")
    low = question.min.resolve(today) if question.min else None
    high = question.max.resolve(today) if question.max else None
    if low is not None and high is not None and not low <= day <= high:
        raise AnswerError(f"Enter a day from {low.isoformat()} to {high.isoformat()}.")
    if low is not None and day < low:
        raise AnswerError(f"Enter {low.isoformat()} or later.")
    if high is not None and day > high:
        raise AnswerError(f"Enter {high.isoformat()} or earlier.")
    return day


def canonical(value: Value) -> str:
    """The value as stored and handed to adapters: `true`/`false`, `42.10`, `2026-03-31`, the text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _plain(number: Decimal) -> str:
    return format(number, "f")
