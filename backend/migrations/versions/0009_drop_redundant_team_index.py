"""accounts: drop ix_accounts_team_id, which ix_accounts_team_priority already serves

``ix_accounts_team_priority`` (team_id, priority, id) starts with ``team_id``, so
every lookup by team (a supervisor's worklist, the team's counts, the foreign
key's checks when a team goes) uses it; the single-column index was a second copy
of the same keys that every insert and every change of priority had to keep up
too. A portfolio rescore rewrites most accounts' priority: on PostgreSQL each such
update enters the new row in every index of ``accounts`` (issue 6).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:40:00
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Plain index statements, not a batch: on SQLite a batch may copy the table, and the
# copy would lose the search triggers of migration 0002.
def upgrade() -> None:
    op.drop_index("ix_accounts_team_id", table_name="accounts")


def downgrade() -> None:
    op.create_index("ix_accounts_team_id", "accounts", ["team_id"], unique=False)
