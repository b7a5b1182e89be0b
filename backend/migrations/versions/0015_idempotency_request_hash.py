"""idempotency_keys.request_hash: the fingerprint of the request a key answered

The same ``Idempotency-Key`` with another request body is refused 422 (issue 15,
after the IETF draft "The Idempotency-Key HTTP Header Field"), so each key is kept
with the SHA-256 of the request it answered. Rows kept before have none and are
replayed as before until they expire (24 hours).

The column is added in place (no table rebuild).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("request_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("request_hash")
