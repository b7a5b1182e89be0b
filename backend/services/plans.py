"""Repayment plans: drafting within authority, the approval workflow, payments
matched to due items, and the sweep that marks them kept or broken."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.domain import plans as calc
from backend.domain.accounts import bucket_for
from backend.domain.errors import Conflict, Forbidden, Invalid, not_found
from backend.domain.history import with_payment
from backend.models import OPEN_PLAN_STATUSES, Account, Contact, Payment, Plan, PlanEvent, PlanItem, User, utcnow
from backend.services import audit
from backend.services.accounts import get_visible, visible
from backend.services.authority import Authority, percent_bp
from backend.services.configuration import current as configuration
from backend.services.ranking import refresh_priority
from backend_client.models import (
    Allocation,
    FieldError,
    LimitBreach,
    Money,
    PaymentCreate,
    PaymentOut,
    PlanCreate,
    PlanItemOut,
    PlanOut,
    PlanPreview,
    SweepResult,
)
from backend_client.money import exponent, to_minor

APPROVERS = ("supervisor", "admin")


# --------------------------------------------------------------------------
# Building a plan from a request


def _money(minor: int, currency: str) -> Money:
    return Money(amount_minor=minor, currency=currency)


def build(account: Account, data: PlanCreate, authority: Authority) -> calc.Plan:
    """The plan ``data`` asks for on ``account``; raises PlanError naming the field."""
    currency = account.currency

    def amount() -> int | None:
        if data.amount is None:
            return None
        try:
            return to_minor(data.amount, currency)
        except ValueError as exc:
            raise calc.PlanError("amount", str(exc)) from None

    kind = data.kind.value
    # Instalments start with at least the policy's smallest first payment.
    first_minimum = authority.first_payment.minimum_minor(max(account.balance_minor, 0), exponent(currency))
    if kind == "promise":
        value = amount()
        if value is None:
            raise calc.PlanError("amount", "a promise needs an amount")
        plan = calc.promise(value, data.first_due)
    elif kind == "minimum":
        value = amount()
        plan = calc.minimum(account.minimum_due_minor if value is None else value, data.first_due)
    elif kind == "instalment":
        value = amount()
        principal = account.balance_minor if value is None else value
        fee = to_minor(str(authority.fee_major), currency) if authority.fee_major else 0
        plan = calc.instalment(principal, data.count, data.first_due, data.frequency.value, fee_minor=fee,
                               annual_rate_bp=authority.annual_rate_bp, min_first_minor=first_minimum)
    else:  # settlement
        value = amount()
        if data.discount_percent is not None:
            if value is not None:
                raise calc.PlanError("discount_percent", "give the amount to be paid or the discount, not both")
            plan = calc.settlement(account.balance_minor, data.first_due, discount_bp=percent_bp(data.discount_percent, "discount_percent"),
                                   count=data.count, frequency=data.frequency.value, min_first_minor=first_minimum)
        else:
            if value is None:
                raise calc.PlanError("amount", "a settlement needs the amount to be paid or a discount")
            plan = calc.settlement(account.balance_minor, data.first_due, discount_minor=account.balance_minor - value,
                                   count=data.count, frequency=data.frequency.value, min_first_minor=first_minimum)
    if plan.total_minor > max(account.balance_minor, 0) + plan.fee_minor + plan.interest_minor:
        raise calc.PlanError("amount", "a plan cannot ask for more than the balance")
    return plan


def _limit_breaches(plan: calc.Plan, limits: calc.Limits, account: Account, authority: Authority,
                    today: dt.date) -> list[LimitBreach]:
    found = calc.breaches(plan, limits, authority.first_payment, balance_minor=max(account.balance_minor, 1),
                          exponent=exponent(account.currency), today=today)
    out = []
    for b in found:
        if b.limit == "first_payment_amount":
            # In money, not minor units.
            smallest = min(authority.first_payment.minimum_minor(account.balance_minor, exponent(account.currency)),
                           plan.total_minor)
            out.append(LimitBreach(limit=b.limit, allowed=f"at least {_major(smallest, account.currency)}",
                                   actual=_major(plan.schedule[0].amount_minor, account.currency)))
        else:
            out.append(LimitBreach(limit=b.limit, allowed=b.allowed, actual=b.actual))
    return out


def _major(minor: int, currency: str) -> str:
    e = exponent(currency)
    return f"{Decimal(minor).scaleb(-e):.{e}f} {currency}"


@dataclass
class Checked:
    plan: calc.Plan | None
    breaches: list[LimitBreach]
    refused: list[LimitBreach]
    errors: list[tuple[str, str]]


def check(session: Session, user: User, account: Account, data: PlanCreate, today: dt.date) -> Checked:
    authority = configuration().authority
    errors: list[tuple[str, str]] = []
    if data.first_due < today:
        errors.append(("first_due", "is in the past"))
    try:
        plan = build(account, data, authority)
    except calc.PlanError as exc:
        return Checked(None, [], [], [*errors, (exc.field, exc.message)])
    if plan.term_months() > authority.max_term_months:
        errors.append(("count", f"at most {authority.max_term_months} months"))
    mine = authority.limits_for(user.role) or authority.limits_for("agent")
    assert mine is not None, "config/authority.toml names no agent limits"
    breaches = _limit_breaches(plan, mine, account, authority, today)
    refused = _limit_breaches(plan, authority.widest, account, authority, today)
    open_plan = session.scalar(select(Plan.id).where(Plan.account_id == account.id,
                                                     Plan.status.in_(OPEN_PLAN_STATUSES)))
    if open_plan is not None:
        errors.append(("kind", f"plan {open_plan} is still open on this account: cancel it first"))
    return Checked(plan, breaches, refused, errors)


def preview(session: Session, user: User, account_id: int, data: PlanCreate) -> PlanPreview:
    account = get_visible(session, user, account_id)
    today = utcnow().date()
    c = check(session, user, account, data, today)
    currency = account.currency
    p = c.plan
    return PlanPreview(
        ok=p is not None and not c.refused and not c.errors, kind=data.kind,
        total=_money(p.total_minor, currency) if p else None,
        discount=_money(p.discount_minor, currency) if p else None,
        fee=_money(p.fee_minor, currency) if p else None,
        interest=_money(p.interest_minor, currency) if p else None,
        schedule=[PlanItemOut(seq=i + 1, due=item.due, amount=_money(item.amount_minor, currency),
                              paid=_money(0, currency), status="due") for i, item in enumerate(p.schedule)] if p else [],
        needs_approval=bool(c.breaches), breaches=c.breaches, refused=c.refused,
        errors=[FieldError(field=f, message=m) for f, m in c.errors],
    )


# --------------------------------------------------------------------------
# The workflow


def _event(session: Session, plan: Plan, status: str, actor: User | None, note: str = "",
           at: dt.datetime | None = None) -> None:
    session.add(PlanEvent(plan_id=plan.id, account_id=plan.account_id, status=status,
                          actor_id=actor.id if actor else None, note=note, at=at or utcnow()))


def plan_out(plan: Plan) -> PlanOut:
    c = plan.currency
    return PlanOut(
        id=plan.id, account_id=plan.account_id, account_ref=plan.account.account_ref, kind=plan.kind,
        status=plan.status, contact_id=plan.contact_id, total=_money(plan.total_minor, c),
        discount=_money(plan.discount_minor, c),
        fee=_money(plan.fee_minor, c), interest=_money(plan.interest_minor, c),
        balance_at_draft=_money(plan.balance_at_draft_minor, c), frequency=plan.frequency,
        schedule=[PlanItemOut(seq=i.seq, due=i.due, amount=_money(i.amount_minor, c), paid=_money(i.paid_minor, c),
                              status=i.status) for i in plan.items],
        needs_approval=bool(plan.breaches), breaches=[LimitBreach.model_validate(b) for b in plan.breaches or []],
        created_by=plan.created_by.username if plan.created_by else None,
        decided_by=plan.decided_by.username if plan.decided_by else None,
        note=plan.note or "", decision_note=plan.decision_note or "",
        created_at=plan.created_at, updated_at=plan.updated_at, version=plan.version,
    )


def draft(session: Session, user: User, account_id: int, data: PlanCreate) -> Plan:
    """A new plan on the account, in one transaction with what comes with it: the caller's own
    draft it ``replaces`` cancelled first, and the new one submitted if ``submit``."""
    account = get_visible(session, user, account_id, for_update=True)
    today = utcnow().date()
    if data.replaces is not None:
        _replace(session, user, account, data.replaces)
    c = check(session, user, account, data, today)
    conflict = [e for e in c.errors if e[1].startswith("plan ") and "still open" in e[1]]
    if conflict:
        raise Conflict("A plan is open", conflict[0][1], reason="open_plan")
    if c.errors:
        raise Invalid("Invalid plan", "; ".join(f"{f}: {m}" for f, m in c.errors), errors=c.errors)
    if c.refused:
        raise Invalid("Beyond every authority",
            "; ".join(f"{b.limit}: allowed {b.allowed}, asked {b.actual}" for b in c.refused),
            errors=[(b.limit, f"allowed {b.allowed}, asked {b.actual}") for b in c.refused],
            limits=[b.model_dump() for b in c.refused],
        )
    assert c.plan is not None
    p = c.plan
    plan = Plan(account_id=account.id, team_id=account.team_id, kind=p.kind, status="draft", currency=account.currency,
                frequency=data.frequency.value, total_minor=p.total_minor, discount_minor=p.discount_minor,
                fee_minor=p.fee_minor, interest_minor=p.interest_minor, balance_at_draft_minor=account.balance_minor,
                breaches=[b.model_dump() for b in c.breaches], note=data.note, created_by_id=user.id)
    plan.items = [PlanItem(seq=i + 1, due=item.due, amount_minor=item.amount_minor, paid_minor=0, status="due")
                  for i, item in enumerate(p.schedule)]
    try:
        with session.begin_nested():
            session.add(plan)
            session.flush()
    except IntegrityError:
        raise Conflict("A plan is open", "another plan was opened on this account just now",
                           reason="open_plan") from None
    _event(session, plan, "draft", user, data.note)
    audit.record(session, user.id, "create", "plan", plan.id, account_id=account.id, kind=p.kind,
                 total_minor=p.total_minor)
    session.flush()
    if data.submit:
        return act(session, user, plan.id, "submit")
    return plan


def _replace(session: Session, user: User, account: Account, plan_id: int) -> None:
    """Cancel the caller's own draft ``plan_id`` on ``account``, which a new plan replaces."""
    old = session.scalar(select(Plan).where(Plan.id == plan_id).with_for_update(of=Plan))
    if old is None or old.account_id != account.id:
        raise Invalid("Invalid plan", f"replaces: plan {plan_id} is not a plan of this account",
                           errors=[("replaces", f"plan {plan_id} is not a plan of this account")])
    if old.status != "draft" or old.created_by_id != user.id:
        raise Conflict("Not now", f"plan {plan_id} is {old.status}"
                           + ("" if old.created_by_id == user.id else ", and another's")
                           + ": only your own draft is replaced", reason="status", status_now=old.status)
    act(session, user, old.id, "cancel", "replaced by a new plan")


def promise_from_call(session: Session, user: User, account: Account, contact: Contact, today: dt.date) -> Plan | None:
    """The tracked promise an RPC + PTP makes, in the contact's transaction (issue 14):
    ``active`` within the agent's authority, ``pending`` a supervisor's approval beyond
    it. One promise is open per account: a promise still open (made on a call or
    drafted) is cancelled and replaced, as a new plan replaces an old. Where it cannot
    be tracked (another kind of plan is open, or no role may agree it) the contact is
    kept all the same and ``contact.promise_note`` says why; None is answered."""
    assert contact.ptp_amount_minor is not None and contact.ptp_date is not None
    authority = configuration().authority
    open_plan = session.scalar(select(Plan).where(Plan.account_id == account.id, Plan.status.in_(OPEN_PLAN_STATUSES)))
    if open_plan is not None and open_plan.kind != "promise":
        contact.promise_note = (f"not tracked: {open_plan.kind} plan {open_plan.id} is {open_plan.status} on this "
                                "account; change that plan instead")
        return None
    try:
        made = calc.promise(contact.ptp_amount_minor, contact.ptp_date)
    except calc.PlanError as exc:
        contact.promise_note = f"not tracked: {exc.field}: {exc.message}"
        return None
    mine = authority.limits_for(user.role) or authority.limits_for("agent")
    assert mine is not None, "config/authority.toml names no agent limits"
    refused = _limit_breaches(made, authority.widest, account, authority, today)
    if refused:
        contact.promise_note = "not tracked: beyond every authority: " + "; ".join(
            f"{b.limit}: allowed {b.allowed}, asked {b.actual}" for b in refused)
        return None
    if open_plan is not None:
        for item in open_plan.items:
            if item.status == "due":
                item.status = "cancelled"
        open_plan.status = "cancelled"
        session.flush()
        _event(session, open_plan, "cancelled", user, f"replaced by the promise made on contact {contact.id}")
        audit.record(session, user.id, "cancel", "plan", open_plan.id, account_id=account.id, status="cancelled",
                     replaced_by_contact=contact.id)
    breaches = _limit_breaches(made, mine, account, authority, today)
    plan = Plan(account_id=account.id, team_id=account.team_id, kind="promise",
                status="pending" if breaches else "active", currency=account.currency, frequency="monthly",
                total_minor=made.total_minor, balance_at_draft_minor=account.balance_minor,
                breaches=[b.model_dump() for b in breaches], note="", created_by_id=user.id, contact_id=contact.id)
    plan.items = [PlanItem(seq=1, due=contact.ptp_date, amount_minor=made.total_minor, paid_minor=0, status="due")]
    session.add(plan)
    session.flush()
    _event(session, plan, plan.status, user, at=contact.started_at)  # made on the call, when it was
    audit.record(session, user.id, "create", "plan", plan.id, account_id=account.id, kind="promise",
                 total_minor=plan.total_minor, status=plan.status, contact_id=contact.id)
    return plan


def get_plan(session: Session, user: User, plan_id: int, *, for_update: bool = False) -> Plan:
    stmt = visible(select(Plan).join(Account, Account.id == Plan.account_id), user).where(Plan.id == plan_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Plan)
    plan = session.scalar(stmt)
    if plan is None:
        raise not_found("plan")
    return plan


def list_plans(session: Session, user: User, *, status: str | None = None, account_id: int | None = None,
               limit: int = 100) -> list[Plan]:
    stmt = visible(select(Plan).join(Account, Account.id == Plan.account_id), user)
    if status:
        stmt = stmt.where(Plan.status == status)
    if account_id is not None:
        stmt = stmt.where(Plan.account_id == account_id)
    return list(session.scalars(stmt.order_by(Plan.created_at.desc(), Plan.id.desc()).limit(limit)))


def _refuse(plan: Plan, action: str, allowed: tuple[str, ...]) -> None:
    if plan.status not in allowed:
        raise Conflict("Not now", f"a {plan.status} plan cannot be {action}", reason="status",
                           status_now=plan.status)


def act(session: Session, user: User, plan_id: int, action: str, note: str = "") -> Plan:
    """``submit``, ``approve``, ``reject`` or ``cancel``; each a status change on the timeline."""
    plan = get_plan(session, user, plan_id, for_update=True)
    authority = configuration().authority
    today = utcnow().date()
    if action == "submit":
        _refuse(plan, "submitted", ("draft",))
        if plan.created_by_id != user.id and user.role not in APPROVERS:
            raise Forbidden("Forbidden", "only the agent who drafted it submits a plan")
        mine = authority.limits_for(user.role) or authority.limits_for("agent")
        assert mine is not None
        breaches = _limit_breaches(_as_calc(plan), mine, plan.account, authority, today)
        plan.breaches = [b.model_dump() for b in breaches]
        plan.status = "pending" if breaches else "active"
    elif action in ("approve", "reject"):
        _refuse(plan, f"{action}d" if action == "approve" else "rejected", ("pending",))
        if user.role not in APPROVERS:
            raise Forbidden("Forbidden", "plans are approved by a supervisor")
        if action == "approve":
            limits = authority.limits_for(user.role)
            assert limits is not None
            beyond = _limit_breaches(_as_calc(plan), limits, plan.account, authority, today)
            if beyond:
                raise Conflict("Beyond your authority",
                                   "; ".join(f"{b.limit}: allowed {b.allowed}, asked {b.actual}" for b in beyond),
                                   reason="authority", limits=[b.model_dump() for b in beyond])
            plan.status = "active"
        else:
            if not note.strip():
                raise Invalid("Invalid request", "note: say why the plan is rejected",
                                   errors=[("note", "say why the plan is rejected")])
            plan.status = "rejected"
        plan.decided_by = user
        plan.decision_note = note
    elif action == "cancel":
        _refuse(plan, "cancelled", OPEN_PLAN_STATUSES)
        for item in plan.items:
            if item.status == "due":
                item.status = "cancelled"
        plan.status = "cancelled"
    else:
        raise not_found("action")
    session.flush()
    _event(session, plan, plan.status, user, note)
    audit.record(session, user.id, action, "plan", plan.id, account_id=plan.account_id, status=plan.status)
    refresh_priority(session, plan.account)
    session.flush()
    return plan


def _as_calc(plan: Plan) -> calc.Plan:
    return calc.Plan(plan.kind, plan.total_minor, tuple(calc.Item(i.due, i.amount_minor) for i in plan.items),
                     discount_minor=plan.discount_minor, fee_minor=plan.fee_minor, interest_minor=plan.interest_minor)


# --------------------------------------------------------------------------
# Payments


def payment_out(p: Payment) -> PaymentOut:
    c = p.currency
    return PaymentOut(
        id=p.id, bank_ref=p.bank_ref, account_id=p.account_id, account_ref=p.account.account_ref,
        amount=_money(p.amount_minor, c), paid_at=p.paid_at,
        allocations=[Allocation(plan_id=a["plan_id"], seq=a["seq"], amount=_money(a["amount_minor"], c))
                     for a in p.allocations or []],
        unallocated=_money(p.unallocated_minor, c), balance_after=_money(p.balance_after_minor, c),
        created_at=p.created_at,
    )


def _same(p: Payment, data: PaymentCreate, account: Account | None, amount: int) -> bool:
    return (account is not None and p.account_id == account.id and p.amount_minor == amount
            and p.currency == data.currency and p.paid_at == data.paid_at.astimezone(dt.UTC))


def validate_payment(session: Session, data: PaymentCreate) -> tuple[Account | None, int, list[tuple[str, str]]]:
    errors: list[tuple[str, str]] = []
    account = session.scalar(select(Account).where(Account.account_ref == data.account_ref))
    amount = 0
    if account is None:
        errors.append(("account_ref", f"no account {data.account_ref}"))
    elif data.currency != account.currency:
        errors.append(("currency", f"the account is in {account.currency}"))
    try:
        amount = to_minor(data.amount, data.currency)
        if amount <= 0:
            errors.append(("amount", "must be more than zero"))
    except ValueError as exc:
        errors.append(("amount", str(exc)))
    if data.paid_at > utcnow() + dt.timedelta(minutes=5):
        errors.append(("paid_at", "is in the future"))
    elif account is not None and account.opened_on is not None and data.paid_at.date() < account.opened_on:
        # The payment's own calendar day (its offset's): a bank's midnight is not moved to the day before.
        errors.append(("paid_at", f"is before the account was opened ({account.opened_on.isoformat()})"))
    return account, amount, errors


def record_payment(session: Session, actor: User | None, data: PaymentCreate) -> tuple[Payment, bool]:
    """Record a payment once per ``bank_ref`` (a repeat with the same content answers
    the first; with other content it is 409), match it to due items oldest first,
    recompute the balances and run the sweep for the account. Returns (payment, created)."""
    account, amount, errors = validate_payment(session, data)
    existing = session.scalar(select(Payment).where(Payment.bank_ref == data.bank_ref))
    if existing is not None:
        if not errors and _same(existing, data, account, amount):
            return existing, False
        raise Conflict("Duplicate bank reference",
                           f"bank_ref {data.bank_ref} was recorded already with other details",
                           errors=[("bank_ref", "recorded already with other details")])
    if errors:
        raise Invalid("Invalid payment", "; ".join(f"{f}: {m}" for f, m in errors), errors=errors)
    assert account is not None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    # Match to the due items of the account's active plan, oldest first.
    items = session.scalars(
        select(PlanItem).join(Plan, Plan.id == PlanItem.plan_id)
        .where(Plan.account_id == account.id, Plan.status == "active", PlanItem.status.in_(("due", "broken")))
    ).all()
    by_id = {i.id: i for i in items}
    taken, left = calc.allocate(amount, [calc.Due(i.id, i.due, i.amount_minor, i.paid_minor) for i in items])
    allocations = []
    for item_id, part in taken:
        item = by_id[item_id]
        item.paid_minor += part
        allocations.append({"plan_id": item.plan_id, "seq": item.seq, "amount_minor": part})
    bucket_before, dpd_before = account.bucket, account.dpd
    apply_to_account(account, amount)
    # The statement history the score reads counts the payment too (issue 6: the
    # score is refreshed when payments change), so the refresh below rescores it.
    history = with_payment(account.history, amount, account.currency, dpd_after=account.dpd,
                           balance_after_minor=account.balance_minor) if account.history else None
    if history is not None:
        account.history = history
    payment = Payment(bank_ref=data.bank_ref, account_id=account.id, amount_minor=amount, currency=data.currency,
                      paid_at=data.paid_at.astimezone(dt.UTC), allocations=allocations, unallocated_minor=left,
                      balance_after_minor=account.balance_minor, created_by_id=actor.id if actor else None)
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:
        raise Conflict("Duplicate bank reference", f"bank_ref {data.bank_ref} was recorded just now",
                           errors=[("bank_ref", "recorded already")]) from None
    audit.record(session, actor.id if actor else None, "create", "payment", payment.id, account_id=account.id,
                 amount_minor=amount, bank_ref=data.bank_ref, bucket_before=bucket_before, bucket=account.bucket,
                 dpd_before=dpd_before, dpd=account.dpd)
    sweep(session, utcnow().date(), account_ids=[account.id], actor=actor)
    refresh_priority(session, account)
    session.flush()
    return payment, True


def apply_to_account(account: Account, amount_minor: int) -> None:
    """A payment lowers the balance, then the overdue amount and the minimum due.
    Overdue is taken as whole cycles of the minimum due (or of the overdue amount
    spread over the months late): each cycle cleared takes 30 days off the
    delinquency, and clearing the overdue amount makes the account current."""
    overdue_before, minimum_before, dpd_before = account.overdue_minor, account.minimum_due_minor, account.dpd
    account.balance_minor -= amount_minor
    paid_overdue = min(amount_minor, max(overdue_before, 0))
    account.overdue_minor = overdue_before - paid_overdue
    account.minimum_due_minor = max(minimum_before - amount_minor, 0)
    if account.overdue_minor == 0:
        account.dpd = min(dpd_before, 0)
    elif dpd_before > 0:
        months_late = max(-(-dpd_before // 30), 1)
        cycle = minimum_before if minimum_before > 0 else -(-overdue_before // months_late)
        account.dpd = max(dpd_before - 30 * (paid_overdue // max(cycle, 1)), 1)
    account.bucket = bucket_for(account.dpd)


# --------------------------------------------------------------------------
# The sweep


def sweep(session: Session, as_of: dt.date, *, account_ids: list[int] | None = None, actor: User | None = None,
          grace_days: int | None = None) -> SweepResult:
    """Mark items of active plans kept or broken as of ``as_of`` and move the plans:
    kept when every item is, broken as soon as one is (the account then rises with
    reason "broken promise"). Idempotent: a second run changes nothing."""
    authority = configuration().authority
    stmt = select(Plan).where(Plan.status == "active")
    if account_ids is not None:
        stmt = stmt.where(Plan.account_id.in_(account_ids))
    counts = {"items_kept": 0, "items_broken": 0, "plans_kept": 0, "plans_broken": 0}
    for plan in session.scalars(stmt.order_by(Plan.id)).all():
        grace = grace_days if grace_days is not None else authority.grace_for(plan.kind)
        states = []
        for item in plan.items:
            state = calc.item_state(calc.Due(item.id, item.due, item.amount_minor, item.paid_minor), as_of, grace)
            if state != item.status and item.status != "cancelled":
                if state in ("kept", "broken"):
                    counts[f"items_{state}"] += 1
                item.status = state
            states.append(item.status)
        new = calc.plan_state(states)
        if new != plan.status:
            plan.status = new
            counts[f"plans_{new}"] += 1
            session.flush()
            _event(session, plan, new, actor, f"swept as of {as_of.isoformat()}")
            audit.record(session, actor.id if actor else None, "sweep", "plan", plan.id, status=new,
                         as_of=as_of.isoformat())
            refresh_priority(session, plan.account)
    session.flush()
    return SweepResult(as_of=as_of, **counts)


def broken_recently(session: Session, account_id: int, now: dt.datetime, days: int = 30) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Plan).where(
        Plan.account_id == account_id, Plan.status == "broken", Plan.updated_at >= now - dt.timedelta(days=days))))


# --------------------------------------------------------------------------
# The confirmation letter


def letter(session: Session, user: User, plan_id: int, fmt: str, lang: str | None, bank_name: str,
           bank_contact: str) -> tuple[bytes, str]:
    """The plan's confirmation letter (Markdown or PDF) and its media type."""
    from backend.documents import LetterError, PlanLetter, render_markdown, render_pdf
    from backend.documents.jurisdictions import document_lang, jurisdiction

    plan = get_plan(session, user, plan_id)
    account = plan.account
    customer = account.customer
    place = jurisdiction(customer.country)
    lang = document_lang(place, lang)
    bank_contact = place.contact or bank_contact  # the bank's office in the customer's jurisdiction
    data = PlanLetter(
        bank_name=bank_name, bank_contact=bank_contact, customer_name=customer.name,
        customer_address=customer.addresses[0].text if customer.addresses else None, account_ref=account.account_ref,
        card=account.card_last4, currency=plan.currency, kind=plan.kind, total_minor=plan.total_minor,
        discount_minor=plan.discount_minor, balance_minor=plan.balance_at_draft_minor,
        schedule=tuple((i.due, i.amount_minor) for i in plan.items), status=plan.status,
        approved_by=plan.decided_by.display_name if plan.decided_by and plan.status != "rejected" else None,
        created_on=plan.created_at.date(), agent_name=plan.created_by.display_name,
        grace_days=configuration().authority.grace_for(plan.kind),
        lang=lang,
    )
    try:
        body = render_pdf(data) if fmt == "pdf" else render_markdown(data).encode("utf-8")
    except LetterError as exc:
        raise Invalid("Letter cannot be made", str(exc)) from None
    audit.record(session, user.id, "view", "plan_letter", plan.id, format=fmt, lang=lang)
    return body, "application/pdf" if fmt == "pdf" else "text/markdown; charset=utf-8"
