"""Outbound campaigns: campaigns, imported lists, leads, attempts, callbacks, refusals by the
compliance rules and the do-not-call lists.

All of it is written from campaign facts (`store/campaign_facts.py`); the attempts table is the
compliance report.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(24), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_campaigns"),
    )
    op.create_table(
        "campaign_lists",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("imported_at", UTC_TIME, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("dnc_hits", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_lists"),
        sa.UniqueConstraint("campaign", "name", name="uq_campaign_lists_campaign"),
    )
    op.create_index("ix_campaign_lists_campaign", "campaign_lists", ["campaign"])
    op.create_table(
        "campaign_leads",
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("time_zones", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_result", sa.String(24), nullable=True),
        sa.Column("callback_at", sa.Float(), nullable=True),
        sa.Column("callback_agent", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("campaign", "id", name="pk_campaign_leads"),
    )
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.String(96), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("lead_id", sa.String(128), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("reserved_for", sa.String(64), nullable=True),
        sa.Column("dialed_at", UTC_TIME, nullable=False),
        sa.Column("ringing_at", UTC_TIME, nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("amd", sa.String(16), nullable=True),
        sa.Column("amd_duration", sa.Float(), nullable=True),
        sa.Column("person_at", UTC_TIME, nullable=True),
        sa.Column("connected_at", UTC_TIME, nullable=True),
        sa.Column("connect_wait", sa.Float(), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.Column("result", sa.String(24), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("coded_at", UTC_TIME, nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("info_message", sa.Boolean(), nullable=False),
        sa.Column("hangup_by", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_attempts"),
    )
    op.create_index("ix_campaign_attempts_campaign_dialed_at", "campaign_attempts", ["campaign", "dialed_at"])
    op.create_index("ix_campaign_attempts_agent_id", "campaign_attempts", ["agent_id"])
    op.create_table(
        "campaign_callbacks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("lead_id", sa.String(128), nullable=False),
        sa.Column("callback_at", UTC_TIME, nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("booked_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_callbacks"),
    )
    op.create_index("ix_campaign_callbacks_campaign_lead", "campaign_callbacks", ["campaign", "lead_id"])
    op.create_table(
        "campaign_refusals",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("lead_id", sa.String(128), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("next_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_refusals"),
    )
    op.create_index("ix_campaign_refusals_campaign_at", "campaign_refusals", ["campaign", "at"])
    op.create_table(
        "dnc_numbers",
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("added_at", UTC_TIME, nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("scope", "number", name="pk_dnc_numbers"),
    )


def downgrade() -> None:
    for table in (
        "dnc_numbers",
        "campaign_refusals",
        "campaign_callbacks",
        "campaign_attempts",
        "campaign_leads",
        "campaign_lists",
        "campaigns",
    ):
        op.drop_table(table)
