"""contact state: whether each account may be phoned now, kept beside its priority

The worklist ranks contactable accounts first (SPEC §5), and must not run the
compliance engine over a whole portfolio to do so. Each account keeps the
engine's answer for the phone: ``contactable``, ``next_contact_at`` (when it
becomes lawful, NULL when only a change of record will do), ``contact_blocks``
(the rules that block it, with their ``until``) and ``recheck_at``, the instant
until which that answer holds. The backend re-evaluates accounts whose
``recheck_at`` has passed (an index finds them) and folds the answer into the
priority. Existing rows start due (the epoch), so the first sweep fills them.

The columns are added in place (no table rebuild), so the search triggers of
0002 stay as they are on SQLite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 15:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EPOCH = "1970-01-01 00:00:00"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("contactable", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("accounts", sa.Column("next_contact_at", UTCDateTime(), nullable=True))
    op.add_column("accounts", sa.Column("contact_blocks", sa.JSON(), nullable=True))
    bind = op.get_bind()
    epoch = sa.text("'1970-01-01 00:00:00+00'") if bind.dialect.name == "postgresql" else sa.text(f"'{EPOCH}'")
    op.add_column("accounts", sa.Column("recheck_at", UTCDateTime(), nullable=False, server_default=epoch))
    op.create_index("ix_accounts_recheck_at", "accounts", ["recheck_at"])


def downgrade() -> None:
    op.drop_index("ix_accounts_recheck_at", table_name="accounts")
    for column in ("recheck_at", "contact_blocks", "next_contact_at", "contactable"):
        op.drop_column("accounts", column)
