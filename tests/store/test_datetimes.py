"""UTC datetimes on SQLite: the text written is exactly what SQLAlchemy's DATETIME writes, so rows
written before and after the faster path compare and sort alike, and every query bound still
matches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from callserver.store.models import UtcDateTime

SQLITE = sqlite.dialect()
GENERIC = sqlite.DATETIME().bind_processor(SQLITE)
FAST = UtcDateTime().bind_processor(SQLITE)

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC) | offsets
)


@given(moments)
def test_the_text_is_the_one_sqlalchemy_writes_for_the_same_instant(value: datetime) -> None:
    assert GENERIC is not None and FAST is not None
    assert FAST(value) == GENERIC(value.astimezone(UTC))


def test_whole_seconds_keep_their_microseconds_and_none_stays_none() -> None:
    assert FAST is not None
    assert FAST(datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC)) == "2026-09-21 14:13:20.000000"
    assert FAST(None) is None


def test_a_naive_datetime_is_refused_as_before() -> None:
    assert FAST is not None
    with pytest.raises(ValueError, match="naive"):
        FAST(datetime(2026, 9, 21, 14, 13, 20))


def test_postgresql_keeps_the_driver_s_own_conversion() -> None:
    processor = UtcDateTime().bind_processor(postgresql.dialect())
    value = datetime(2026, 9, 21, 16, 13, 20, tzinfo=timezone(timedelta(hours=2)))
    assert processor is not None
    converted = processor(value)
    assert converted == datetime(2026, 9, 21, 14, 13, 20, tzinfo=UTC)
    assert converted.tzinfo is UTC


READ_GENERIC = sqlite.DATETIME().result_processor(SQLITE, None)
READ_FAST = UtcDateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)


def _read_generic(text: str | None) -> datetime | None:
    """What SQLAlchemy's DATETIME parses, then the decorator's own conversion to aware UTC."""
    assert READ_GENERIC is not None
    return UtcDateTime().process_result_value(READ_GENERIC(text), SQLITE)


@given(moments)
def test_a_written_text_reads_back_as_the_same_aware_instant(value: datetime) -> None:
    assert FAST is not None and READ_FAST is not None
    text = FAST(value)
    read = READ_FAST(text)
    assert read == _read_generic(text) == value
    assert read.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        None,
        "2026-09-21 14:13:20",  # CURRENT_TIMESTAMP's shape: no fraction
        "2026-09-21",  # a date alone: midnight UTC, not a naive datetime
        "2026-09-21 14:13:20.5",
        "2026-09-21T14:13:20.000000",
        "2026-09-21 14:13:20.123+02:00",  # an offset is honoured
        "2026-09-21 14:13:20.1234567",
    ],
)
def test_other_shapes_of_text_read_as_sqlalchemy_reads_them(text: str | None) -> None:
    assert READ_FAST is not None
    read = READ_FAST(text)
    assert read == _read_generic(text)
    assert read is None or read.tzinfo is UTC


def test_a_malformed_text_of_the_same_length_fails_as_sqlalchemy_fails() -> None:
    assert READ_FAST is not None
    text = "2026-09-21 14:13:2x.000000"
    with pytest.raises(ValueError) as generic:
        _read_generic(text)
    with pytest.raises(ValueError) as fast:
        READ_FAST(text)
    assert str(fast.value) == str(generic.value)
