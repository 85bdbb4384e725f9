"""How a call ended when callserver did not see it end: the reason, and whether its end time is an
estimate (the last moment it was known to be up) rather than the moment the PBX ended it.

Revision ID: 0005
Revises: 0003
Create Date: 2027-01-11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # nullable or defaulted columns: SQLite adds them in place, no table rebuild needed
    op.add_column("calls", sa.Column("end_reason", sa.String(200), nullable=True))
    op.add_column(
        "calls",
        sa.Column("end_estimated", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("end_estimated")
        batch.drop_column("end_reason")
