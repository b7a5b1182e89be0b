"""Each account's stored standing, kept fresh: its priority (the strategy's rank of what
it owes, its risk and the work due on it) and the compliance engine's phone answer, which
the priority folds in (an account that may be phoned now ranks above every account that
may not, SPEC §5). ``refresh_priority`` does one account (after a contact, a plan, a
payment); ``refresh_due`` the accounts whose stored answer has lapsed; the portfolio
rescore (``rescore``) ranks with the same pure parts (``work_due``, ``risk_of``).

Apart from ``accounts`` (who sees and changes an account) and ``compliance`` (the
engine's answers), which it uses and which never use it."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, case, func, inspect, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from backend.compliance.engine import PastContact
from backend.domain import priority
from backend.domain.accounts import bucket_for
from backend.domain.strategy import RankInputs, broken_why, rank
from backend.models import Account, Customer, Plan, PlanItem, User, utcnow
from backend.scoring import score_history
from backend.scoring.money import reasons_in_account_money
from backend.services import compliance
from backend.services.configuration import current as configuration
from backend.services.contactability import PAUSE_FLAGS
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
    promise_due, broken, callback_due, hours_since = work_due(last, plans, now)
    state = compliance.phone_state(account, history, now)
    p_default, risk_reasons = risk_of(account.history, account.currency, account.credit_limit_minor)
    split = configuration().split
    strategy = split.for_account(account.account_ref or "")
    p = rank(strategy, RankInputs(
        dpd=account.dpd, bucket=account.bucket or bucket_for(account.dpd), overdue_minor=account.overdue_minor,
        currency=account.currency, exponent=exponent(account.currency), p_default=p_default,
        risk_reasons=tuple(risk_reasons), promise_due=promise_due, broken_promise=broken is not None,
        callback_due=callback_due, paused=paused_by(account.flags), contactable=state.allowed,
        hours_since_contact=hours_since, broken_reason=broken,
    ))
    value, reasons = p.value, list(p.reasons)
    values = {
        "priority": value, "reasons": [r.as_dict() for r in reasons], "contactable": state.allowed,
        "risk": p_default, "strategy": strategy.id,
        "next_contact_at": state.next_at if not state.allowed else None,
        "contact_blocks": compliance.block_dicts(state.blocks), "recheck_at": state.recheck_at,
    }
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


def refresh_due(session: Session, now: dt.datetime | None = None, *, limit: int = 500,
                agent: User | None = None) -> int:
    """Evaluate again up to ``limit`` accounts whose stored phone answer has lapsed
    (``recheck_at`` passed), of one agent or of all. Returns how many; the caller
    commits (a request at its end, ``refresh_all_due`` after each batch).

    On PostgreSQL the rows are locked and rows another transaction holds are
    passed over, so several backends (or a worklist request and the background
    loop) never wait on each other; on SQLite the one write lock serialises them."""
    now = now or utcnow()
    stmt = select(Account.id).where(Account.recheck_at <= now, Account.status != "closed")
    if agent is not None:
        stmt = stmt.where(Account.agent_id == agent.id)
    stmt = stmt.order_by(Account.recheck_at, Account.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=Account)
    ids = list(session.scalars(stmt))
    if not ids:
        return 0
    accounts = session.scalars(
        select(Account).where(Account.id.in_(ids))
        .options(selectinload(Account.customer).selectinload(Customer.phones),
                 selectinload(Account.customer).selectinload(Customer.addresses))
    ).unique().all()
    histories = compliance.histories_of(session, ids, now)
    plans = plan_rows(session, ids)
    rows = [{"b_id": account.id, **refresh_priority(session, account, now, history=histories[account.id],
                                                    plans=plans[account.id], write=False)}
            for account in accounts]
    # One statement for the batch (executemany), not one per account.
    table = Account.__table__
    session.execute(update(table).where(table.c.id == bindparam("b_id")).values(
        {name: bindparam(name) for name in rows[0] if name != "b_id"}), rows)
    return len(ids)


def refresh_all_due(session: Session, now: dt.datetime | None = None, *, batch: int = 500) -> int:
    """Refresh every lapsed account, a batch per transaction (short write locks)."""
    total = 0
    while True:
        done = refresh_due(session, now, limit=batch)
        session.commit()  # let go of the rows (and SQLite's write lock) between batches
        total += done
        if done < batch:
            return total
