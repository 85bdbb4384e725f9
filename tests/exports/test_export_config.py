"""The queue_log and prometheus sections: defaults, and the mistakes check-config names."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from callserver.config import Settings


def test_queue_log_is_written_under_the_data_folder_unless_a_path_is_given(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).queue_log_path() == tmp_path / "queue_log"
    elsewhere = tmp_path / "asterisk" / "queue_log"
    assert Settings(data_dir=tmp_path, queue_log={"path": str(elsewhere)}).queue_log_path() == elsewhere


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        ({}, "set `token`"),
        ({"token": "short"}, "at least 16 characters"),
        ({"listen": {"host": "127.0.0.1"}}, "port"),
    ],
)
def test_prometheus_without_a_token_or_an_address_of_its_own_is_refused(
    section: dict[str, object], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings(prometheus=section)


def test_a_member_prefix_that_would_break_the_agent_column_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"queue_log\.member_prefix"):
        Settings(queue_log={"member_prefix": "Agent|"})
    with pytest.raises(ValidationError, match=r"queue_log\.fsync"):
        Settings(queue_log={"fsync": "sometimes"})
