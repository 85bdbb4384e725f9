"""Wrap-up on the call row: the agent's outcome code, note and when they saved it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # nullable columns: SQLite adds them in place, no table rebuild needed
    op.add_column("calls", sa.Column("wrapup_outcome", sa.String(32), nullable=True))
    op.add_column("calls", sa.Column("wrapup_note", sa.Text(), nullable=True))
    op.add_column("calls", sa.Column("wrapup_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("wrapup_at")
        batch.drop_column("wrapup_note")
        batch.drop_column("wrapup_outcome")
