"""customers: timezone_source, where the zone on record came from

``record`` (the bank's zone: one place the customer could be, among the phones'
and the address's) or ``customer`` (a zone the customer confirmed, which
overrides them; SPEC §4's call window). Existing customers keep ``record``.

The column is added in place with its check constraint inline (no table
rebuild), so the search triggers of 0002 on ``customers`` stay as they are on
SQLite. Dropping the column drops its own constraint with it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column(
        "timezone_source", sa.String(length=16),
        sa.CheckConstraint("timezone_source IN ('record', 'customer')", name=op.f("ck_customers_timezone_source")),
        nullable=False, server_default="record",
    ))


def downgrade() -> None:
    op.drop_column("customers", "timezone_source")
