"""segments: supervisors' saved, named filters over the portfolio and their assignment

A segment covers one team's accounts (or, for an admin, every team's) by bucket,
balance band (minor units in one currency), risk and priority bands and a DPD
range, and names where its accounts go: an agent, or a team's pool. Bands are
checked (min ≤ max) by named constraints; a name is unique within a team.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("buckets", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("min_balance_minor", sa.BigInteger(), nullable=True),
        sa.Column("max_balance_minor", sa.BigInteger(), nullable=True),
        sa.Column("min_risk", sa.Float(), nullable=True),
        sa.Column("max_risk", sa.Float(), nullable=True),
        sa.Column("min_priority", sa.Float(), nullable=True),
        sa.Column("max_priority", sa.Float(), nullable=True),
        sa.Column("min_dpd", sa.Integer(), nullable=True),
        sa.Column("max_dpd", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("queue_team_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "min_balance_minor IS NULL OR max_balance_minor IS NULL OR min_balance_minor <= max_balance_minor",
            name=op.f("ck_segments_balance_band")),
        sa.CheckConstraint("(min_balance_minor IS NULL AND max_balance_minor IS NULL) OR currency IS NOT NULL",
                           name=op.f("ck_segments_balance_currency")),
        sa.CheckConstraint("min_risk IS NULL OR max_risk IS NULL OR min_risk <= max_risk",
                           name=op.f("ck_segments_risk_band")),
        sa.CheckConstraint("min_priority IS NULL OR max_priority IS NULL OR min_priority <= max_priority",
                           name=op.f("ck_segments_priority_band")),
        sa.CheckConstraint("min_dpd IS NULL OR max_dpd IS NULL OR min_dpd <= max_dpd",
                           name=op.f("ck_segments_dpd_band")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_segments_team_id_teams")),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_segments_agent_id_users")),
        sa.ForeignKeyConstraint(["queue_team_id"], ["teams.id"], name=op.f("fk_segments_queue_team_id_teams")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_segments_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("team_id", "name", name=op.f("uq_segments_team_name")),
    )
    op.create_index("ix_segments_team_id", "segments", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_segments_team_id", table_name="segments")
    op.drop_table("segments")
