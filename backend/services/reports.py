"""Reports. So far: champion against challenger (issue 6)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from backend.api.errors import ProblemError
from backend.models import Account, Contact, Payment, Plan, User, utcnow
from backend.services.accounts import visible
from backend_client.models import Money, StrategyFigures, StrategyReport

REPORT_ROLES = ("supervisor", "admin", "legal")


def strategies(session: Session, user: User, days: int = 30, now: dt.datetime | None = None) -> StrategyReport:
    """Each strategy's accounts and what working them brought in the last ``days``:
    attempts, right-party contacts, promises, plans kept and broken, money collected.
    Never a ranking of agents (2011 Measures Art. 66): the unit is the strategy."""
    if user.role not in REPORT_ROLES:
        raise ProblemError(403, "Forbidden", "Reports are for supervisors")
    now = now or utcnow()
    since = now - dt.timedelta(days=days)
    strategy = func.coalesce(Account.strategy, "unranked")
    base = visible(select(Account.id).select_from(Account), user).subquery()
    figures: dict[str, dict] = defaultdict(lambda: {"accounts": 0, "balance": defaultdict(int), "attempts": 0,
                                                    "rpc": 0, "ptp": 0, "promised": defaultdict(int),
                                                    "kept": 0, "broken": 0, "collected": defaultdict(int),
                                                    "paying_accounts": 0})
    for name, currency, n, balance in session.execute(
        select(strategy, Account.currency, func.count(), func.sum(Account.balance_minor))
        .where(Account.id.in_(select(base.c.id))).group_by(strategy, Account.currency)
    ):
        figures[name]["accounts"] += n
        figures[name]["balance"][currency] += int(balance or 0)
    for name, currency, attempts, rpc, ptp, promised in session.execute(
        select(strategy, Account.currency, func.count(),
               func.sum(case((Contact.outcome == "RPC", 1), else_=0)),
               func.sum(case((Contact.result == "PTP", 1), else_=0)),
               func.sum(func.coalesce(Contact.ptp_amount_minor, 0)))
        .join(Account, Account.id == Contact.account_id)
        .where(Account.id.in_(select(base.c.id)), Contact.started_at >= since, Contact.direction == "outbound")
        .group_by(strategy, Account.currency)
    ):
        f = figures[name]
        f["attempts"] += attempts
        f["rpc"] += int(rpc or 0)
        f["ptp"] += int(ptp or 0)
        f["promised"][currency] += int(promised or 0)
    for name, status, n in session.execute(
        select(strategy, Plan.status, func.count()).join(Account, Account.id == Plan.account_id)
        .where(Account.id.in_(select(base.c.id)), Plan.updated_at >= since, Plan.status.in_(("kept", "broken")))
        .group_by(strategy, Plan.status)
    ):
        figures[name][status] += n
    for name, currency, amount, payers in session.execute(
        select(strategy, Payment.currency, func.sum(Payment.amount_minor), func.count(func.distinct(Payment.account_id)))
        .join(Account, Account.id == Payment.account_id)
        .where(Account.id.in_(select(base.c.id)), Payment.paid_at >= since)
        .group_by(strategy, Payment.currency)
    ):
        figures[name]["collected"][currency] += int(amount or 0)
        figures[name]["paying_accounts"] += payers

    def money(d: dict) -> list[Money]:
        return [Money(amount_minor=v, currency=c) for c, v in sorted(d.items())]

    out = []
    for name in sorted(figures, key=lambda n: (n != "champion", n)):
        f = figures[name]
        decided = f["kept"] + f["broken"]
        out.append(StrategyFigures(
            strategy=name, accounts=f["accounts"], balance=money(f["balance"]), attempts=f["attempts"],
            right_party_contacts=f["rpc"], rpc_rate=round(f["rpc"] / f["attempts"], 4) if f["attempts"] else None,
            promises=f["ptp"], promised=money(f["promised"]), plans_kept=f["kept"], plans_broken=f["broken"],
            kept_rate=round(f["kept"] / decided, 4) if decided else None, collected=money(f["collected"]),
            paying_accounts=f["paying_accounts"],
            paying_share=round(f["paying_accounts"] / f["accounts"], 4) if f["accounts"] else None,
        ))
    return StrategyReport(days=days, since=since, until=now, strategies=out)
