"""collaboration: notes other teams may read, and handoffs between agents and teams

``notes.visibility`` is ``team`` (the owning team's, as every note was before) or
``shared`` (customer service, sales and other teams may read it, with a minimal
account header). ``handoffs`` keeps each move of an account to another agent or
team with its note, for the timeline.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes") as batch:
        batch.add_column(sa.Column("visibility", sa.String(length=8), nullable=False, server_default="team"))
        batch.create_check_constraint(op.f("ck_notes_visibility"), "visibility IN ('team', 'shared')")
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("from_team_id", sa.Integer(), nullable=False),
        sa.Column("from_agent_id", sa.Integer(), nullable=True),
        sa.Column("to_team_id", sa.Integer(), nullable=False),
        sa.Column("to_agent_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_handoffs_account_id_accounts")),
        sa.ForeignKeyConstraint(["from_team_id"], ["teams.id"], name=op.f("fk_handoffs_from_team_id_teams")),
        sa.ForeignKeyConstraint(["from_agent_id"], ["users.id"], name=op.f("fk_handoffs_from_agent_id_users")),
        sa.ForeignKeyConstraint(["to_team_id"], ["teams.id"], name=op.f("fk_handoffs_to_team_id_teams")),
        sa.ForeignKeyConstraint(["to_agent_id"], ["users.id"], name=op.f("fk_handoffs_to_agent_id_users")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_handoffs_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    op.create_index("ix_handoffs_account_at", "handoffs", ["account_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_handoffs_account_at", table_name="handoffs")
    op.drop_table("handoffs")
    with op.batch_alter_table("notes") as batch:
        batch.drop_constraint(op.f("ck_notes_visibility"), type_="check")
        batch.drop_column("visibility")
