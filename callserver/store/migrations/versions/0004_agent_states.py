"""Agent state intervals, and the mark of a wrap-up saved when its time ran out.

`agent_states` holds one row per interval of an agent's day (logged in, available or paused with its
reason, idle / ringing / on call / on hold / wrap-up), written from the facts like the call rows.
`calls.wrapup_timed_out` says the server saved the wrap-up at the end of its time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_states",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agent_states"),
    )
    op.create_index("ix_agent_states_agent_kind_ended", "agent_states", ["agent_id", "kind", "ended_at"])
    op.create_index("ix_agent_states_started_at", "agent_states", ["started_at"])
    # a NOT NULL column with a server default: SQLite adds it in place, old rows read false
    op.add_column(
        "calls",
        sa.Column("wrapup_timed_out", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("wrapup_timed_out")
    op.drop_table("agent_states")
