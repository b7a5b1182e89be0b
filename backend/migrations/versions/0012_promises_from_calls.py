"""plans.contact_id: a promise to pay made on a call is a tracked plan

Logging RPC + PTP makes a ``promise`` plan in the same transaction as the contact
(issue 14); ``contact_id`` names that call (unique: one call, one promise), so the
timeline and the account show which call made it.

Promises logged before this revision lived only on their contacts. The newest
PTP of each account that has no open plan becomes an ``active`` promise now, made
by the agent of that call and dated as the call; the next sweep marks it kept or
broken from the payments as any plan.

The column is added in place (no table rebuild: the partial unique index of open
plans stays as it is on SQLite).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 20:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # SQLite adds a column with its reference in place (Alembic would rebuild the table).
        op.execute("ALTER TABLE plans ADD COLUMN contact_id INTEGER "
                   "CONSTRAINT fk_plans_contact_id_contacts REFERENCES contacts (id)")
    else:
        op.add_column("plans", sa.Column(
            "contact_id", sa.Integer(), sa.ForeignKey("contacts.id", name=op.f("fk_plans_contact_id_contacts")),
            nullable=True))
    op.create_index("uq_plans_contact_id", "plans", ["contact_id"], unique=True)
    plans = sa.table(
        "plans", sa.column("id", sa.Integer), sa.column("account_id", sa.Integer), sa.column("team_id", sa.Integer),
        sa.column("kind", sa.String), sa.column("status", sa.String), sa.column("currency", sa.String),
        sa.column("frequency", sa.String), sa.column("total_minor", sa.BigInteger),
        sa.column("discount_minor", sa.BigInteger), sa.column("fee_minor", sa.BigInteger),
        sa.column("interest_minor", sa.BigInteger), sa.column("balance_at_draft_minor", sa.BigInteger),
        sa.column("breaches", sa.JSON), sa.column("note", sa.String), sa.column("decision_note", sa.String),
        sa.column("created_by_id", sa.Integer), sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()), sa.column("version", sa.Integer), sa.column("contact_id", sa.Integer))
    items = sa.table("plan_items", sa.column("plan_id", sa.Integer), sa.column("seq", sa.Integer),
                     sa.column("due", sa.Date), sa.column("amount_minor", sa.BigInteger),
                     sa.column("paid_minor", sa.BigInteger), sa.column("status", sa.String))
    events = sa.table("plan_events", sa.column("plan_id", sa.Integer), sa.column("account_id", sa.Integer),
                      sa.column("status", sa.String), sa.column("actor_id", sa.Integer), sa.column("note", sa.String),
                      sa.column("at", UTCDateTime()))
    found = conn.execute(sa.text("""
        SELECT c.id, c.account_id, c.agent_id, c.ptp_amount_minor, c.ptp_date, c.started_at,
               a.team_id, a.currency, a.balance_minor
        FROM contacts c JOIN accounts a ON a.id = c.account_id
        WHERE c.result = 'PTP' AND c.party = 'RPC' AND c.ptp_amount_minor > 0 AND c.ptp_date IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM contacts n WHERE n.account_id = c.account_id AND n.result = 'PTP'
                          AND (n.started_at > c.started_at OR (n.started_at = c.started_at AND n.id > c.id)))
          AND NOT EXISTS (SELECT 1 FROM plans p WHERE p.account_id = c.account_id
                          AND p.status IN ('draft', 'pending', 'active'))
    """).columns(started_at=UTCDateTime(), ptp_date=sa.Date())).all()
    for contact_id, account_id, agent_id, amount, due, started, team_id, currency, balance in found:
        at = started
        plan_id = conn.execute(sa.insert(plans).values(
            account_id=account_id, team_id=team_id, kind="promise", status="active", currency=currency,
            frequency="monthly", total_minor=amount, discount_minor=0, fee_minor=0, interest_minor=0,
            balance_at_draft_minor=balance, breaches=[], note="", decision_note="", created_by_id=agent_id,
            created_at=at, updated_at=at, version=1, contact_id=contact_id,
        ).returning(plans.c.id)).scalar_one()
        conn.execute(sa.insert(items).values(plan_id=plan_id, seq=1, due=due, amount_minor=amount, paid_minor=0,
                                             status="due"))
        conn.execute(sa.insert(events).values(plan_id=plan_id, account_id=account_id, status="active",
                                              actor_id=agent_id, note="", at=at))


def downgrade() -> None:
    conn = op.get_bind()
    made = "SELECT id FROM plans WHERE contact_id IS NOT NULL"
    conn.execute(sa.text(f"DELETE FROM plan_events WHERE plan_id IN ({made})"))
    conn.execute(sa.text(f"DELETE FROM plan_items WHERE plan_id IN ({made})"))
    conn.execute(sa.text("DELETE FROM plans WHERE contact_id IS NOT NULL"))
    op.drop_index("uq_plans_contact_id", table_name="plans")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("contact_id")
