"""contacts.document_id and letter_runs: letters sent from the desk

A demand letter sent from the desk (issue 14) is a ``letter`` contact whose
``document_id`` names the PDF as it went out; the legal referral's "demand letter
sent at least 14 days ago" counts those. A supervisor's batch of letters for a
segment is a ``letter_runs`` row holding the one print file of the run.

The column is added in place (no table rebuild).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 20:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE contacts ADD COLUMN document_id INTEGER "
                   "CONSTRAINT fk_contacts_document_id_documents REFERENCES documents (id)")
    else:
        op.add_column("contacts", sa.Column(
            "document_id", sa.Integer(), sa.ForeignKey("documents.id", name=op.f("fk_contacts_document_id_documents")),
            nullable=True))
    op.create_table(
        "letter_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("segment_name", sa.String(length=80), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_letter_runs_team_id_teams")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_letter_runs_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_runs")),
    )
    op.create_index(op.f("ix_letter_runs_segment_id"), "letter_runs", ["segment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_letter_runs_segment_id"), table_name="letter_runs")
    op.drop_table("letter_runs")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("document_id")
