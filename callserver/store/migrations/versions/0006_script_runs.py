"""Dialogue scripts: every run and its answers, customers' extra fields, scheduled callbacks.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer_fields",
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_fields_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "name", name="pk_customer_fields"),
    )
    op.create_table(
        "script_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("script_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("customer_id", BIG_ID, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_script_runs_customer_id_customers",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_script_runs"),
    )
    op.create_index("ix_script_runs_call_id", "script_runs", ["call_id"])
    op.create_index("ix_script_runs_started_at", "script_runs", ["started_at"])
    op.create_index("ix_script_runs_customer_started_at", "script_runs", ["customer_id", "started_at"])
    op.create_index("ix_script_runs_script_started_at", "script_runs", ["script_id", "started_at"])
    op.create_table(
        "script_answers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("question", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(64), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["script_runs.id"], name="fk_script_answers_run_id_script_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_script_answers"),
        sa.UniqueConstraint("run_id", "position", name="uq_script_answers_run_id"),
    )
    op.create_index("ix_script_answers_run_id", "script_answers", ["run_id"])
    op.create_table(
        "scheduled_callbacks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("reserved_for", sa.String(64), nullable=True),
        sa.Column("requirement", sa.String(500), nullable=True),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("handover", sa.JSON(), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("dial_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_callbacks"),
    )
    op.create_index("ix_scheduled_callbacks_run_id", "scheduled_callbacks", ["run_id"])
    op.create_index("ix_scheduled_callbacks_status_due_at", "scheduled_callbacks", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("scheduled_callbacks")
    op.drop_table("script_answers")
    op.drop_table("script_runs")
    op.drop_table("customer_fields")
