"""background_jobs: each background job run by one server process at a time

Issue 19 item 3. With ``collectdesk serve --workers N`` (or several hosts on one
PostgreSQL database) every worker ran the contactability re-check and the daily sweep
on its own timer. A job now runs only in the process holding its row's lease, which
that process renews at each round and another takes over once it has lapsed.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "background_jobs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_background_jobs")),
    )


def downgrade() -> None:
    op.drop_table("background_jobs")
