"""Accounts: who may see them, creating them, reading, changing, ranking."""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
import weakref
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import table as sql_table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, object_session

from backend.domain.accounts import bucket_for, card_parts, mask_card
from backend.domain.errors import (
    Busy,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    not_found,
)
from backend.domain.zones import phone_region, phone_zones, valid_zone
from backend.models import Account, Address, Customer, FlagPeriod, Phone, Team, User, utcnow
from backend.services import audit, compliance
from backend.services.flags import load_authority as flag_authority
from backend.services.flags import set_flags
from backend.services.ranking import refresh_due, refresh_priority
from backend.services.users import get_or_create_team
from backend_client.models import (
    EARLIEST_OPENED_ON,
    AccountCreate,
    AccountDetail,
    AccountPatch,
    AccountStatus,
    AddressOut,
    Bucket,
    ComplianceBlock,
    CustomerOut,
    Flags,
    Money,
    PhoneOut,
    Why,
    WorklistItem,
    WorklistPage,
)
from backend_client.money import to_minor

ALL_SEEING = ("admin", "legal")
FLAG_NAMES = ("dispute", "bankruptcy", "deceased", "attorney", "complaint", "fraud", "hardship")
EARLIEST_OPENING = EARLIEST_OPENED_ON  # the wire's floor (backend_client.models)


# --------------------------------------------------------------------------
# Visibility


def visible(stmt: Select, user: User) -> Select:
    """Restrict a select over ``Account`` to what ``user`` may see (SPEC §5)."""
    if user.role in ALL_SEEING:
        return stmt
    if user.role in ("agent", "supervisor") and user.team_id is not None:
        return stmt.where(Account.team_id == user.team_id)
    return stmt.where(False)


def get_visible(session: Session, user: User, account_id: int, *, for_update: bool = False) -> Account:
    stmt = visible(select(Account).where(Account.id == account_id), user)
    if for_update and session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Account)
    account = session.scalar(stmt)
    if account is None:
        raise not_found()
    return account


# --------------------------------------------------------------------------
# Shapes


def money(amount_minor: int, currency: str) -> Money:
    return Money(amount_minor=amount_minor, currency=currency)


def flags_of(account: Account) -> Flags:
    return Flags.model_validate(account.flags or {})


def fresh(session: Session, account: Account, now: dt.datetime | None = None) -> Account:
    """The account with its phone answer evaluated again if it has lapsed."""
    now = now or utcnow()
    if account.recheck_at <= now:
        refresh_priority(session, account, now)
    return account


def legal_since(account: Account) -> dt.datetime | None:
    """When the legal hold now on the account began (its open ``legal`` flag period)."""
    session = object_session(account)
    if account.status != LEGAL_HOLD or session is None:
        return None
    return session.scalar(select(func.max(FlagPeriod.started_at)).where(
        FlagPeriod.account_id == account.id, FlagPeriod.flag == "legal", FlagPeriod.ended_at.is_(None)))


def detail(account: Account) -> AccountDetail:
    c = account.customer
    places = compliance.places_of(c)
    return AccountDetail(
        id=account.id,
        account_ref=account.account_ref,
        currency=account.currency,
        card=mask_card(account.card_last4),
        credit_limit=money(account.credit_limit_minor, account.currency),
        balance=money(account.balance_minor, account.currency),
        overdue=money(account.overdue_minor, account.currency),
        minimum_due=money(account.minimum_due_minor, account.currency),
        dpd=account.dpd,
        bucket=Bucket(account.bucket),
        status=AccountStatus(account.status),
        opened_on=account.opened_on,
        customer=CustomerOut(
            id=c.id,
            name=c.name,
            email=c.email,
            phones=[
                PhoneOut(id=p.id, number=p.number, kind=p.kind, is_primary=p.position == 0, timezones=p.timezones or [],
                         region=p.region, do_not_call=p.do_not_call)
                for p in c.phones
            ],
            addresses=[AddressOut(id=a.id, text=a.text, country=a.country, region=a.region) for a in c.addresses],
            timezone=c.timezone,
            timezone_source=c.timezone_source or "record",
            timezones=[p.zone for p in places],
            places=compliance.places_out(places),
            country=c.country,
            region=c.region,
            language=c.language,
        ),
        flags=flags_of(account),
        team=account.team.name if account.team else None,
        agent=account.agent.username if account.agent else None,
        priority=account.priority,
        reasons=[Why.model_validate(r) for r in account.reasons or []],
        contactable_now=account.contactable,
        next_contact_at=account.next_contact_at,
        legal_since=legal_since(account),
        blocks=[ComplianceBlock.model_validate(b) for b in account.contact_blocks or []],
        version=account.version,
    )


# --------------------------------------------------------------------------
# Priority


# --------------------------------------------------------------------------
# Create (admin, imports)


def _find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def default_kind(position: int) -> str:
    """The kind of a number given without one: the first (primary) ``mobile``, the rest ``other``."""
    return "mobile" if position == 0 else "other"


def phone_kinds(data: AccountCreate) -> list[str]:
    """The kind of each of ``data.phones``, in order: as given in ``phone_kinds``, the
    missing ones by :func:`default_kind` (more kinds than phones is refused before)."""
    given = [str(k) for k in data.phone_kinds]
    return [given[i] if i < len(given) else default_kind(i) for i in range(len(data.phones))]


def create_account(session: Session, data: AccountCreate, actor: User | None, now: dt.datetime | None = None) -> Account:
    """Create an account with its customer from one import row. Raises DomainError
    (422 naming the field, 409 for a duplicate ``account_ref``)."""
    errors: list[tuple[str, str]] = []

    def amount(field: str) -> int | None:
        try:
            return to_minor(getattr(data, field), data.currency)
        except ValueError as exc:
            errors.append((field, str(exc)))
            return None

    limit, balance, overdue, minimum = (amount(f) for f in ("credit_limit", "balance", "overdue", "minimum_due"))
    for field, value in (("credit_limit", limit), ("overdue", overdue), ("minimum_due", minimum)):
        if value is not None and value < 0:
            errors.append((field, "must not be negative"))
    # Compare only amounts that were read: a bad balance is one problem, not two.
    if overdue is not None and balance is not None and overdue > max(balance, 0):
        errors.append(("overdue", "cannot exceed the balance"))
    try:
        card_bin, last4 = card_parts(data.card_number)
    except ValueError as exc:
        errors.append(("card_number", str(exc)))
        card_bin, last4 = "", "0000"
    if data.timezone and not valid_zone(data.timezone):
        errors.append(("timezone", f"unknown IANA time zone {data.timezone!r}"))
    if data.timezone_source == "customer" and not data.timezone:
        errors.append(("timezone_source", "a confirmed zone needs the zone (timezone)"))
    if len(set(data.phones)) != len(data.phones):
        errors.append(("phones", "a number is listed twice"))
    if len(data.phone_kinds) > len(data.phones):
        errors.append(("phone_kinds", f"{len(data.phone_kinds)} kinds for {len(data.phones)} "
                                      f"phone{'' if len(data.phones) == 1 else 's'}"))
    for i, number in enumerate(data.phones):
        if phone_region(number) is None:
            errors.append((f"phones.{i}", f"{number} is not a valid phone number"))
    if data.email is not None and data.email and "@" not in data.email:
        errors.append(("email", "not an e-mail address"))
    if data.opened_on is not None and not EARLIEST_OPENING <= data.opened_on <= utcnow().date():
        errors.append(("opened_on", f"must be between {EARLIEST_OPENING} and today"))
    agent = None
    if data.agent:
        agent = _find_user(session, data.agent)
        if agent is None:
            errors.append(("agent", f"no user {data.agent!r}"))
        elif agent.role not in ("agent", "supervisor"):
            errors.append(("agent", f"{data.agent} is not an agent"))
        elif agent.team is not None and agent.team.name != data.team:
            errors.append(("agent", f"{data.agent} is not in team {data.team}"))
    if errors:
        raise Invalid("Invalid account", "; ".join(f"{f}: {m}" for f, m in errors), errors=errors)
    if session.scalar(select(Account.id).where(Account.account_ref == data.account_ref)) is not None:
        raise Conflict("Duplicate account", f"account_ref {data.account_ref} exists already",
                           errors=[("account_ref", "exists already")])

    primary_region = phone_region(data.phones[0]) if data.phones else None
    country = data.country or primary_region or "US"
    customer = Customer(name=data.customer_name, email=data.email or None, timezone=data.timezone or None,
                        timezone_source=str(data.timezone_source or "record"), country=country,
                        region=data.region or None)
    for position, (number, kind) in enumerate(zip(data.phones, phone_kinds(data), strict=True)):
        customer.phones.append(Phone(number=number, position=position, region=phone_region(number),
                                     timezones=phone_zones(number), kind=kind))
    if data.address:
        customer.addresses.append(Address(text=data.address, country=data.country or primary_region, region=data.region))
    team = get_or_create_team(session, data.team)
    account = Account(
        account_ref=data.account_ref, customer=customer, currency=data.currency, card_bin=card_bin, card_last4=last4,
        credit_limit_minor=limit, balance_minor=balance, overdue_minor=overdue, minimum_due_minor=minimum,
        dpd=data.dpd, bucket=bucket_for(data.dpd), status="charged_off" if data.dpd >= 180 else "open",
        opened_on=data.opened_on, flags={}, team=team, agent=agent,
    )
    refresh_priority(session, account, now)  # a new account has no contacts yet
    try:
        with session.begin_nested():  # a savepoint: a lost race must not spoil the caller's transaction
            session.add(account)
            session.flush()
    except IntegrityError:
        # Another request created the same account_ref between the check above and now.
        raise Conflict("Duplicate account", f"account_ref {data.account_ref} exists already",
                           errors=[("account_ref", "exists already")]) from None
    audit.record(session, actor.id if actor else None, "create", "account", account.id, account_ref=data.account_ref)
    session.flush()
    return account


# --------------------------------------------------------------------------
# Worklist


MAX_ID = 2**31 - 1


def _encode_cursor(priority: float, account_id: int) -> str:
    # repr() of a float reads back to the very same float, so the page boundary is exact.
    return base64.urlsafe_b64encode(f"{priority!r}|{account_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, int]:
    bad = Invalid("Invalid request", "cursor: not a cursor from this server",
                       errors=[("cursor", "not a cursor from this server")])
    if not cursor.isascii():
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        p, i = raw.split("|")
        priority, account_id = float(p), int(i)
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    # An id beyond the column's range would be refused by PostgreSQL and by
    # SQLite's driver alike; NaN and infinities order nothing.
    if not math.isfinite(priority) or not 1 <= account_id <= MAX_ID:
        raise bad
    return priority, account_id


def _like(needle: str) -> str:
    """A LIKE pattern matching ``needle`` anywhere, its ``%`` and ``_`` taken literally."""
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


FTS_FEW = 2000
"""A SQLite search with at most this many matches in all starts from them (they are
few to look up and sort); with more, the page walks the caller's priority index
and tests each account against them, stopping at a page: a common name matched
15,039 accounts at 1,000,000 (5,047 of one agent's), and starting from them took
63 ms a page where walking took 10. Walking is wrong for a rare match (it would
walk the whole list), hence the count first, which costs little: the FTS5 query
stops at ``FTS_FEW + 1``, and for a rare match its ids are what the page uses."""


def _fts_phrase(needle: str) -> str:
    return '"' + needle.replace('"', '""') + '"'  # an FTS5 string: every character literal


def fts_matches(session: Session, q: str) -> list[int] | None:
    """The ids of the accounts SQLite's FTS5 index matches for ``q`` (three characters
    or more) when there are at most ``FTS_FEW``; None when there are more."""
    ids = list(session.scalars(text("SELECT rowid FROM account_search WHERE account_search MATCH :phrase LIMIT :n"),
                               {"phrase": _fts_phrase(q.strip()), "n": FTS_FEW + 1}))
    return ids if len(ids) <= FTS_FEW else None


def search_plan(session: Session, q: str | None) -> tuple[str, list[int] | None]:
    """How to search for ``q`` here: (``index`` for ``search_filter``, the matching ids
    when they are known already)."""
    if not q or not q.strip():
        return "scan", None
    index = search_index(session)
    if index == "fts" and len(q.strip()) >= 3:
        matches = fts_matches(session, q)
        return ("fts", matches) if matches is not None else ("fts-walk", None)
    return index, None


def search_filter(q: str, index: str = "scan", matches: list[int] | None = None):  # noqa: ANN201
    """Accounts matching ``q``: by account reference or customer name (anywhere, any
    case), or by card: the last four digits, or a whole card number (its BIN and
    last four; the middle digits are never stored).

    ``index`` says what the database has (see ``search_index``): with an index and a
    needle of three characters or more the matches are found through it; otherwise
    each account is tested as the worklist walks down (which stops early when
    matches are common, and is the only way for one or two characters).
    """
    needle = q.strip()
    digits = re.sub(r"[\s-]", "", needle)
    cards = []
    if digits.isascii() and digits.isdigit():
        if len(digits) == 4:
            cards.append(lambda a: a.card_last4 == digits)
        elif 12 <= len(digits) <= 19:
            cards.append(lambda a: and_(a.card_bin == digits[:6], a.card_last4 == digits[-4:]))
    pattern = _like(needle)
    if len(needle) >= 3 and index == "trgm":
        # accounts.search_text (reference and name, kept by triggers) has a trigram
        # index; card_last4 a b-tree: PostgreSQL ORs the two bitmaps.
        search_text = literal_column("accounts.search_text")
        # The pattern is written into the SQL (quoted by the dialect), not bound: a
        # statement psycopg has prepared may get one plan for every pattern, made for
        # a common one, which walks every account for a rare one (70 ms, not 15).
        inline = bindparam("pattern", pattern, literal_execute=True)
        return or_(search_text.ilike(inline, escape="\\"), *(card(Account) for card in cards))
    if len(needle) >= 3 and index in ("fts", "fts-walk"):
        if matches is not None:  # few, and known already (``search_plan``): start from them
            return or_(Account.id.in_(matches), *(card(Account) for card in cards))
        found = aliased(Account)
        selects = [select(literal_column("rowid")).select_from(sql_table("account_search"))
                   .where(literal_column("account_search").op("MATCH")(_fts_phrase(needle)))]
        selects += [select(found.id).where(card(found)) for card in cards]
        # "fts-walk": ``id + 0`` is not the rowid to SQLite, so it does not start from the
        # (many) matches but walks the caller's priority index, testing each against them.
        target = Account.id + literal_column("0") if index == "fts-walk" else Account.id
        return target.in_(union_all(*selects))
    conditions = [Account.account_ref.ilike(pattern, escape="\\"), Customer.name.ilike(pattern, escape="\\")]
    conditions += [card(Account) for card in cards]
    return or_(*conditions)


_SEARCH_INDEX: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def search_index(session: Session) -> str:
    """``"trgm"`` (PostgreSQL: pg_trgm indexes), ``"fts"`` (SQLite: the FTS5 table)
    or ``"scan"``: what migration 0002 could build in this database."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    found = _SEARCH_INDEX.get(engine)
    if found is None:
        if engine.dialect.name == "postgresql":
            exists = session.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_accounts_search_trgm'")).scalar()
            found = "trgm" if exists else "scan"
        else:
            exists = session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'account_search'")).scalar()
            found = "fts" if exists else "scan"
        _SEARCH_INDEX[engine] = found
    return found


LEGAL_HOLD = "legal"
"""The status of an account legal has accepted for proceedings (``escalations.act``):
only legal officers act on it (SPEC §4), so it leaves the agents' and supervisors'
worklists and every queue that hands out or counts work; its record stays readable."""
NOT_WORKABLE = ("closed", LEGAL_HOLD)
"""Statuses that no queue hands out, moves or counts as work: the hand-out
(``next_account``), the team overview, segments and ``POST /accounts/assign``."""


def on_worklist(user: User) -> ColumnElement[bool]:
    """Which of the accounts ``user`` may see are on their worklist: never closed ones;
    legal officers and admins also see those on legal hold, where everyone else does not."""
    if user.role in ALL_SEEING:
        return Account.status != "closed"
    return Account.status.not_in(NOT_WORKABLE)


def worklist_query(user: User, *, workable_only: bool = False) -> Select:
    """The caller's worklist as a query; ``workable_only``: without accounts on legal
    hold for every role (what may be handed out)."""
    stmt = select(Account).where(Account.status.not_in(NOT_WORKABLE) if workable_only else on_worklist(user))
    if user.role == "agent":
        return stmt.where(Account.agent_id == user.id)
    return visible(stmt, user)


def worklist_statement(
    user: User, *, limit: int = 50, cursor: str | None = None, bucket: str | None = None, q: str | None = None,
    index: str = "scan", matches: list[int] | None = None,
) -> Select:
    """The page query: the caller's accounts, highest priority first, after the cursor.

    It reads only the columns a worklist row shows (no ORM objects, no datetimes
    to parse), walking the composite index (owner, priority, id) in order; the
    cursor is a row-value comparison, so a deep page starts where it should
    instead of walking past every row above it. (Separate so that the bench can
    EXPLAIN exactly what the API runs.)"""
    page = (
        select(*WORKLIST_COLUMNS)
        .select_from(Account)
        .join(Customer, Customer.id == Account.customer_id)
        .outerjoin(User, User.id == Account.agent_id)
    )
    searching = bool(q and q.strip())
    # A search may match thousands of the caller's accounts, all sorted by priority:
    # the page's ids are chosen first from narrow rows (SQLite's sorter copied every
    # column of each match, the reasons' JSON included), then only those rows are read.
    stmt = select(Account.id).select_from(Account) if searching else page
    if searching and (index == "scan" or len(q.strip()) < 3):
        stmt = stmt.join(Customer, Customer.id == Account.customer_id)  # the name is matched by scanning
    stmt = stmt.where(on_worklist(user))
    stmt = stmt.where(Account.agent_id == user.id) if user.role == "agent" else visible(stmt, user)
    if bucket:
        stmt = stmt.where(Account.bucket == bucket)
    if searching:
        stmt = stmt.where(search_filter(q, index, matches))
    if cursor:
        priority, last_id = _decode_cursor(cursor)
        stmt = stmt.where(tuple_(Account.priority, Account.id) < tuple_(priority, last_id))
    stmt = stmt.order_by(Account.priority.desc(), Account.id.desc()).limit(limit + 1)
    if searching:
        # correlate(None): the ids are chosen on their own, not row by row of the outer query.
        stmt = page.where(Account.id.in_(stmt.correlate(None).scalar_subquery())).order_by(
            Account.priority.desc(), Account.id.desc())
    return stmt


WORKLIST_COLUMNS = (
    Account.id, Account.account_ref, Account.card_last4, Account.dpd, Account.bucket, Account.balance_minor,
    Account.overdue_minor, Account.currency, Account.priority, Account.reasons, Account.flags, Account.customer_id,
    Customer.name, User.username, Account.contactable, Account.next_contact_at, Account.contact_blocks,
    Account.recheck_at,
)
REFRESH_ON_READ = 20
"""At most this many of the caller's lapsed accounts are evaluated again before a page (the loop does the rest).

A lapsed answer is never shown as a yes (``contactable_now`` is false until it is
evaluated again), so this bounds how long a page may take (about 0.7 ms an
account), not what is lawful; 50 took the page to 79 ms p95 at 1,000,000 accounts."""


def worklist(
    session: Session, user: User, *, limit: int = 50, cursor: str | None = None, bucket: str | None = None, q: str | None = None
) -> WorklistPage:
    # Accounts whose phone answer has lapsed (a window opened or closed) are
    # evaluated again first, so that the order is right; the background loop does
    # the same for everyone (a few hundred here at most, to keep the page quick).
    refresh_due(session, utcnow(), limit=REFRESH_ON_READ, agent=user if user.role == "agent" else None)
    index, matches = search_plan(session, q)
    rows = session.execute(worklist_statement(user, limit=limit, cursor=cursor, bucket=bucket, q=q, index=index,
                                              matches=matches)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    now = utcnow()
    items = []
    for r in rows:
        stale = r.recheck_at <= now
        items.append(WorklistItem(
            id=r.id, account_ref=r.account_ref, customer_name=r.name, card=mask_card(r.card_last4), dpd=r.dpd,
            bucket=Bucket(r.bucket), balance=money(r.balance_minor, r.currency), overdue=money(r.overdue_minor, r.currency),
            priority=r.priority, reasons=[Why.model_validate(w) for w in r.reasons or []],
            # An answer that lapsed and is not yet evaluated again is not a yes.
            contactable_now=r.contactable and not stale, next_contact_at=r.next_contact_at,
            blocks=[ComplianceBlock.model_validate(b) for b in r.contact_blocks or []],
            agent=r.username, flags=Flags.model_validate(r.flags or {}).active(),
        ))
    if rows:
        audit.record(session, user.id, "view", "worklist", None, accounts=[r.id for r in rows])
    next_cursor = _encode_cursor(rows[-1].priority, rows[-1].id) if more and rows else None
    return WorklistPage(items=items, next_cursor=next_cursor)


def worklist_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(worklist_query(user).subquery())) or 0


# --------------------------------------------------------------------------
# Leases (next account)


def _unheld(now: dt.datetime):  # noqa: ANN202
    return or_(Account.lease_user_id.is_(None), Account.lease_expires_at < now)


def release_leases(session: Session, user: User, account_id: int | None = None) -> None:
    """Let go of the caller's leases (of one account, or all). Leases are not edits: no new version."""
    stmt = update(Account).where(Account.lease_user_id == user.id)
    if account_id is not None:
        stmt = stmt.where(Account.id == account_id)
    session.execute(stmt.values(lease_user_id=None, lease_expires_at=None), execution_options={"synchronize_session": "fetch"})


def next_account(session: Session, user: User, lease_minutes: int, skip: int | None = None) -> tuple[Account, dt.datetime]:
    """Lease the caller's highest-priority account that nobody holds, and let go
    of the one the caller held (``skip``: the one it is leaving, never handed back now). Two callers never hold the same account, however
    many backend processes serve them."""
    # PostgreSQL: row locks decide (SKIP LOCKED passes over rows another
    # transaction is leasing). SQLite: every transaction holds the one write lock
    # from its start (BEGIN IMMEDIATE, backend.db), so leases take turns.
    postgresql = session.get_bind().dialect.name == "postgresql"
    now = utcnow()
    refresh_due(session, now, limit=REFRESH_ON_READ, agent=user if user.role == "agent" else None)
    expires = now + dt.timedelta(minutes=lease_minutes)
    # Never an account on legal hold, whoever asks (legal officers and admins see them on their worklist).
    candidate = worklist_query(user, workable_only=True).with_only_columns(Account.id).where(_unheld(now))
    if skip is not None:
        candidate = candidate.where(Account.id != skip)
    candidate = candidate.order_by(Account.priority.desc(), Account.id.desc()).limit(1)
    if postgresql:
        candidate = candidate.with_for_update(skip_locked=True)
    for _attempt in range(5):
        account_id = session.scalar(candidate)
        if account_id is None:
            raise NotFound("Nothing to work", "No account is waiting in your worklist")
        # Compare and set: the lease is taken only if it is still free.
        taken = session.execute(
            update(Account).where(Account.id == account_id, _unheld(now)).values(lease_user_id=user.id, lease_expires_at=expires),
            execution_options={"synchronize_session": False},
        ).rowcount
        if taken == 1:
            break
    else:
        raise Busy("Busy", "Could not lease an account; try again", retry_after=1)
    # Let go of what the caller is leaving: the account named by ``skip`` (a desk
    # passes the one on its screen, so the same user's other desk keeps its own
    # lease), or, from a caller that names none, every other lease it holds.
    leaving = Account.id == skip if skip is not None else Account.id != account_id
    session.execute(
        update(Account).where(Account.lease_user_id == user.id, leaving)
        .values(lease_user_id=None, lease_expires_at=None),
        execution_options={"synchronize_session": "fetch"},
    )
    audit.record(session, user.id, "lease", "account", account_id)
    session.flush()
    account = session.get(Account, account_id, populate_existing=True)
    assert account is not None
    return account, expires


# --------------------------------------------------------------------------
# Changes


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _plain_name(field: str, value: str | None) -> None:
    """Refuse control characters in a name before it reaches a query (PostgreSQL refuses NUL outright)."""
    if value is not None and _CONTROL.search(value):
        raise Invalid("Invalid request", f"{field}: must not contain control characters",
                           errors=[(field, "must not contain control characters")])


def parse_if_match(value: str | None) -> int:
    if value is None:
        raise PreconditionRequired("Precondition required", "PATCH needs If-Match: <version>",
                           errors=[("If-Match", "required")])
    raw = value.strip()
    if raw.startswith("W/"):
        raw = raw[2:]
    raw = raw.strip('"')
    # ASCII digits only: str.isdigit() also admits "²" and "١", which int() refuses or reads.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise Invalid("Invalid request", "If-Match must be the account's version number",
                           errors=[("If-Match", "not a version number")])
    return int(raw)


def patch_account(session: Session, user: User, account_id: int, data: AccountPatch, if_match: str | None) -> Account:
    if user.role not in flag_authority().patch:
        raise Forbidden("Forbidden", "Your role does not change accounts")
    account = get_visible(session, user, account_id, for_update=True)
    expected = parse_if_match(if_match)
    if expected != account.version:
        raise PreconditionFailed("Precondition failed",
                           f"The account changed since version {expected}; it is now version {account.version}",
                           current_version=account.version)
    changes: dict[str, object] = {}
    if data.flags is not None:
        flags = dict(account.flags or {})
        for name, value in data.flags.model_dump(exclude_unset=True).items():
            if value is None:
                continue
            flags[name] = sorted({str(c) for c in value}) if name == "cease" else bool(value)
        changes["flags"] = flags
        # Each flag set or lifted is kept as a period (when, by whom): contacts are judged by the flags then.
        set_flags(session, account, flags, user, data.flags_effective_at, note=data.flags_note)
    elif data.flags_effective_at is not None:
        raise Invalid("Invalid request", "flags_effective_at: goes with flags",
                           errors=[("flags_effective_at", "goes with flags")])
    customer = account.customer
    if "email" in data.model_fields_set:
        if data.email and "@" not in data.email:
            raise Invalid("Invalid request", "email: not an e-mail address", errors=[("email", "not an e-mail address")])
        customer.email = data.email or None
        changes["email"] = "changed"
    zone_given = "timezone" in data.model_fields_set
    if zone_given:
        if data.timezone and not valid_zone(data.timezone):
            raise Invalid("Invalid request", f"timezone: unknown zone {data.timezone!r}",
                               errors=[("timezone", "unknown IANA time zone")])
    if data.timezone_source == "customer" and not (data.timezone if zone_given else customer.timezone):
        raise Invalid("Invalid request", "timezone_source: a confirmed zone needs the zone (timezone)",
                           errors=[("timezone_source", "a confirmed zone needs the zone (timezone)")])
    if zone_given:
        customer.timezone = data.timezone or None
        changes["timezone"] = data.timezone
    # Given alone or with the zone; clearing the zone makes the source the record's again.
    source = str(data.timezone_source) if data.timezone_source is not None else None
    if source is None and zone_given and customer.timezone is None and customer.timezone_source != "record":
        source = "record"
    if source is not None:
        customer.timezone_source = source
        changes["timezone_source"] = source
    if data.address is not None:
        if customer.addresses:
            customer.addresses[0].text = data.address
        else:
            customer.addresses.append(Address(text=data.address, country=customer.country))
        changes["address"] = "changed"
    if data.phones is not None:
        numbers = [p.number for p in data.phones]
        if len(set(numbers)) != len(numbers):
            raise Invalid("Invalid request", "phones: a number is listed twice", errors=[("phones", "duplicate number")])
        for i, number in enumerate(numbers):
            if phone_region(number) is None:
                raise Invalid("Invalid request", f"phones.{i}: not a valid phone number",
                                   errors=[(f"phones.{i}", "not a valid phone number")])
        existing = {p.number: p for p in customer.phones}
        kept = []
        for position, item in enumerate(data.phones):
            phone = existing.get(item.number) or Phone(number=item.number, region=phone_region(item.number),
                                                        timezones=phone_zones(item.number), kind="other")
            phone.position = position
            phone.do_not_call = item.do_not_call
            if item.kind is not None:  # None keeps a listed number's kind (a new one is ``other``)
                phone.kind = str(item.kind)
            kept.append(phone)
        customer.phones[:] = kept
        changes["phones"] = [{"number": p.number[:-4] + "••••", "do_not_call": p.do_not_call, "kind": p.kind}
                             for p in kept]
    if data.agent is not None or data.team is not None:
        if user.role not in ("supervisor", "admin"):
            raise Forbidden("Forbidden", "Only a supervisor or an admin assigns accounts")
        for field in ("agent", "team"):
            _plain_name(field, getattr(data, field))
        if data.team is not None:
            team = session.scalar(select(Team).where(Team.name == data.team))
            if team is None:
                raise Invalid("Invalid request", f"team: no team {data.team!r}", errors=[("team", "no such team")])
            if user.role == "supervisor" and team.id != user.team_id:
                raise Forbidden("Forbidden", "A supervisor assigns within their own team")
            account.team = team
            changes["team"] = data.team
        if data.agent is not None:
            if data.agent == "":
                account.agent = None
            else:
                agent = _find_user(session, data.agent)
                if agent is None or agent.role not in ("agent", "supervisor"):
                    raise Invalid("Invalid request", f"agent: no agent {data.agent!r}", errors=[("agent", "no such agent")])
                if agent.team_id != account.team_id:
                    raise Invalid("Invalid request", f"agent: {data.agent} is not in the account's team",
                                       errors=[("agent", "not in the account's team")])
                account.agent = agent
            changes["agent"] = data.agent
    if changes:
        # Contact details live on the customer's rows; touching the account
        # gives it a new version whatever changed, so If-Match sees every edit.
        account.updated_at = utcnow()
    refresh_priority(session, account)
    audit.record(session, user.id, "update", "account", account.id, **changes)
    session.flush()  # the new version, for the answer's ETag
    return account


def local_now(zone: str, now: dt.datetime | None = None) -> dt.datetime:
    return (now or utcnow()).astimezone(ZoneInfo(zone))
