"""SQLAlchemy 2 models. Alembic migrations (backend/migrations) are the only
way the schema is made; these declare it for the ORM and for autogenerate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from backend.domain.priority import WhyData

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores UTC; always answers a zone-aware UTC datetime. Naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class MaskedText(TypeDecorator):
    """Free text that may hold what a person typed or pasted: any card number in it is cut
    to its BIN and last four digits before it is stored (SPEC §4, issue 15), whichever
    service, import or script writes it. A ``TEXT``; ``MaskedString(200)`` is the
    ``VARCHAR(200)`` kind. Comparisons mask their value alike, so a lookup by what was
    typed finds what was stored."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if isinstance(value, str):
            from backend.domain.accounts import mask_card_numbers

            return mask_card_numbers(value)
        return value


class MaskedString(MaskedText):
    impl = String
    cache_ok = True


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EPOCH_SQL = "1970-01-01 00:00:00"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team | None] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """The absolute end (``token_ttl_hours`` after the sign-in)."""
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """Signed out, or the user's password was changed."""
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """The last request it signed (to ``session_touch_seconds``): idle past ``session_idle_minutes``, it is refused."""

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed sign-ins of one user name (``kind`` ``name``, as typed) or one client address
    (``address``; an IPv6 client's /64), and until when the next attempt must wait."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_login_throttle_kind_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(MaskedString(200))  # a user name as typed: masked like any free text
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Passwords known to be wrong since the count was last cleared (an attempt still being
    checked, or cut off before its answer, is not one)."""
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    checking: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Attempts whose password is being checked now (migration 0017): no more are let in at
    once than failures the count may still take before its back-off."""
    checking_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """When the latest of them began: a count older than ``login_checking_stale_seconds`` is
    of attempts cut off (a backend killed, a client gone) and is dropped."""


class BackgroundJob(Base):
    """A background job of the backend (the contactability re-check, the daily sweep) and
    which server process runs it: the one holding its lease, renewed at each of its rounds,
    taken over by another once it has lapsed (its holder died). With several workers or hosts
    on one database, each job runs in one of them (issue 19 item 3)."""

    __tablename__ = "background_jobs"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    """``host:pid:random`` of the process (app) holding the lease."""
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("timezone_source IN ('record', 'customer')", name="timezone_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(MaskedString(200))
    email: Mapped[str | None] = mapped_column(MaskedString(254))
    timezone: Mapped[str | None] = mapped_column(String(64))
    timezone_source: Mapped[str] = mapped_column(String(16), default="record", server_default="record")
    """``record`` (the bank's zone, one place among the phones' and the address's) or
    ``customer`` (a zone the customer confirmed, which overrides them; migration 0010)."""
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    phones: Mapped[list[Phone]] = relationship(
        back_populates="customer", order_by="Phone.position", cascade="all, delete-orphan", lazy="selectin"
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", order_by="Address.id", cascade="all, delete-orphan", lazy="selectin"
    )


class Phone(Base):
    __tablename__ = "phones"
    __table_args__ = (UniqueConstraint("customer_id", "number", name="uq_phones_customer_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="mobile")
    position: Mapped[int] = mapped_column(Integer, default=0)
    region: Mapped[str | None] = mapped_column(String(2))
    timezones: Mapped[list[str]] = mapped_column(JSON, default=list)
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="phones")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(MaskedString(500))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(10))

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        Index("ix_accounts_agent_priority", "agent_id", "priority", "id"),
        Index("ix_accounts_team_priority", "team_id", "priority", "id"),
        Index("ix_accounts_priority", "priority", "id"),
        Index("ix_accounts_card_last4", "card_last4"),
        Index("ix_accounts_recheck_at", "recheck_at"),
        # Only leased accounts: letting go of one's leases must not scan every account.
        Index("ix_accounts_lease_user", "lease_user_id", sqlite_where=sql_text("lease_user_id IS NOT NULL"),
              postgresql_where=sql_text("lease_user_id IS NOT NULL")),
        # Migration 0002 adds search indexes the ORM does not model: trigram GIN
        # indexes on PostgreSQL, the FTS5 table account_search on SQLite.
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_ref: Mapped[str] = mapped_column(MaskedString(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    card_bin: Mapped[str] = mapped_column(String(6), default="")
    card_last4: Mapped[str] = mapped_column(String(4))
    credit_limit_minor: Mapped[int] = mapped_column(BigInteger)
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    overdue_minor: Mapped[int] = mapped_column(BigInteger)
    minimum_due_minor: Mapped[int] = mapped_column(BigInteger)
    dpd: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))  # indexed by ix_accounts_team_priority (0009)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[WhyData]] = mapped_column(JSON, default=list)
    """The priority's reasons, strongest first (``backend.domain.priority.Why.as_dict``)."""
    contactable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The compliance engine's answer for a phone call, as of the last evaluation (migration 0003)."""
    next_contact_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    contact_blocks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    recheck_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=lambda: EPOCH, server_default=EPOCH_SQL)
    """Until when ``contactable`` holds; past it, the account is evaluated again."""
    risk: Mapped[float | None] = mapped_column(Float)
    """The scorecard's probability of default next month, from ``history`` (None without one; migration 0005)."""
    strategy: Mapped[str | None] = mapped_column(String(32))
    """The worklist strategy that ranks the account (champion or challenger)."""
    history: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Statement history (limits, balances, payments, months late) behind the score."""
    lease_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(lazy="joined")
    team: Mapped[Team] = relationship(lazy="joined")
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_account_started", "account_id", "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(8))
    party: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(4))
    result: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(MaskedText(), default="")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    logged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    ptp_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    ptp_date: Mapped[dt.date | None] = mapped_column(Date)
    callback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    used: Mapped[str | None] = mapped_column(MaskedString(254))
    identity_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    disclosure_given: Mapped[bool] = mapped_column(Boolean, default=False)
    after_the_fact: Mapped[bool] = mapped_column(Boolean, default=False)
    breach: Mapped[bool] = mapped_column(Boolean, default=False)
    breach_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    """A letter sent (issue 14): the PDF as it went out; None for other contacts."""

    agent: Mapped[User] = relationship(lazy="joined")
    promise: Mapped[Plan | None] = relationship(
        primaryjoin="Plan.contact_id == Contact.id", foreign_keys="Plan.contact_id", viewonly=True, uselist=False,
        lazy="selectin")
    """The tracked promise an RPC + PTP made (issue 14); None for other contacts."""
    promise_note = ""
    """Why a PTP on this contact is not tracked as a promise, for the answer to the call that logged it (not stored)."""


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (CheckConstraint("visibility IN ('team', 'shared')", name="visibility"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(MaskedText())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    visibility: Mapped[str] = mapped_column(String(8), default="team", server_default="team")
    """``team``: the owning team's; ``shared``: other teams (customer service, sales) may read it (migration 0008)."""

    author: Mapped[User] = relationship(lazy="joined")


class AuditEntry(Base):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "route", "key", name="uq_idempotency_keys_user_route_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    route: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(128))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The SHA-256 of the request that was answered (``services.idempotency.fingerprint``);
    None on rows kept before it was recorded."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


OPEN_PLAN_STATUSES = ("draft", "pending", "active")


class Plan(Base):
    """A repayment plan (SPEC §3): draft → pending → active → kept | broken | cancelled (or rejected)."""

    __tablename__ = "plans"
    __table_args__ = (
        # Only one open plan per account: a second is refused 409 (the index is the last word in a race).
        Index("uq_plans_open_account", "account_id", unique=True,
              sqlite_where=sql_text("status IN ('draft', 'pending', 'active')"),
              postgresql_where=sql_text("status IN ('draft', 'pending', 'active')")),
        Index("ix_plans_status_team", "status", "team_id"),
        # A call makes at most one promise (a replayed PTP answers the first).
        Index("uq_plans_contact_id", "contact_id", unique=True),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    frequency: Mapped[str] = mapped_column(String(16), default="monthly")
    total_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_at_draft_minor: Mapped[int] = mapped_column(BigInteger)
    breaches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(MaskedText(), default="")
    decision_note: Mapped[str] = mapped_column(MaskedText(), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    """The call whose promise to pay this is (a ``promise`` made by RPC + PTP); None for plans drafted as such."""

    account: Mapped[Account] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
    items: Mapped[list[PlanItem]] = relationship(order_by="PlanItem.seq", lazy="selectin", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class PlanItem(Base):
    __tablename__ = "plan_items"
    __table_args__ = (UniqueConstraint("plan_id", "seq", name="uq_plan_items_plan_seq"),
                      Index("ix_plan_items_status_due", "status", "due"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    seq: Mapped[int] = mapped_column(Integer)
    due: Mapped[dt.date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="due")


class PlanEvent(Base):
    """A plan's status change, for the timeline."""

    __tablename__ = "plan_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(MaskedText(), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Payment(Base):
    """A payment from the bank's feed; ``bank_ref`` makes it idempotent."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_ref: Mapped[str] = mapped_column(MaskedString(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    allocations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    unallocated_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(lazy="joined")


# -- escalations and documents (issue 5; migration 0006) ---------------------------

from sqlalchemy import LargeBinary  # noqa: E402  (kept with the models that use it)

ACTIVE_ESCALATION_STATUSES = ("open", "in_review")


class Escalation(Base):
    """An account moved on (SPEC §3): open → in_review → accepted | returned → closed.
    ``queue`` is the role that decides it (``legal`` or ``supervisor``, by kind)."""

    __tablename__ = "escalations"
    __table_args__ = (
        # One undecided escalation of a kind per account: a second is refused 409.
        Index("uq_escalations_active_account_kind", "account_id", "kind", unique=True,
              sqlite_where=sql_text("status IN ('open', 'in_review')"),
              postgresql_where=sql_text("status IN ('open', 'in_review')")),
        Index("ix_escalations_queue_status", "queue", "status", "team_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    queue: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(MaskedString(200))
    note: Mapped[str] = mapped_column(MaskedText(), default="")
    decision_note: Mapped[str] = mapped_column(MaskedText(), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")


class EscalationEvent(Base):
    """An escalation's status change, for the timeline."""

    __tablename__ = "escalation_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(MaskedText(), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Document(Base):
    """A generated document (demand letter, statement of account, contact history,
    plan history), stored as made: the bytes sent are the bytes kept."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_account_kind", "account_id", "kind", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    format: Mapped[str] = mapped_column(String(4))
    lang: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship(lazy="joined")


class LetterRun(Base):
    """A supervisor's batch of letters for a segment (issue 14): each letter is a contact
    with its own document; the run keeps the one print file of all of them, in order."""

    __tablename__ = "letter_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(Integer, index=True)
    """The segment as it was run (a record: the segment may change or go later, so no reference)."""
    segment_name: Mapped[str] = mapped_column(MaskedString(80))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    kind: Mapped[str] = mapped_column(String(24))
    sent: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Per account of the segment: the contact and document made, or why it was skipped."""
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The print file (every letter's PDF, one after another); None when none was sent."""
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User] = relationship(lazy="joined")


# -- segments (issue 6 item 4; migration 0007) -------------------------------------


class Segment(Base):
    """A supervisor's saved, named filter over the portfolio, and where its accounts go.

    ``team_id`` is the team whose accounts it covers (None: every team, admins only);
    the bands are inclusive, any end may be open. ``agent_id``/``queue_team_id`` are
    the assignment: an agent, or a team's pool (the queue)."""

    __tablename__ = "segments"
    __table_args__ = (
        UniqueConstraint("team_id", "name", name="uq_segments_team_name"),
        CheckConstraint("min_balance_minor IS NULL OR max_balance_minor IS NULL OR min_balance_minor <= max_balance_minor",
                        name="balance_band"),
        CheckConstraint("(min_balance_minor IS NULL AND max_balance_minor IS NULL) OR currency IS NOT NULL",
                        name="balance_currency"),
        CheckConstraint("min_risk IS NULL OR max_risk IS NULL OR min_risk <= max_risk", name="risk_band"),
        CheckConstraint("min_priority IS NULL OR max_priority IS NULL OR min_priority <= max_priority",
                        name="priority_band"),
        CheckConstraint("min_dpd IS NULL OR max_dpd IS NULL OR min_dpd <= max_dpd", name="dpd_band"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(MaskedString(80))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    buckets: Mapped[list[str]] = mapped_column(JSON, default=list)
    currency: Mapped[str | None] = mapped_column(String(3))
    min_balance_minor: Mapped[int | None] = mapped_column(BigInteger)
    max_balance_minor: Mapped[int | None] = mapped_column(BigInteger)
    min_risk: Mapped[float | None] = mapped_column(Float)
    max_risk: Mapped[float | None] = mapped_column(Float)
    min_priority: Mapped[float | None] = mapped_column(Float)
    max_priority: Mapped[float | None] = mapped_column(Float)
    min_dpd: Mapped[int | None] = mapped_column(Integer)
    max_dpd: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    queue_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    note: Mapped[str] = mapped_column(MaskedText(), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id], lazy="joined")
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id], lazy="joined")
    queue_team: Mapped[Team | None] = relationship(foreign_keys=[queue_team_id], lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")


# -- handoffs (issue 5 item 4; migration 0008) --------------------------------------


class Handoff(Base):
    """An account handed to another agent or team, with a note, for the timeline."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_account_at", "account_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    from_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(MaskedText())
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    from_team: Mapped[Team] = relationship(foreign_keys=[from_team_id], lazy="joined")
    to_team: Mapped[Team] = relationship(foreign_keys=[to_team_id], lazy="joined")
    from_agent: Mapped[User | None] = relationship(foreign_keys=[from_agent_id], lazy="joined")
    to_agent: Mapped[User | None] = relationship(foreign_keys=[to_agent_id], lazy="joined")
    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="joined")


class FlagPeriod(Base):
    """A flag or pause in force on an account from ``started_at`` until ``ended_at``
    (None: still in force), and who set and lifted it: a contact is judged by the
    flags in force when it was made (SPEC §4). ``channel`` names a cease's channel;
    ``legal`` is the hold of an account accepted for legal proceedings."""

    __tablename__ = "flag_periods"
    __table_args__ = (Index("ix_flag_periods_account_started", "account_id", "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    flag: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    set_note: Mapped[str] = mapped_column(MaskedText(), default="", server_default="")
    """Why it was set (optional: the customer said so, a letter came)."""
    ended_note: Mapped[str | None] = mapped_column(MaskedText())
    """Why it was lifted: required (issue 15), shown on the timeline with who lifted it."""

    set_by: Mapped[User | None] = relationship(foreign_keys=[set_by_id], lazy="joined")
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id], lazy="joined")


class TreatmentSend(Base):
    """One step of a treatment path for one account in one delinquency cycle (issue 20):
    found due, then sent, waiting for a lawful minute, retried, skipped or failed. ``key``
    (account, step, cycle) is unique: a step is sent at most once a cycle, whatever runs
    or workers find it due again."""

    __tablename__ = "treatment_sends"
    __table_args__ = (
        UniqueConstraint("key", name="uq_treatment_sends_key"),
        CheckConstraint("status IN ('pending', 'waiting', 'sending', 'sent', 'failed', 'skipped', 'unknown')",
                        name="status"),
        CheckConstraint("channel IN ('email', 'sms', 'letter')", name="channel"),
        Index("ix_treatment_sends_status_next", "status", "next_attempt_at"),
        Index("ix_treatment_sends_account_cycle", "account_id", "cycle_on"),
        Index("ix_treatment_sends_due_on", "due_on"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    """``{account id}:{step id}:{cycle's first day}``: the idempotency key the channel is given too."""
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    strategy: Mapped[str] = mapped_column(String(32))
    step_id: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(String(60))
    cycle_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    """The day it was first found due."""
    status: Mapped[str] = mapped_column(String(8), default="pending")
    """``pending`` (to send), ``waiting`` (not lawful now: ``next_attempt_at`` is the next lawful
    minute), ``sending`` (handed to the channel), ``sent``, ``failed`` (for good, or retries spent),
    ``skipped`` (never lawful, or nothing to send to: ``rule`` and ``reason`` say why), ``unknown``
    (the process stopped while sending: never sent again, so never twice)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rule: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(MaskedText(), default="")
    to: Mapped[str | None] = mapped_column(MaskedString(254))
    """The address, number or postal address it went to."""
    lang: Mapped[str | None] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(MaskedText(), default="")
    """What was sent (the SMS, the e-mail's subject and text); a letter's is its document."""
    provider_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    """The channel's id of the message (the gateway's), by which receipts come back."""
    delivery: Mapped[str | None] = mapped_column(String(12))
    """What a receipt said: ``delivered``, ``failed``, ``expired``; None before one came."""
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("treatment_runs.id"))
    """The run that sent it (the one whose print file holds a letter)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TreatmentRun(Base):
    """One run of the treatments (the scheduler's or ``collectdesk treat``'s): what it found
    due and did, and the print file of the letters it made."""

    __tablename__ = "treatment_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    """True when this run looked for steps due on ``as_of`` (the first run of the day does)."""
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Channels found broken (their settings, login, certificate): left for the next run."""
    print_file: Mapped[bytes | None] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    letters: Mapped[int] = mapped_column(Integer, default=0)


class TreatmentPause(Base):
    """A step a supervisor paused: nothing more is sent for it until it is resumed."""

    __tablename__ = "treatment_pauses"
    strategy: Mapped[str] = mapped_column(String(32), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    paused_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    paused_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(MaskedText(), default="")

    paused_by: Mapped[User] = relationship(lazy="joined")


class InboundSeen(Base):
    """A signed webhook request already taken (its signature's digest): the same request
    again is a replay and refused (issue 20)."""

    __tablename__ = "inbound_seen"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


def _mask_on_set(target: Any, value: Any, oldvalue: Any, initiator: Any) -> Any:
    if isinstance(value, str):
        from backend.domain.accounts import mask_card_numbers

        return mask_card_numbers(value)
    return value


def _mask_free_text_on_assignment() -> None:
    """A free-text attribute is masked as it is set, so the object a service answers with
    holds what the database will (the column type masks Core statements too)."""
    from sqlalchemy import event

    for mapper in Base.registry.mappers:
        for prop in mapper.column_attrs:
            if any(isinstance(c.type, MaskedText) for c in prop.columns):
                event.listen(getattr(mapper.class_, prop.key), "set", _mask_on_set, retval=True)


_mask_free_text_on_assignment()
