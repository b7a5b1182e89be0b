"""api_tokens.last_used_at and login_throttle: idle sessions end, failed sign-ins slow down

Issue 15 item 3 (the front door). A token records when it last signed a request,
so that one left idle past ``session_idle_minutes`` is refused; ``login_throttle``
counts failed sign-ins per user name and per client address, and says until when
the next attempt must wait. Tokens made before this migration count as used at
their next request. The column is added in place (no table rebuild).

Numbered 0015 because main's 0014 (flag notes) was made beside it: merged with
it, this revision's ``down_revision`` becomes "0014".

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 22:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("last_used_at", UTCDateTime(), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
        sa.UniqueConstraint("kind", "key", name="uq_login_throttle_kind_key"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
