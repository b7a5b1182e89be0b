"""risk and strategy: the scorecard's probability of default and the strategy that ranks each account

Both are derived (kept with the priority by the service); NULL until an account
is next ranked. Added in place, so the search triggers of 0002 stay on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 16:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("risk", sa.Float(), nullable=True))
    op.add_column("accounts", sa.Column("strategy", sa.String(length=32), nullable=True))
    # Rank every account afresh (the background loop and the worklist do it for lapsed answers).
    op.execute("UPDATE accounts SET recheck_at = '1970-01-01 00:00:00'" if op.get_bind().dialect.name == "sqlite"
               else "UPDATE accounts SET recheck_at = '1970-01-01 00:00:00+00'")


def downgrade() -> None:
    op.drop_column("accounts", "strategy")
    op.drop_column("accounts", "risk")
