"""Voicemails join the main schema.

Servers that ran an earlier release already have this table: the voicemail feature created it on
its own at start-up, with the same columns and indexes. Such a table is adopted as it is, with its
messages; only a database without it gets a new one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("voicemails"):
        return
    op.create_table(
        "voicemails",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("caller_num", sa.String(64), nullable=False),
        sa.Column("caller_name", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("box", sa.String(140), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("callback_call_id", sa.String(64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voicemails"),
    )
    op.create_index("ix_voicemails_status_box", "voicemails", ["status", "box"])
    op.create_index("ix_voicemails_agent_status", "voicemails", ["agent_id", "status"])


def downgrade() -> None:
    op.drop_table("voicemails")
