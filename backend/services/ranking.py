"""Each account's stored standing, kept fresh: its priority (the strategy's rank of what
it owes, its risk and the work due on it) and the compliance engine's phone answer, which
the priority folds in (an account that may be phoned now ranks above every account that
may not, SPEC §5). ``refresh_priority`` does one account (after a contact, a plan, a
payment); ``refresh_due`` the accounts whose stored answer has lapsed; the portfolio
rescore (``rescore``) ranks with the same pure parts (``work_due``, ``risk_of``).

Apart from ``accounts`` (who sees and changes an account) and ``compliance`` (the
engine's answers), which it uses and which never use it."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Engine, Select, bindparam, case, func, inspect, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from backend.compliance.engine import ContactState, PastContact, Place, contact_state
from backend.domain import priority
from backend.domain.accounts import bucket_for
from backend.domain.strategy import RankInputs, Split, broken_why, rank
from backend.models import Account, Address, Customer, Phone, Plan, PlanItem, User, utcnow
from backend.scoring import score_history
from backend.scoring.money import reasons_in_account_money
from backend.services import compliance
from backend.services.configuration import current as configuration
from backend.services.contactability import PAUSE_FLAGS, places_from
from backend_client.money import exponent

# --------------------------------------------------------------------------
# The priority


def risk_of(history: dict | None, currency: str | None = None,
            limit_minor: int | None = None) -> tuple[float | None, list]:
    """The scorecard's probability of default and its top reasons, from the account's
    own statement history; (None, []) where it has none (the strategy then uses its
    bucket's default). With the account's ``currency`` and credit limit, a reason that
    quotes an amount quotes it in the account's money (``backend.scoring.money``)."""
    if not history:
        return None, []
    try:
        scored = score_history(history)
    except ValueError:
        return None, []
    return round(scored.probability, 6), reasons_in_account_money(list(scored.reasons), history, currency,
                                                                   limit_minor)


class PlanRow(NamedTuple):
    """What the priority needs of one active or broken plan."""

    status: str
    updated_at: dt.datetime
    next_due: dt.date | None
    """The earliest item still due (active plans)."""
    kind: str
    total_minor: int
    currency: str
    broken_on: dt.date | None
    """The first day its earliest broken item was late: its date plus the grace days, plus one."""


def plan_rows_query(where: ColumnElement[bool]) -> Select:
    """Active and broken plans matching ``where``, one row per plan, for ``plan_row``."""
    return (
        select(Plan.account_id, Plan.status, Plan.updated_at, Plan.kind, Plan.total_minor, Plan.currency,
               func.min(case((PlanItem.status == "due", PlanItem.due))),
               func.min(case((PlanItem.status == "broken", PlanItem.due))))
        .outerjoin(PlanItem, PlanItem.plan_id == Plan.id)
        .where(where, Plan.status.in_(("active", "broken")))
        .group_by(Plan.id, Plan.account_id, Plan.status, Plan.updated_at, Plan.kind, Plan.total_minor, Plan.currency)
    )


def plan_row(status: str, updated_at: dt.datetime, kind: str, total_minor: int, currency: str,
             next_due: dt.date | None, broken_due: dt.date | None) -> PlanRow:
    broken_on = (broken_due + dt.timedelta(days=configuration().authority.grace_for(kind) + 1)) if broken_due else None
    return PlanRow(status, updated_at, next_due, kind, total_minor, currency, broken_on)


def plan_rows(session: Session, account_ids: list[int]) -> dict[int, list[PlanRow]]:
    """Per account: its active and broken plans."""
    found: dict[int, list[PlanRow]] = {i: [] for i in account_ids}
    for account_id, *row in session.execute(plan_rows_query(Plan.account_id.in_(account_ids))):
        found[account_id].append(plan_row(*row[:5], *row[5:]))
    return found


PAUSING = PAUSE_FLAGS
"""Flags that pause collection: the strategy ranks such an account last."""


def paused_by(flags: dict | None) -> bool:
    return any((flags or {}).get(name) for name in PAUSING)


def work_due(last: PastContact | None, plans: list[PlanRow] | tuple[PlanRow, ...], now: dt.datetime
             ) -> tuple[bool, priority.Why | None, bool, float | None]:
    """What the work done says of an account at ``now``, from its last contact and its
    active and broken plans: (promise due, the reason of a plan broken in the last 30
    days or None, call-back due, hours since the last contact or None). A promise made
    on a call is a plan (issue 14), kept or broken by the sweep like any other. Pure;
    ``refresh_priority`` and the portfolio rescore both rank with it."""
    if last is None and not plans:
        return False, None, False, None  # never contacted, no plan (most of a portfolio)
    today = now.date()
    promise_due = False
    broken: priority.Why | None = None
    # An item due today or yesterday is a promise due; a plan broken in the last
    # 30 days raises the account, the latest first.
    for row in plans:
        if row.status == "broken" and row.updated_at >= now - dt.timedelta(days=30):
            on = row.broken_on or row.updated_at.date()
            if broken is None or on.isoformat() > str(broken.params["date"]):
                broken = broken_why(row.kind, row.total_minor, row.currency, exponent(row.currency), on)
        if row.status == "active" and row.next_due is not None and today - dt.timedelta(days=1) <= row.next_due <= today:
            promise_due = True
    callback_due = bool(last and last.result == "CB" and last.callback_at
                        and last.callback_at <= now + dt.timedelta(hours=1))
    return promise_due, broken, callback_due, (now - last.at).total_seconds() / 3600 if last else None


_FRAGMENTS: dict[tuple[str, str], str] = {}


def reasons_json(reasons: list) -> str:
    """``json.dumps([r.as_dict() for r in reasons])``, the very same text, with each
    reason's JSON worked out once per process: a reason's words are made from its
    parameters (and the scorecard's 132 are fixed), so code and words name it."""
    parts = []
    for w in reasons:
        key = (w.code, w.text)
        fragment = _FRAGMENTS.get(key)
        if fragment is None:
            fragment = _FRAGMENTS[key] = json.dumps(w.as_dict())
        parts.append(fragment)
    return "[" + ", ".join(parts) + "]"


def answer_values(state: ContactState) -> dict:
    """The stored columns of a phone answer."""
    return {"contactable": state.allowed, "next_contact_at": state.next_at if not state.allowed else None,
            "contact_blocks": compliance.block_dicts(state.blocks), "recheck_at": state.recheck_at}


def _rank_values(account_ref: str | None, history: dict | None, currency: str, limit_minor: int | None, dpd: int,
                 bucket: str | None, overdue_minor: int, flags: dict | None, contactable: bool,
                 last: PastContact | None, plans: list[PlanRow] | tuple[PlanRow, ...], now: dt.datetime,
                 split: Split, *, reasons_text: bool = False) -> dict:
    """The stored rank of an account (priority, reasons, risk, strategy) from its own
    columns, its phone answer, its last contact and its plans: ``refresh_priority``'s
    and ``refresh_due``'s, by kind or one by one."""
    promise_due, broken, callback_due, hours_since = work_due(last, plans, now)
    p_default, risk_reasons = risk_of(history, currency, limit_minor)
    strategy = split.for_account(account_ref or "")
    p = rank(strategy, RankInputs(
        dpd=dpd, bucket=bucket or bucket_for(dpd), overdue_minor=overdue_minor,
        currency=currency, exponent=exponent(currency), p_default=p_default,
        risk_reasons=tuple(risk_reasons), promise_due=promise_due, broken_promise=broken is not None,
        callback_due=callback_due, paused=paused_by(flags), contactable=contactable,
        hours_since_contact=hours_since, broken_reason=broken,
    ))
    return {"priority": p.value, "reasons": reasons_json(p.reasons) if reasons_text else [r.as_dict() for r in p.reasons],
            "risk": p_default, "strategy": strategy.id}


def refresh_priority(session: Session, account: Account, now: dt.datetime | None = None, *,
                     history: list[PastContact] | None = None, plans: list[PlanRow] | None = None,
                     write: bool = True) -> dict:
    """Recompute the stored priority (DPD, the overdue amount, actions due) and the
    compliance engine's phone answer, which it folds in: an account that may be
    phoned now ranks above every account that may not (SPEC §5)."""
    now = now or utcnow()
    if history is None:
        history = compliance.history_of(session, account.id, now) if account.id is not None else []
    last = history[-1] if history else None
    if plans is None:
        plans = plan_rows(session, [account.id])[account.id] if account.id is not None else []
    state = compliance.phone_state(account, history, now)
    values = {**_rank_values(account.account_ref, account.history, account.currency, account.credit_limit_minor,
                             account.dpd, account.bucket, account.overdue_minor, account.flags, state.allowed,
                             last, plans, now, configuration().split),
              **answer_values(state)}
    if inspect(account).persistent:
        # Priority is derived, not edited: store it without a new version, so
        # that logging a contact does not make the desk's If-Match stale.
        if write:
            session.execute(update(Account).where(Account.id == account.id).values(**values),
                            execution_options={"synchronize_session": False})
        for key, v in values.items():
            set_committed_value(account, key, v)
    else:
        for key, v in values.items():
            setattr(account, key, v)
    return values


# --------------------------------------------------------------------------
# Keeping the stored answers fresh


class Kinds:
    """The engine's phone answers of one instant, one per kind of account: accounts with
    no contact in ``compliance.HISTORY_DAYS`` whose verdict depends only on the same inputs
    (the customer's country and region, the places its zone, phones and addresses point
    to, each phone's kind and do-not-call mark in order, and the flags in force now,
    pauses, ceases and legal hold included). The engine reads numbers only as names when
    no contact names one, so accounts of a kind share one answer (as the bulk builds do:
    ``bench/worklist.py``). Shared by the batches of one ``refresh_all_due``."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.answers: dict[tuple, dict] = {}
        self.stored: dict[int, tuple] = {}
        """Per answer (by its id: each is kept alive in ``answers`` as long as this object, and one
        ``Kinds`` serves one thread): (contactable, next_contact_at, contact_blocks, recheck_at) as a
        raw write sends them."""
        self.places: dict[tuple, tuple[Place, ...]] = {}
        self.evaluated = 0
        """Engine evaluations made (one per kind met)."""

    def answer(self, flags: dict[str, object], country: str | None, region: str | None, places: tuple[Place, ...],
               phones: list[tuple[str, str, bool]]) -> dict:
        key = (country, region, places, json.dumps(flags, sort_keys=True, default=str) if flags else "",
               tuple((kind, dnc) for _number, kind, dnc in phones))
        values = self.answers.get(key)
        if values is None:
            subject = compliance.make_subject(flags, country, region, places, phones)
            state = contact_state(compliance.policies_at(country, region), subject, (), "phone", self.now)
            values = self.answers[key] = answer_values(state)
            self.evaluated += 1
        return values

    def stored_form(self, answer: dict, stamp: Callable[[Any], Any]) -> tuple:
        """``answer`` as the raw by-kind write sends it (worked out once per kind)."""
        found = self.stored.get(id(answer))
        if found is None:
            found = self.stored[id(answer)] = (
                answer["contactable"], stamp(answer["next_contact_at"]), json.dumps(answer["contact_blocks"]),
                stamp(answer["recheck_at"]))
        return found

    def places_of(self, timezone: str | None, phone_zones: list[list[str]],
                  addresses: list[tuple[str | None, str | None]], country: str | None, region: str | None,
                  confirmed: bool) -> tuple[Place, ...]:
        key = (timezone, tuple(tuple(z or ()) for z in phone_zones), tuple(addresses), country, region, confirmed)
        found = self.places.get(key)
        if found is None:
            found = self.places[key] = tuple(
                Place(zone, sources) for zone, sources in places_from(timezone, phone_zones, addresses, country, region,
                                                                      confirmed))
        return found


def _by_kind(session: Session, ids: list[int], now: dt.datetime, plans: dict[int, list[PlanRow]],
             kinds: Kinds) -> list[tuple]:
    """The new answer and rank of accounts with no contact history, one engine evaluation
    per kind (``Kinds``), read as plain columns (no ORM objects)."""
    a, c = Account.__table__.c, Customer.__table__.c
    rows = session.execute(
        select(a.id, a.account_ref, a.history, a.currency, a.credit_limit_minor, a.dpd, a.bucket, a.overdue_minor,
               a.flags, a.status, a.customer_id, c.country, c.region, c.timezone, c.timezone_source)
        .join_from(Account.__table__, Customer.__table__, c.id == a.customer_id)
        .where(a.id.in_(ids))
    ).all()
    customer_ids = {r.customer_id for r in rows}
    p = Phone.__table__.c
    phones: dict[int, list] = {i: [] for i in customer_ids}
    for r in session.execute(select(p.customer_id, p.number, p.kind, p.timezones, p.do_not_call)
                             .where(p.customer_id.in_(customer_ids)).order_by(p.customer_id, p.position, p.id)):
        phones[r.customer_id].append(r)
    d = Address.__table__.c
    addresses: dict[int, list[tuple[str | None, str | None]]] = {i: [] for i in customer_ids}
    for r in session.execute(select(d.customer_id, d.country, d.region)
                             .where(d.customer_id.in_(customer_ids)).order_by(d.customer_id, d.id)):
        addresses[r.customer_id].append((r.country, r.region))
    split = configuration().split
    stamp = _stamper(session)
    out = []
    for r in rows:
        own = phones[r.customer_id]
        places = kinds.places_of(r.timezone, [ph.timezones for ph in own], addresses[r.customer_id], r.country,
                                 r.region, r.timezone_source == "customer")
        answer = kinds.answer(compliance.subject_flags(r.flags, r.status), r.country, r.region, places,
                              [(ph.number, ph.kind, ph.do_not_call) for ph in own])
        ranked = _rank_values(r.account_ref, r.history, r.currency, r.credit_limit_minor, r.dpd, r.bucket,
                              r.overdue_minor, r.flags, answer["contactable"], None, plans[r.id], now, split,
                              reasons_text=True)
        out.append((r.id, ranked["priority"], ranked["reasons"], ranked["risk"], ranked["strategy"],
                    *kinds.stored_form(answer, stamp)))
    return out


def _stamper(session: Session) -> Callable[[Any], Any]:
    """An instant as the driver takes it for a column of ``UTCDateTime`` (SQLite: its text)."""
    dialect = session.get_bind().dialect
    process = Account.__table__.c.recheck_at.type.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


def _write_by_kind(session: Session, rows: list[tuple]) -> None:
    """The rows of ``_by_kind`` in one statement, as the driver takes them (no ORM
    and no per-row conversion: a storm is hundreds of thousands of rows). Stamps
    ``updated_at`` as any write of the row does; not the version (derived columns)."""
    conn = session.connection()
    driver = conn.connection.driver_connection
    now = _stamper(session)(utcnow())
    if conn.dialect.name == "postgresql":
        ids, priorities, reasons, risks, strategies, allowed, nexts, blocks, rechecks = (
            list(c) for c in zip(*rows, strict=True))
        with driver.cursor() as cursor:  # arrays sent in binary (%b): see rescore._Batch._write
            cursor.execute(
                "UPDATE accounts AS a SET priority = u.priority, reasons = CAST(u.reasons AS json), "
                "risk = u.risk, strategy = u.strategy, contactable = u.contactable, "
                "next_contact_at = u.next_contact_at, contact_blocks = CAST(u.contact_blocks AS json), "
                "recheck_at = u.recheck_at, updated_at = %s "
                "FROM unnest(CAST(%b AS integer[]), CAST(%b AS double precision[]), CAST(%b AS text[]), "
                "CAST(%b AS double precision[]), CAST(%b AS text[]), CAST(%b AS boolean[]), "
                "CAST(%b AS timestamptz[]), CAST(%b AS text[]), CAST(%b AS timestamptz[])) "
                "AS u(id, priority, reasons, risk, strategy, contactable, next_contact_at, contact_blocks, recheck_at) "
                "WHERE a.id = u.id",
                (now, ids, priorities, reasons, risks, strategies, allowed, nexts, blocks, rechecks))
    else:
        cursor = driver.cursor()
        try:
            cursor.executemany(
                "UPDATE accounts SET priority = ?, reasons = ?, risk = ?, strategy = ?, contactable = ?, "
                "next_contact_at = ?, contact_blocks = ?, recheck_at = ?, updated_at = ? WHERE id = ?",
                [(*row[1:], now, row[0]) for row in rows])
        finally:
            cursor.close()


def refresh_due(session: Session, now: dt.datetime | None = None, *, limit: int = 500,
                agent: User | None = None, kinds: Kinds | None = None) -> int:
    """Evaluate again up to ``limit`` accounts whose stored phone answer has lapsed
    (``recheck_at`` passed), of one agent or of all. Returns how many; the caller
    commits (a request at its end, ``refresh_all_due`` after each batch).

    Accounts with contacts in the engine's history go through the engine one by one
    (``refresh_priority``); the others by kind (``Kinds``: one evaluation per kind, given
    by ``kinds`` when it is for ``now``, kept across batches), the same answer.

    On PostgreSQL the rows are locked and rows another transaction holds are
    passed over, so several backends (or a worklist request and the background
    loop) never wait on each other; on SQLite the one write lock serialises them."""
    now = now or (kinds.now if kinds is not None else utcnow())
    if kinds is None or kinds.now != now:
        kinds = Kinds(now)
    stmt = select(Account.id).where(Account.recheck_at <= now, Account.status != "closed")
    if agent is not None:
        stmt = stmt.where(Account.agent_id == agent.id)
    # The longest lapsed first, in the index's order: not also by id, which on PostgreSQL
    # sorted every row of a storm's one instant (a window opening for a whole zone lapses
    # them all together) for each batch of 1,000 (65 ms a batch at 30,000, growing).
    stmt = stmt.order_by(Account.recheck_at).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Account)
    ids = list(session.scalars(stmt))
    if not ids:
        return 0
    histories = compliance.histories_of(session, ids, now)
    plans = plan_rows(session, ids)
    own = [i for i in ids if histories[i]]
    if len(own) < len(ids):
        _write_by_kind(session, _by_kind(session, [i for i in ids if not histories[i]], now, plans, kinds))
    if own:
        accounts = session.scalars(
            select(Account).where(Account.id.in_(own))
            .options(selectinload(Account.customer).selectinload(Customer.phones),
                     selectinload(Account.customer).selectinload(Customer.addresses))
        ).unique().all()
        rows = [{"b_id": account.id, **refresh_priority(session, account, now, history=histories[account.id],
                                                        plans=plans[account.id], write=False)}
                for account in accounts]
        # One statement for the batch (executemany), not one per account.
        table = Account.__table__
        session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
            {name: bindparam(name) for name in rows[0] if name != "b_id"}), rows)
    return len(ids)


KIND_CLOCK = dt.timedelta(seconds=5)
"""Without a ``now`` of its caller's, ``refresh_all_due`` evaluates batch after batch at one
instant for up to this long (so that kinds are evaluated once, not once a batch), then takes
the clock again. An answer holds from the instant it was evaluated at: one that lapsed
meanwhile is already due again and the next round takes it."""


#: SQLite, the writing connection of a pass: a page cache big enough for the pages a
#: batch dirties (the rows and three priority indexes: ~20,000 pages of 4 KiB at
#: 25,000 accounts), and the write-ahead log copied back every ~200 MB instead of
#: every 4 MB, so that an index page rewritten by batch after batch is copied back
#: once in a while rather than at every commit. 116,272 accounts written: 85 → 42 µs
#: each. Set for the pass only (the connection returns to its pool as it was).
SQLITE_WRITER_PRAGMAS = {"cache_size": -256 * 1024, "wal_autocheckpoint": 50_000}


@contextlib.contextmanager
def sqlite_writer(conn: Any) -> Iterator[None]:
    """``SQLITE_WRITER_PRAGMAS`` on ``conn`` while the pass writes, then back as they were.
    Set on the driver's connection, outside any transaction (no write lock taken for it)."""
    raw = conn.connection.driver_connection
    was = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in SQLITE_WRITER_PRAGMAS}
    for name, value in SQLITE_WRITER_PRAGMAS.items():
        raw.execute(f"PRAGMA {name}={value}")
    try:
        yield
    finally:
        conn.rollback()
        for name, value in was.items():
            raw.execute(f"PRAGMA {name}={value}")


def refresh_all_due(session: Session, now: dt.datetime | None = None, *, batch: int = 1000,
                    kinds: Kinds | None = None) -> int:
    """Refresh every lapsed account, a batch per transaction (short write locks);
    ``kinds``: the kinds known already at ``now`` (else found as the batches go).
    On SQLite the batches write through one connection of their own with the
    rescore's writer settings (``SQLITE_WRITER_PRAGMAS``: a storm's batches rewrite
    the same index pages, kept in cache and copied back once in a while)."""
    total = 0
    if kinds is None or now is None or kinds.now != now:
        kinds = Kinds(now or utcnow())
    bind = session.get_bind()
    with contextlib.ExitStack() as stack:
        if bind.dialect.name == "sqlite" and isinstance(bind, Engine) and not session.in_transaction():
            conn = stack.enter_context(bind.connect())
            stack.enter_context(sqlite_writer(conn))
            session = stack.enter_context(Session(bind=conn))
        while True:
            if now is None and utcnow() - kinds.now > KIND_CLOCK:
                kinds = Kinds(utcnow())
            done = refresh_due(session, kinds.now, limit=batch, kinds=kinds)
            session.commit()  # let go of the rows (and SQLite's write lock) between batches
            total += done
            if done < batch:
                return total
    return total  # not reached
