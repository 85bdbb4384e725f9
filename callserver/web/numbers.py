"""Phone numbers typed by agents (transfer and consultation targets): spaces, dots, dashes and
brackets are fine, a national number is read in the centre's region; the PBX gets E.164."""

from __future__ import annotations

import phonenumbers


class BadNumber(ValueError):
    """Not a phone number; the message says what was typed and why it was refused."""


def normalise(raw: str, region: str) -> str:
    """`raw` as E.164 (`+33612345678`), reading a number without `+` as one of `region`."""
    text = raw.strip()
    if not text:
        raise BadNumber("give a phone number")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as err:
        raise BadNumber(f"'{raw}' is not a phone number: {err}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise BadNumber(f"'{raw}' is not a possible phone number in {region} or abroad")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
