"""login_throttle.checking: only passwords known to be wrong count as failures

Issue 15 item 3, mended. The throttle counted every attempt as a failure before
its password was checked (so that attempts at the same moment could not all slip
in), which made ten desks of one user signing in at once, or a sign-in cut off
by a backend killed mid-check, count as failures. ``checking`` counts the
attempts being checked now (and ``checking_since`` says when the latest began,
so that a count left by attempts cut off is dropped); ``failures`` counts only
wrong passwords. Columns added in place (no table rebuild); rows in flight at
the upgrade count as none.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 02:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("login_throttle", sa.Column("checking", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("login_throttle", sa.Column("checking_since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_throttle") as batch:
        batch.drop_column("checking_since")
        batch.drop_column("checking")
