"""Aggregated report tables: 15-minute buckets and local days per dimension value.

`report_buckets` and `report_days` hold the counters of `callserver.reports.counters.Counters`
(listed here as they were when this was written). They are filled from facts as they arrive;
`callserver report --rebuild` fills them from the event log for data written before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTEGERS = (
    "offered",
    "overflowed_in",
    "overflowed_out",
    "answered",
    "answered_in_time",
    "abandoned",
    "short_abandoned",
    "timed_out",
)
FLOATS_1 = ("wait_answered",)
INTEGERS_2 = ("handled",)
FLOATS_2 = ("handle_time",)
INTEGERS_3 = ("transferred", "callbacks")
FLOATS_3 = ("longest_wait", "logged_in", "ready", "paused", "staffed", "busy")
INTEGERS_4 = (
    "wrapups",
    "ivr_entered",
    "ivr_queue",
    "ivr_voicemail",
    "ivr_transfer",
    "ivr_ended",
    "ivr_hangup",
    "ivr_failed",
)


def _counters() -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = []
    for names, kind in (
        (INTEGERS, sa.BigInteger()),
        (FLOATS_1, sa.Float()),
        (INTEGERS_2, sa.BigInteger()),
        (FLOATS_2, sa.Float()),
        (INTEGERS_3, sa.BigInteger()),
        (FLOATS_3, sa.Float()),
        (INTEGERS_4, sa.BigInteger()),
    ):
        columns.extend(sa.Column(name, kind, nullable=False) for name in names)
    return columns


def upgrade() -> None:
    op.create_table(
        "report_buckets",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        *_counters(),
        sa.PrimaryKeyConstraint("kind", "start", "key", name="pk_report_buckets"),
    )
    op.create_table(
        "report_days",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        *_counters(),
        sa.PrimaryKeyConstraint("kind", "day", "key", name="pk_report_days"),
    )


def downgrade() -> None:
    op.drop_table("report_days")
    op.drop_table("report_buckets")
