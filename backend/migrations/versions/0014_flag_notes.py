"""flag_periods.set_note and ended_note: why a flag was set or lifted

Lifting a flag needs a note (issue 15: a cease, a bankruptcy or a death lifted
only by those with the authority, saying why); setting one may carry one. Both
are shown on the timeline with who did it. Added in place.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 21:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flag_periods", sa.Column("set_note", sa.Text(), nullable=False, server_default=""))
    op.add_column("flag_periods", sa.Column("ended_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flag_periods") as batch:
        batch.drop_column("ended_note")
        batch.drop_column("set_note")
