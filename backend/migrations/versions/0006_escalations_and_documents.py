"""escalations and documents: referrals with their timeline, and the generated documents

One undecided (open or in review) escalation of a kind per account: a partial
unique index. Documents keep the bytes that were made, with their SHA-256.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('open', 'in_review')"


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_escalations_account_id_accounts")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_escalations_team_id_teams")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_escalations_created_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_escalations_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    op.create_index("ix_escalations_account_id", "escalations", ["account_id"])
    op.create_index("ix_escalations_queue_status", "escalations", ["queue", "status", "team_id"])
    op.create_index("uq_escalations_active_account_kind", "escalations", ["account_id", "kind"], unique=True,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name=op.f("fk_escalation_events_escalation_id_escalations")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_escalation_events_account_id_accounts")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_escalation_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_events")),
    )
    op.create_index("ix_escalation_events_escalation_id", "escalation_events", ["escalation_id"])
    op.create_index("ix_escalation_events_account_id", "escalation_events", ["account_id"])
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_documents_account_id_accounts")),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name=op.f("fk_documents_escalation_id_escalations")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index("ix_documents_escalation_id", "documents", ["escalation_id"])
    op.create_index("ix_documents_account_kind", "documents", ["account_id", "kind", "created_at"])


def downgrade() -> None:
    op.drop_table("documents")
    op.drop_table("escalation_events")
    op.drop_table("escalations")
