"""Prompt templates: `Your balance is {customer.balance|currency}.` rendered to plain text.

The speech synthesiser reads text, so numbers, amounts, digit strings and dates are turned into
words-and-numbers it pronounces well ("42 euros 10", "4 1 2 7") before the text leaves the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from callserver.ivr.expr import check_ref, to_decimal

SAY_AS = ("text", "number", "currency", "digits", "date")
_FIELD = re.compile(r"\{([^{}]*)\}")
_CURRENCIES = {
    "EUR": (("euro", "euros"), ("cent", "cents")),
    "USD": (("dollar", "dollars"), ("cent", "cents")),
    "GBP": (("pound", "pounds"), ("penny", "pence")),
    "CHF": (("franc", "francs"), ("centime", "centimes")),
}
_MINUS = {"en": "minus", "fr": "moins", "de": "minus", "es": "menos"}
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
}


@dataclass(frozen=True, slots=True)
class Field:
    ref: str
    say_as: str


Template = tuple[str | Field, ...]


def parse_template(text: str) -> Template:
    """Split `Hello {customer.name}` into literal text and fields; `{{` and `}}` are braces."""
    parts: list[str | Field] = []
    escaped = text.replace("{{", "\x00").replace("}}", "\x01")
    pos = 0
    for match in _FIELD.finditer(escaped):
        parts.append(escaped[pos : match.start()])
        ref, _, say_as = match[1].strip().partition("|")
        ref, say_as = ref.strip(), (say_as.strip() or "text")
        check_ref(ref)
        if say_as not in SAY_AS:
            raise ValueError(f"'{say_as}' is not a say-as ({', '.join(SAY_AS)})")
        parts.append(Field(ref, say_as))
        pos = match.end()
    parts.append(escaped[pos:])
    if any(isinstance(p, str) and ("{" in p or "}" in p) for p in parts):
        raise ValueError("unbalanced '{' or '}' (write {{ or }} for a brace)")
    return tuple(_unescape(p) if isinstance(p, str) else p for p in parts if p != "")


def _unescape(text: str) -> str:
    return text.replace("\x00", "{").replace("\x01", "}")


def render(template: Template, resolve: Callable[[str], object], *, language: str, currency: str) -> str:
    out: list[str] = []
    for part in template:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(say(resolve(part.ref), part.say_as, language=language, currency=currency))
    return "".join(out)


def say(value: object, say_as: str, *, language: str = "en", currency: str = "EUR") -> str:
    """One value as speakable text; a value that does not fit its say-as is read as plain text."""
    if value is None:
        return ""
    if say_as == "number":
        number = to_decimal(value)
        return str(value) if number is None else _number(number, language)
    if say_as == "currency":
        return say_currency(value, currency, language)
    if say_as == "digits":
        return " ".join(ch for ch in str(value) if not ch.isspace())
    if say_as == "date":
        return say_date(value, language)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _number(number: object, language: str) -> str:
    text = format(number, "f")
    if text.startswith("-"):
        return f"{_MINUS.get(language, '-')} {text[1:]}"
    return text


def say_currency(value: object, currency: str = "EUR", language: str = "en") -> str:
    """42.1 EUR -> `42 euros 10`; 1 -> `1 euro`; 0.5 -> `50 cents`; -3 -> `minus 3 euros`."""
    amount = to_decimal(value)
    if amount is None:
        return str(value)
    (unit, units), (sub, subs) = _CURRENCIES.get(currency.upper(), ((currency, currency), ("", "")))
    cents_total = int((abs(amount) * 100).to_integral_value())
    whole, cents = divmod(cents_total, 100)
    sign = f"{_MINUS.get(language, '-')} " if amount < 0 and cents_total else ""
    if whole == 0 and cents:
        return f"{sign}{cents} {sub if cents == 1 else subs}".rstrip()
    text = f"{sign}{whole} {unit if whole == 1 else units}"
    return f"{text} {cents}" if cents else text


def say_date(value: object, language: str = "en") -> str:
    """A date, an ISO string or DDMMYYYY digits as `3 March 2024`."""
    day: date | None = value if isinstance(value, date) else None
    text = str(value).strip()
    if day is None and re.fullmatch(r"\d{8}", text):
        try:
            day = date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            day = None
    if day is None:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return text
    months = _MONTHS.get(language, _MONTHS["en"]).split()
    return f"{day.day} {months[day.month - 1]} {day.year}"
