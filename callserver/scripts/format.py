"""Fills a script's texts with customer, call and answer values, for a screen rather than a voice.

The template syntax is the IVR's (`{customer.balance|currency}`, callserver.ivr.say), so one way of
writing fields serves prompts and scripts. The IVR turns values into words for the speech
synthesiser; here Babel formats them the way the script's locale writes them (`€1,234.50`,
`1 234,50 €`, `31 March 2026`). Actions get the canonical form instead (`1234.50`, `2026-03-31`), which
is what a field or a task stores. The result is plain text: whoever shows it escapes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from callserver.ivr.expr import to_decimal
from callserver.ivr.say import Field
from callserver.scripts.answers import Value, canonical
from callserver.scripts.model import AskChoice, Question, Template

Resolve = Callable[[str], object]
_YES_NO = {
    "en": ("yes", "no"),
    "fr": ("oui", "non"),
    "de": ("ja", "nein"),
    "es": ("sí", "no"),
    "it": ("sì", "no"),
    "nl": ("ja", "nee"),
}


def babel_locale(language: str) -> str:
    return language.replace("-", "_")


def render(template: Template, resolve: Resolve, *, language: str, currency: str) -> str:
    """The template as a person reads it; a missing value shows as nothing."""
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, Field):
            out.append(show(resolve(part.ref), part.say_as, language=language, currency=currency))
        else:
            out.append(part)
    return "".join(out)


def render_canonical(template: Template, resolve: Resolve) -> str:
    """The template with values in their stored form, for actions (say-as hints are not applied)."""
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, Field):
            value = resolve(part.ref)
            out.append(_canonical(value))
        else:
            out.append(part)
    return "".join(out)


def _canonical(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | Decimal | str | date):  # a datetime is a date: ISO with its time
        return canonical(value) if not isinstance(value, datetime) else value.isoformat()
    return str(value)


def show_answer(
    question: Question, value: Value, render_label: Callable[[Template], str], language: str, currency: str
) -> str:
    """An answer as the person saw it: its option's label, yes or no, an amount or a day as written here."""
    if isinstance(question, AskChoice):
        for option in question.options:
            if option.value == value:
                return render_label(option.label)
    say_as = {"amount": "currency", "number": "number", "date": "date"}.get(question.kind, "text")
    return show(value, say_as, language=language, currency=currency)


def show(value: object, say_as: str = "text", *, language: str = "en", currency: str = "EUR") -> str:
    """One value for a screen: `currency` and `number` by locale, `date` in words, yes/no in the language."""
    if value is None:
        return ""
    locale = babel_locale(language)
    if say_as in ("currency", "number") or (say_as == "text" and isinstance(value, Decimal)):
        number = to_decimal(value)
        if number is None:
            return str(value)
        if say_as == "currency":
            return format_currency(number, currency, locale=locale)
        return format_decimal(number, locale=locale, decimal_quantization=False)
    if say_as == "date" or (say_as == "text" and isinstance(value, date)):
        day = _day(value)
        return str(value) if day is None else format_date(day, format="long", locale=locale)
    if say_as == "digits":
        return "".join(ch for ch in str(value) if not ch.isspace())
    if isinstance(value, bool):
        yes, no = _YES_NO.get(language.split("-")[0], _YES_NO["en"])
        return yes if value else no
    return str(value)


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None
