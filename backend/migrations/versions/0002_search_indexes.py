"""search and lease indexes: substring search and leases without a scan

The worklist's search (``q``) matches a customer's name or an account reference
anywhere, in any case. A rare match used to walk every account of the caller
(hundreds of milliseconds at 100,000 accounts); these indexes find the matches
directly:

- SQLite: ``account_search``, an FTS5 table with the trigram tokenizer (substring
  phrase queries, Unicode case folding), kept in step with accounts and
  customers by triggers, so bulk inserts are indexed too;
- PostgreSQL: ``accounts.search_text`` (the reference and the customer's name,
  kept by triggers, not part of the ORM model) with a trigram GIN index (pg_trgm),
  which ILIKE '%…%' uses together with the account's other conditions (indexes
  on two tables joined could not be: the planner scanned every account to join them);
- both: an index on ``accounts.card_last4`` for searches by card, and a partial
  index on ``accounts.lease_user_id`` (leased rows only): leasing the next
  account lets go of the caller's other leases, which scanned every account.

Where the database cannot have them (SQLite without FTS5 or older than 3.34,
PostgreSQL without pg_trgm or the right to create it), the search still works,
by scanning.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:30:00
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

SQLITE_TRIGGERS = {
    "account_search_insert": """
        CREATE TRIGGER account_search_insert AFTER INSERT ON accounts BEGIN
            INSERT INTO account_search(rowid, account_ref, name)
            SELECT NEW.id, NEW.account_ref, customers.name FROM customers WHERE customers.id = NEW.customer_id;
        END""",
    "account_search_update": """
        CREATE TRIGGER account_search_update AFTER UPDATE OF account_ref, customer_id ON accounts BEGIN
            DELETE FROM account_search WHERE rowid = OLD.id;
            INSERT INTO account_search(rowid, account_ref, name)
            SELECT NEW.id, NEW.account_ref, customers.name FROM customers WHERE customers.id = NEW.customer_id;
        END""",
    "account_search_delete": """
        CREATE TRIGGER account_search_delete AFTER DELETE ON accounts BEGIN
            DELETE FROM account_search WHERE rowid = OLD.id;
        END""",
    "account_search_rename": """
        CREATE TRIGGER account_search_rename AFTER UPDATE OF name ON customers BEGIN
            UPDATE account_search SET name = NEW.name
            WHERE rowid IN (SELECT id FROM accounts WHERE customer_id = NEW.id);
        END""",
}


POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION accounts_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           NEW.search_text := NEW.account_ref || ' ' ||
               COALESCE((SELECT name FROM customers WHERE customers.id = NEW.customer_id), '');
           RETURN NEW;
       END $$""",
    """CREATE TRIGGER accounts_search_text BEFORE INSERT OR UPDATE OF account_ref, customer_id ON accounts
       FOR EACH ROW EXECUTE FUNCTION accounts_search_text()""",
    """CREATE FUNCTION customers_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           UPDATE accounts SET search_text = account_ref || ' ' || NEW.name WHERE customer_id = NEW.id;
           RETURN NULL;
       END $$""",
    """CREATE TRIGGER customers_search_text AFTER UPDATE OF name ON customers
       FOR EACH ROW EXECUTE FUNCTION customers_search_text()""",
]


def _sqlite_can_search(bind: sa.Connection) -> bool:
    version = tuple(int(p) for p in bind.exec_driver_sql("SELECT sqlite_version()").scalar().split("."))
    fts5 = bind.exec_driver_sql("SELECT sqlite_compileoption_used('ENABLE_FTS5')").scalar()
    return version >= (3, 34, 0) and bool(fts5)


def _postgresql_can_search(bind: sa.Connection) -> bool:
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").scalar()
    if not available:
        return False
    installed = bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").scalar()
    allowed = bind.exec_driver_sql(
        "SELECT rolsuper OR has_database_privilege(current_database(), 'CREATE') FROM pg_roles WHERE rolname = current_user"
    ).scalar()
    return bool(installed or allowed)


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_card_last4", ["card_last4"], unique=False)
        batch_op.create_index("ix_accounts_lease_user", ["lease_user_id"], unique=False,
                              sqlite_where=sa.text("lease_user_id IS NOT NULL"),
                              postgresql_where=sa.text("lease_user_id IS NOT NULL"))
    if bind.dialect.name == "sqlite":
        if not _sqlite_can_search(bind):
            log.warning("SQLite has no FTS5 trigram tokenizer: worklist search will scan")
            return
        op.execute("CREATE VIRTUAL TABLE account_search USING fts5(account_ref, name, tokenize='trigram')")
        op.execute("INSERT INTO account_search(rowid, account_ref, name) "
                   "SELECT accounts.id, accounts.account_ref, customers.name FROM accounts "
                   "JOIN customers ON customers.id = accounts.customer_id")
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    elif bind.dialect.name == "postgresql":
        if not _postgresql_can_search(bind):
            log.warning("PostgreSQL has no pg_trgm (or no right to create it): worklist search will scan")
            return
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("ALTER TABLE accounts ADD COLUMN search_text text")
        for ddl in POSTGRESQL_TRIGGERS:
            op.execute(ddl)
        op.execute("UPDATE accounts SET search_text = accounts.account_ref || ' ' || customers.name "
                   "FROM customers WHERE customers.id = accounts.customer_id")
        op.execute("CREATE INDEX ix_accounts_search_trgm ON accounts USING gin (search_text gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS account_search")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_accounts_search_trgm")
        op.execute("DROP TRIGGER IF EXISTS customers_search_text ON customers")
        op.execute("DROP TRIGGER IF EXISTS accounts_search_text ON accounts")
        op.execute("DROP FUNCTION IF EXISTS customers_search_text()")
        op.execute("DROP FUNCTION IF EXISTS accounts_search_text()")
        op.execute("ALTER TABLE accounts DROP COLUMN IF EXISTS search_text")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_lease_user")
        batch_op.drop_index("ix_accounts_card_last4")
