"""Phone numbers as stored: E.164 (`+33140000001`), read with Google's `phonenumbers` library.

A number written in national form (`01 40 00 00 01`) needs the country it is dialled in: the
configuration's `customers.default_region` (an ISO 3166 code such as FR). Without one, only
international forms (`+33...`, `0033...`) can be read. The digits are not checked against the
country's numbering plan: short internal numbers and new ranges are kept, a number only has to be
readable and carry a known country code.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

_INTERNATIONAL_00 = re.compile(r"^\s*00(?=\s*[1-9])")
_LETTERS = re.compile(r"[A-Za-z]")


class PhoneError(ValueError):
    """A text that cannot be stored as a phone number; the message says why."""


def is_region(code: str) -> bool:
    """Whether `phonenumbers` knows `code` as a region (FR, GB, US...)."""
    return code in phonenumbers.SUPPORTED_REGIONS


def to_e164(raw: str, region: str | None) -> str:
    """`raw` in E.164; national forms are read as dialled in `region`. Raises PhoneError."""
    text = raw.strip()
    if not text:
        raise PhoneError("empty phone number")
    if _LETTERS.search(text):
        raise PhoneError(f"'{raw}' is not a phone number")
    if region is None:
        # '00' is the international prefix nearly everywhere; without a region it is the only hint
        text = _INTERNATIONAL_00.sub("+", text)
        if not text.startswith("+"):
            raise PhoneError(
                f"'{raw}' is in national form: write it as +<country code>... or set customers.default_region"
            )
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as err:
        raise PhoneError(f"'{raw}' is not a phone number ({_reason(err)})") from None
    if len(str(number.national_number)) < 2:
        raise PhoneError(f"'{raw}' is too short to be a phone number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def e164_or_none(raw: str, region: str | None) -> str | None:
    """`to_e164`, or None when `raw` cannot be read (a caller ID such as 'anonymous')."""
    try:
        return to_e164(raw, region)
    except PhoneError:
        return None


def _reason(err: NumberParseException) -> str:
    return {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        NumberParseException.NOT_A_NUMBER: "not a number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }.get(err.error_type, str(err))


__all__ = ["PhoneError", "e164_or_none", "is_region", "to_e164"]
