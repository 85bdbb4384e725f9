"""Business hours: weekly opening ranges and holidays in one IANA time zone.

Parsed once from lines such as `mon-fri 08:30-18:00` so a typo is a configuration error, and
evaluated on the `now` an engine is given, so tests can check a DST Sunday without waiting for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")
_ANNUAL = re.compile(r"^(\d{2})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class OpenRange:
    """Open on `days` (0 = Monday) from `start` to `end` minutes after midnight, local time."""

    days: frozenset[int]
    start: int
    end: int


def parse_range(text: str) -> OpenRange:
    """`mon-fri 08:30-18:00`, `sat 09:00-12:00`, `mon,wed,fri 14:00-16:00`; ValueError if not."""
    match = _RANGE.match(text.strip().lower())
    if match is None:
        raise ValueError(f"'{text}' is not like 'mon-fri 08:30-18:00'")
    days: set[int] = set()
    for part in match["days"].split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"'{part}' is not a day or day range (mon..sun)")
        a, b = DAYS.index(first), DAYS.index(last or first)
        if b < a:
            raise ValueError(f"'{part}': day range runs backwards")
        days.update(range(a, b + 1))
    start, end = _minutes(match["start"]), _minutes(match["end"])
    if end <= start:
        raise ValueError(f"'{text}': closing time must be after opening time (no ranges past midnight)")
    return OpenRange(frozenset(days), start, end)


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"'{hhmm}' is not a time of day")
    return hours * 60 + minutes


def parse_holiday(value: date | str) -> date | tuple[int, int]:
    """A dated holiday (2025-12-25) or a yearly one given as MM-DD (12-25)."""
    if isinstance(value, date):
        return value
    text = value.strip()
    annual = _ANNUAL.match(text)
    if annual:
        month, day = int(annual[1]), int(annual[2])
        try:
            date(2000, month, day)  # 2000 is a leap year, so 02-29 passes
        except ValueError:
            raise ValueError(f"'{value}' is not a day of the year (MM-DD)") from None
        return (month, day)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{value}' is not a date (YYYY-MM-DD) or a yearly date (MM-DD)") from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not an IANA time zone like Europe/Paris") from None


def is_open(
    now: datetime,
    tz: ZoneInfo,
    ranges: tuple[OpenRange, ...],
    holidays: tuple[date | tuple[int, int], ...],
) -> bool:
    """Whether `now` (timezone-aware) falls in an opening range on a day that is not a holiday."""
    if now.tzinfo is None:
        raise ValueError("business hours need a timezone-aware datetime")
    local = now.astimezone(tz)
    today = local.date()
    for holiday in holidays:
        if holiday == today or holiday == (today.month, today.day):
            return False
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    return any(weekday in r.days and r.start <= minute < r.end for r in ranges)
