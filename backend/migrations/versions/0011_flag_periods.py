"""flag_periods: every flag and pause with when it took effect and when it ended

A contact is judged by the flags in force when it was made (SPEC §4): a call made
yesterday and logged after a cease arrived this morning is no breach. Each row is
one flag (``cease`` once per channel; ``legal`` for an account accepted for legal
proceedings) from ``started_at`` until ``ended_at``, with who set and lifted it.

The flags accounts already carry are copied in as in force since 1970-01-01
(when they were set was not kept): a back-dated contact is judged under them,
the stricter reading.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:40:00
"""
from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def upgrade() -> None:
    op.create_table(
        "flag_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_recorded_at", UTCDateTime(), nullable=False),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_recorded_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_flag_periods_account_id_accounts")),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"], name=op.f("fk_flag_periods_set_by_id_users")),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name=op.f("fk_flag_periods_ended_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_periods")),
    )
    op.create_index("ix_flag_periods_account_started", "flag_periods", ["account_id", "started_at"])
    conn = op.get_bind()
    table = sa.table("flag_periods", sa.column("account_id", sa.Integer), sa.column("flag", sa.String),
                     sa.column("channel", sa.String), sa.column("started_at", UTCDateTime()),
                     sa.column("set_recorded_at", UTCDateTime()))
    rows = []
    for account_id, flags, status in conn.execute(sa.text(
            "SELECT id, flags, status FROM accounts WHERE status = 'legal' OR CAST(flags AS TEXT) NOT IN ('{}', 'null')")):
        if isinstance(flags, str):
            flags = json.loads(flags or "null")
        for name, value in (flags or {}).items():
            if name == "cease":
                rows += [{"account_id": account_id, "flag": "cease", "channel": str(c)} for c in (value or [])]
            elif value:
                rows.append({"account_id": account_id, "flag": name, "channel": None})
        if status == "legal":
            rows.append({"account_id": account_id, "flag": "legal", "channel": None})
    for row in rows:
        row["started_at"] = row["set_recorded_at"] = EPOCH
    for i in range(0, len(rows), 5000):
        conn.execute(sa.insert(table), rows[i:i + 5000])


def downgrade() -> None:
    op.drop_index("ix_flag_periods_account_started", table_name="flag_periods")
    op.drop_table("flag_periods")
