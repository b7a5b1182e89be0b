"""Reports: champion against challenger (issue 6); agent, team, portfolio and cases (issue 5);
treatments measured per path and step (issue 20, item 5)."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from backend.domain.accounts import BUCKETS
from backend.domain.errors import Forbidden, Invalid, NotFound
from backend.domain.outcomes import counts_for
from backend.domain.proportions import difference_bp, interval_bp, rate_bp
from backend.models import (
    Account,
    AuditEntry,
    Contact,
    FlagPeriod,
    Note,
    Payment,
    Plan,
    PlanEvent,
    Team,
    TreatmentSend,
    User,
    UTCDateTime,
    utcnow,
)
from backend.services.accounts import visible
from backend.services.configuration import current as configuration
from backend_client.models import (
    AgentFigures,
    AgentReport,
    BucketFigures,
    Case,
    CaseContact,
    CasesReport,
    Money,
    PortfolioReport,
    RateDifference,
    ReportPeriod,
    RollMatrix,
    RollRow,
    StrategyFigures,
    StrategyReport,
    TeamFigures,
    TeamReport,
    TreatmentComparison,
    TreatmentFigures,
    TreatmentMeasure,
    TreatmentReport,
)

REPORT_ROLES = ("supervisor", "admin", "legal")


def strategies(session: Session, user: User, days: int = 30, now: dt.datetime | None = None) -> StrategyReport:
    """Each strategy's accounts and what working them brought in the last ``days``:
    attempts, right-party contacts, promises, plans kept and broken, money collected.
    Never a ranking of agents (2011 Measures Art. 66): the unit is the strategy."""
    if user.role not in REPORT_ROLES:
        raise Forbidden("Forbidden", "Reports are for supervisors")
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


# --------------------------------------------------------------------------
# Agent, team, portfolio and cases (issue 5, item 5)
#
# Who sees what: supervisors their own team, legal officers and admins every
# team (or the one named by ``team``); an agent the agent report of their own
# figures only (never a colleague's: nothing to rank themselves against);
# trainers are refused 403, and agents every other report.
#
# No figure here ranks agents by amounts recovered (2011 Measures Art. 66):
# agents are listed by name, and collection always sits beside the quality
# figures (right-party rate, kept rate, handle time).

NO_CONTACT_ATTEMPTS = 6
"""Outbound attempts in the period without a right-party contact that make a case difficult."""


def _money(d: dict[str, int]) -> list[Money]:
    return [Money(amount_minor=v, currency=c) for c, v in sorted(d.items())]


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def period(days: int = 30, since: dt.datetime | None = None, until: dt.datetime | None = None,
           now: dt.datetime | None = None) -> ReportPeriod:
    """``since`` ≤ t < ``until``: the last ``days`` days to now, unless ``since``/``until`` say otherwise."""
    until = (until or now or utcnow()).astimezone(dt.UTC)
    since = (since.astimezone(dt.UTC) if since else until - dt.timedelta(days=days))
    if since >= until:
        raise Invalid("Invalid request", "from: must be before to", errors=[("from", "must be before to")])
    if until - since > dt.timedelta(days=366):
        raise Invalid("Invalid request", "a report covers at most 366 days",
                           errors=[("from", "at most 366 days before to")])
    span = until - since
    return ReportPeriod(since=since, until=until, days=max(1, -(-int(span.total_seconds()) // 86400)))


def _scope(session: Session, user: User, team: str | None) -> tuple[int | None, str | None]:
    """The team a report is restricted to (``None``: every team), as (id, name)."""
    if user.role not in REPORT_ROLES:
        raise Forbidden("Forbidden", "Reports are for supervisors, legal officers and admins")
    if user.role == "supervisor":
        if user.team_id is None:
            raise Forbidden("Forbidden", "A supervisor without a team has no team to report on")
        own = session.get(Team, user.team_id)
        if team is not None and own is not None and team != own.name:
            raise Forbidden("Forbidden", f"A supervisor reports on their own team ({own.name})")
        return user.team_id, own.name if own else None
    if team is None:
        return None, None
    found = session.scalar(select(Team).where(Team.name == team))
    if found is None:
        raise NotFound("Not found", f"No such team: {team}")
    return found.id, found.name


def _in_team(column, team_id: int | None) -> list:  # noqa: ANN001
    return [] if team_id is None else [column == team_id]


def _escalations_table(session: Session):  # noqa: ANN202
    """The escalations table (migration 0006) when this database has it, else ``None``."""
    from sqlalchemy import column, inspect, table

    try:
        if not inspect(session.connection()).has_table("escalations"):
            return None
    except Exception:  # noqa: BLE001 - an inspector that cannot tell: report no escalations
        return None
    return table("escalations", column("id"), column("account_id"), column("team_id"), column("kind"),
                 column("created_by_id"), column("created_at", UTCDateTime()))


def _blank() -> dict:
    return {"accounts": 0, "attempts": 0, "contacts": 0, "rpc": 0, "rpc_out": 0, "ptp": 0,
            "promised": defaultdict(int), "plans": 0, "kept": 0, "broken": 0, "collected": defaultdict(int),
            "payers": set(), "escalations": 0, "handle_sum": 0, "handle_n": 0, "by_day": None}


def _work(session: Session, p: ReportPeriod, team_id: int | None, by: str) -> dict:
    """Figures keyed by the agent (``by="agent"``: who did it; collection on the
    accounts assigned to them now) or by the team (the account's team)."""
    days = p.days
    out: dict = defaultdict(_blank)

    def row(key):  # noqa: ANN001, ANN202
        f = out[key]
        if f["by_day"] is None:
            f["by_day"] = [0] * days
        return f

    acc_key = Account.agent_id if by == "agent" else Account.team_id
    for key, n in session.execute(select(acc_key, func.count()).where(*_in_team(Account.team_id, team_id))
                                  .group_by(acc_key)):
        if key is not None:
            row(key)["accounts"] += n
    contact_key = Contact.agent_id if by == "agent" else Account.team_id
    for key, outcome, result, direction, ptp, currency, duration, started in session.execute(
        select(contact_key, Contact.outcome, Contact.result, Contact.direction, Contact.ptp_amount_minor,
               Account.currency, Contact.duration_s, Contact.started_at)
        .join(Account, Account.id == Contact.account_id)
        .where(Contact.started_at >= p.since, Contact.started_at < p.until, *_in_team(Account.team_id, team_id))
    ):
        f = row(key)
        counts = counts_for(outcome)
        if direction == "outbound" and counts.attempted:
            f["attempts"] += 1
            f["rpc_out"] += outcome == "RPC"
            day = days - 1 - int((p.until - started).total_seconds() // 86400)
            if 0 <= day < days:
                f["by_day"][day] += 1
        f["contacts"] += counts.contacted
        f["rpc"] += outcome == "RPC"
        if result == "PTP":
            f["ptp"] += 1
            f["promised"][currency] += ptp or 0
        if duration is not None:
            f["handle_sum"] += duration
            f["handle_n"] += 1
    plan_key = Plan.created_by_id if by == "agent" else Plan.team_id
    for key, n in session.execute(select(plan_key, func.count()).where(
            Plan.created_at >= p.since, Plan.created_at < p.until, *_in_team(Plan.team_id, team_id))
            .group_by(plan_key)):
        row(key)["plans"] += n
    for key, status, n in session.execute(
        select(plan_key, PlanEvent.status, func.count(func.distinct(PlanEvent.plan_id)))
        .join(Plan, Plan.id == PlanEvent.plan_id)
        .where(PlanEvent.status.in_(("kept", "broken")), PlanEvent.at >= p.since, PlanEvent.at < p.until,
               *_in_team(Plan.team_id, team_id))
        .group_by(plan_key, PlanEvent.status)
    ):
        row(key)[status] += n
    for key, account_id, currency, amount in session.execute(
        select(acc_key, Payment.account_id, Payment.currency, Payment.amount_minor)
        .join(Account, Account.id == Payment.account_id)
        .where(Payment.paid_at >= p.since, Payment.paid_at < p.until, *_in_team(Account.team_id, team_id))
    ):
        if key is None:
            continue
        f = row(key)
        f["collected"][currency] += amount
        f["payers"].add(account_id)
    escalations = _escalations_table(session)
    if escalations is not None:
        e_key = escalations.c.created_by_id if by == "agent" else escalations.c.team_id
        for key, n in session.execute(select(e_key, func.count()).select_from(escalations).where(
                escalations.c.created_at >= p.since, escalations.c.created_at < p.until,
                *_in_team(escalations.c.team_id, team_id)).group_by(e_key)):
            row(key)["escalations"] += n
    for f in out.values():
        if f["by_day"] is None:
            f["by_day"] = [0] * days
    out = dict(out)
    out["_escalations_recorded"] = escalations is not None
    return out


def _work_fields(f: dict, escalations_recorded: bool) -> dict:
    decided = f["kept"] + f["broken"]
    return dict(
        accounts=f["accounts"], attempts=f["attempts"], contacts=f["contacts"], right_party_contacts=f["rpc"],
        rpc_rate=_rate(f["rpc_out"], f["attempts"]), promises=f["ptp"], promised=_money(f["promised"]),
        plans=f["plans"], plans_kept=f["kept"], plans_broken=f["broken"], kept_rate=_rate(f["kept"], decided),
        collected=_money(f["collected"]), paying_accounts=len(f["payers"]),
        escalations=f["escalations"] if escalations_recorded else None,
        average_handle_s=round(f["handle_sum"] / f["handle_n"], 1) if f["handle_n"] else None,
        attempts_by_day=list(f["by_day"]),
    )


def agents(session: Session, user: User, days: int = 30, *, team: str | None = None,
           since: dt.datetime | None = None, until: dt.datetime | None = None) -> AgentReport:
    """Per agent: the agents of the team(s), and anyone else who worked its accounts in the
    period; ordered by name (display name, then user name), never by amount collected.
    An agent gets their own row only (their own figures, never anyone else's)."""
    own = user.role == "agent"
    if own:
        if user.team_id is None or team is not None:
            raise Forbidden("Forbidden", "An agent sees their own figures only")
        own_team = session.get(Team, user.team_id)
        team_id, team_name = user.team_id, own_team.name if own_team else None
    else:
        team_id, team_name = _scope(session, user, team)
    p = period(days, since, until)
    work = _work(session, p, team_id, "agent")
    recorded = work.pop("_escalations_recorded")
    ids = set(work) | set(session.scalars(select(User.id).where(
        User.role == "agent", User.active.is_(True), *_in_team(User.team_id, team_id))))
    ids.discard(None)
    if own:
        ids = {user.id}
    people = session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []
    rows = []
    for person in sorted(people, key=lambda u: (u.display_name.casefold(), u.username)):
        f = work.get(person.id) or _blank()
        if f["by_day"] is None:
            f["by_day"] = [0] * p.days
        rows.append(AgentFigures(agent=person.username, display_name=person.display_name,
                                 team=person.team.name if person.team else None, **_work_fields(f, recorded)))
    return AgentReport(period=p, team=team_name, agents=rows)


def teams(session: Session, user: User, days: int = 30, *, team: str | None = None,
          since: dt.datetime | None = None, until: dt.datetime | None = None) -> TeamReport:
    """Per team (the account's team): the same figures as the agent report, added up."""
    team_id, _name = _scope(session, user, team)
    p = period(days, since, until)
    work = _work(session, p, team_id, "team")
    recorded = work.pop("_escalations_recorded")
    agent_counts = dict(session.execute(select(User.team_id, func.count()).where(
        User.role == "agent", User.active.is_(True), User.team_id.is_not(None)).group_by(User.team_id)).all())
    found = session.scalars(select(Team).where(*_in_team(Team.id, team_id)).order_by(Team.name)).all()
    rows = []
    for t in found:
        f = work.get(t.id) or _blank()
        if f["by_day"] is None:
            f["by_day"] = [0] * p.days
        rows.append(TeamFigures(team=t.name, agents=agent_counts.get(t.id, 0), **_work_fields(f, recorded)))
    return TeamReport(period=p, teams=rows)


def bucket_of_months_late(months_late: int) -> str:
    """A statement month's months late (UCI repayment status) as a bucket: ≤ 0 current,
    1 ``X``, 2 ``30`` … 6 ``150``, 7 or more ``180+`` (as the seed turns them into DPD)."""
    if months_late <= 0:
        return "current"
    return BUCKETS[min(months_late, 7)]


def roll_matrix(histories: list[dict]) -> RollMatrix:
    """Month-on-month roll rates from statement histories (``status`` newest first)."""
    statuses = [h["status"] for h in histories if isinstance(h.get("status"), list) and len(h["status"]) >= 2]
    months = next((h.get("months") for h in histories if h.get("months")), None)
    rank = {b: i for i, b in enumerate(BUCKETS)}
    counts: dict[str, dict[str, int]] = {b: defaultdict(int) for b in BUCKETS}
    for status in statuses:
        counts[bucket_of_months_late(int(status[1]))][bucket_of_months_late(int(status[0]))] += 1
    rows = []
    for b in BUCKETS:
        to = counts[b]
        n = sum(to.values())
        forward = sum(v for k, v in to.items() if rank[k] > rank[b])
        rows.append(RollRow(bucket=b, accounts=n, to={k: to[k] for k in BUCKETS if to.get(k)},
                            roll_forward_rate=_rate(forward, n),
                            cure_rate=_rate(to.get("current", 0), n) if b != "current" else None))
    forward_trend: list[float | None] = []
    cure_trend: list[float | None] = []
    depth = min((len(s) for s in statuses), default=0)
    for i in range(depth - 1, 0, -1):  # oldest pair first: (i → i-1)
        late = forward = cured = 0
        for s in statuses:
            before, after = bucket_of_months_late(int(s[i])), bucket_of_months_late(int(s[i - 1]))
            if before == "current":
                continue
            late += 1
            forward += rank[after] > rank[before]
            cured += after == "current"
        forward_trend.append(_rate(forward, late))
        cure_trend.append(_rate(cured, late))
    return RollMatrix(from_month=months[1] if months and len(months) > 1 else None,
                      to_month=months[0] if months else None, accounts=len(statuses), rows=rows,
                      roll_forward_trend=forward_trend, cure_trend=cure_trend)


def _start_buckets(session: Session, p: ReportPeriod, team_id: int | None) -> dict[int, tuple[str, Payment, dict]]:
    """For each account paid since the period began, its bucket before the first payment
    recorded since then (the backend moves buckets only on payments, and audits each
    payment with the bucket before and after it), with that payment."""
    first: dict[int, tuple[str, Payment, dict]] = {}
    for payment, detail in session.execute(
        select(Payment, AuditEntry.detail)
        .join(Account, Account.id == Payment.account_id)
        .join(AuditEntry, (AuditEntry.entity == "payment") & (AuditEntry.entity_id == Payment.id)
              & (AuditEntry.action == "create"))
        .where(Payment.created_at >= p.since, *_in_team(Account.team_id, team_id))
        .order_by(Payment.created_at, Payment.id)
    ):
        if payment.account_id not in first:
            first[payment.account_id] = (str((detail or {}).get("bucket_before") or ""), payment, detail or {})
    return first


def _cures(session: Session, p: ReportPeriod, team_id: int | None) -> tuple[int, list[tuple[Account, str, Payment]]]:
    """(accounts delinquent when the period began, [(account cured since, bucket before, the curing payment)])."""
    first = _start_buckets(session, p, team_id)
    delinquent = 0
    for bucket, n in session.execute(
        select(Account.bucket, func.count()).where(*_in_team(Account.team_id, team_id),
                                                   Account.id.not_in(list(first) or [0]))
        .group_by(Account.bucket)
    ):
        if bucket != "current":
            delinquent += n  # unpaid since: in the same bucket as when the period began
    cured_ids = []
    for account_id, (before, _payment, _detail) in first.items():
        if before and before != "current":
            delinquent += 1
            cured_ids.append(account_id)
    cured = []
    if cured_ids:
        accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(cured_ids),
                                                                            Account.bucket == "current"))}
        if accounts:
            for payment, detail in session.execute(
                select(Payment, AuditEntry.detail)
                .join(AuditEntry, (AuditEntry.entity == "payment") & (AuditEntry.entity_id == Payment.id)
                      & (AuditEntry.action == "create"))
                .where(Payment.account_id.in_(list(accounts)), Payment.created_at >= p.since)
                .order_by(Payment.created_at.desc(), Payment.id.desc())
            ):
                a = accounts.get(payment.account_id)
                if a is not None and (detail or {}).get("bucket") == "current" \
                        and (detail or {}).get("bucket_before") != "current":
                    cured.append((a, first[a.id][0], payment))
                    del accounts[a.id]
    return delinquent, cured


def portfolio(session: Session, user: User, days: int = 30, *, team: str | None = None,
              since: dt.datetime | None = None, until: dt.datetime | None = None) -> PortfolioReport:
    """Accounts and balance by bucket now; month-on-month roll rates and the cure rate
    from the statement histories; and the cure in the period from the payments."""
    team_id, team_name = _scope(session, user, team)
    p = period(days, since, until)
    by_bucket: dict[str, dict] = {b: {"n": 0, "balance": defaultdict(int)} for b in BUCKETS}
    total_balance: dict[str, int] = defaultdict(int)
    for bucket, currency, n, balance in session.execute(
        select(Account.bucket, Account.currency, func.count(), func.sum(Account.balance_minor))
        .where(*_in_team(Account.team_id, team_id)).group_by(Account.bucket, Account.currency)
    ):
        by_bucket.setdefault(bucket, {"n": 0, "balance": defaultdict(int)})
        by_bucket[bucket]["n"] += n
        by_bucket[bucket]["balance"][currency] += int(balance or 0)
        total_balance[currency] += int(balance or 0)
    accounts = sum(b["n"] for b in by_bucket.values())
    buckets = [BucketFigures(bucket=b, accounts=by_bucket[b]["n"], balance=_money(by_bucket[b]["balance"]),
                             share=_rate(by_bucket[b]["n"], accounts)) for b in BUCKETS]
    histories = [h for h in session.scalars(select(Account.history).where(
        Account.history.is_not(None), *_in_team(Account.team_id, team_id))) if isinstance(h, dict)]
    roll = roll_matrix(histories)
    late_before = sum(r.accounts for r in roll.rows if r.bucket != "current")
    cured_months = sum(r.to.get("current", 0) for r in roll.rows if r.bucket != "current")
    delinquent, cured = _cures(session, p, team_id)
    collected: dict[str, int] = defaultdict(int)
    for currency, amount in session.execute(
        select(Payment.currency, func.sum(Payment.amount_minor)).join(Account, Account.id == Payment.account_id)
        .where(Payment.paid_at >= p.since, Payment.paid_at < p.until, *_in_team(Account.team_id, team_id))
        .group_by(Payment.currency)
    ):
        collected[currency] += int(amount or 0)
    return PortfolioReport(period=p, team=team_name, accounts=accounts, balance=_money(total_balance),
                           buckets=buckets, roll=roll, cure_rate=_rate(cured_months, late_before),
                           delinquent_at_start=delinquent, cured=len(cured),
                           period_cure_rate=_rate(len(cured), delinquent), collected=_money(collected))


def _fmt_minor(amount: int, currency: str) -> str:
    from backend_client.money import exponent, to_major

    return f"{currency} {to_major(amount, currency):,.{exponent(currency)}f}"


def _summary(c: Contact) -> str:
    return " ".join(x for x in (c.channel, c.direction, c.outcome, c.result) if x)


def cases(session: Session, user: User, days: int = 30, *, team: str | None = None,
          since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 50,
          no_contact_attempts: int = NO_CONTACT_ATTEMPTS) -> CasesReport:
    """Successful cases (plans kept, accounts cured) and difficult ones (plans broken,
    refusals to pay, disputes, ``no_contact_attempts`` or more attempts without reaching
    the customer), each with the account's notes and contacts: what was done."""
    team_id, team_name = _scope(session, user, team)
    p = period(days, since, until)
    found: dict[tuple[int, str], dict] = {}

    def add(kind: str, account_id: int, at: dt.datetime, what: str) -> None:
        key = (account_id, kind)
        if key not in found or found[key]["at"] < at:
            found[key] = {"kind": kind, "account_id": account_id, "at": at, "what": what}

    for event, plan in session.execute(
        select(PlanEvent, Plan).join(Plan, Plan.id == PlanEvent.plan_id)
        .where(PlanEvent.status.in_(("kept", "broken")), PlanEvent.at >= p.since, PlanEvent.at < p.until,
               *_in_team(Plan.team_id, team_id))
    ):
        paid = sum(i.paid_minor for i in plan.items)
        items = len(plan.items)
        by = plan.created_by.username if plan.created_by else "?"
        what = (f"{plan.kind} plan #{plan.id} of {_fmt_minor(plan.total_minor, plan.currency)} in "
                f"{items} payment{'s' if items != 1 else ''}, drafted by {by} on {plan.created_at.date().isoformat()}, "
                f"{event.status}: {_fmt_minor(paid, plan.currency)} paid")
        add("plan_" + event.status, plan.account_id, event.at, what)
    _delinquent, cured = _cures(session, p, team_id)
    for account, before, payment in cured:
        if payment.created_at < p.until:
            add("cured", account.id, payment.created_at,
                f"cured from bucket {before} by a payment of {_fmt_minor(payment.amount_minor, payment.currency)} "
                f"({payment.bank_ref})")
    contacts_in = (Contact.started_at >= p.since, Contact.started_at < p.until)
    for contact in session.scalars(
        select(Contact).join(Account, Account.id == Contact.account_id)
        .where(Contact.result.in_(("RTP", "DISP")), *contacts_in, *_in_team(Account.team_id, team_id))
    ):
        kind = "refused" if contact.result == "RTP" else "dispute"
        word = "refused to pay" if kind == "refused" else "disputed the debt"
        reason = f" ({contact.reason.replace('_', ' ')})" if contact.reason else ""
        add(kind, contact.account_id, contact.started_at,
            f"the customer {word}{reason} on a {contact.channel} contact by {contact.agent.username}")
    tallies: dict[int, dict[str, int]] = defaultdict(lambda: {"attempts": 0, "rpc": 0})
    last_attempt: dict[int, dt.datetime] = {}
    for account_id, outcome, direction, started in session.execute(
        select(Contact.account_id, Contact.outcome, Contact.direction, Contact.started_at)
        .join(Account, Account.id == Contact.account_id).where(*contacts_in, *_in_team(Account.team_id, team_id))
    ):
        t = tallies[account_id]
        if direction == "outbound" and counts_for(outcome).attempted:
            t["attempts"] += 1
            last_attempt[account_id] = max(started, last_attempt.get(account_id, started))
        t["rpc"] += outcome == "RPC"
    for account_id, t in tallies.items():
        if t["attempts"] >= no_contact_attempts and t["rpc"] == 0:
            add("no_contact", account_id, last_attempt[account_id],
                f"{t['attempts']} attempts in the period and the customer was never reached")

    successful_kinds = ("plan_kept", "cured")
    chosen = sorted(found.values(), key=lambda c: (c["at"], c["account_id"], c["kind"]), reverse=True)
    good = [c for c in chosen if c["kind"] in successful_kinds][:limit]
    bad = [c for c in chosen if c["kind"] not in successful_kinds][:limit]
    ids = {c["account_id"] for c in good + bad}
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))} if ids else {}
    notes: dict[int, list[str]] = defaultdict(list)
    recent: dict[int, list[CaseContact]] = defaultdict(list)
    if ids:
        for note in session.scalars(select(Note).where(Note.account_id.in_(ids))
                                    .order_by(Note.created_at.desc(), Note.id.desc())):
            if len(notes[note.account_id]) < 3:
                notes[note.account_id].append(note.text)
        for contact in session.scalars(select(Contact).where(Contact.account_id.in_(ids), *contacts_in)
                                       .order_by(Contact.started_at.desc(), Contact.id.desc())):
            if len(recent[contact.account_id]) < 5:
                recent[contact.account_id].append(CaseContact(at=contact.started_at, agent=contact.agent.username,
                                                              summary=_summary(contact), note=contact.note or ""))

    def case(c: dict) -> Case:
        a = accounts[c["account_id"]]
        t = tallies.get(a.id, {"attempts": 0, "rpc": 0})
        return Case(kind=c["kind"], successful=c["kind"] in successful_kinds, at=c["at"], what=c["what"],
                    account_id=a.id, account_ref=a.account_ref, customer_name=a.customer.name,
                    agent=a.agent.username if a.agent else None, team=a.team.name if a.team else None,
                    bucket=a.bucket, balance=Money(amount_minor=a.balance_minor, currency=a.currency),
                    attempts=t["attempts"], right_party_contacts=t["rpc"], notes=notes.get(a.id, []),
                    contacts=recent.get(a.id, []))

    return CasesReport(period=p, team=team_name, successful=[case(c) for c in good],
                       difficult=[case(c) for c in bad])


# --------------------------------------------------------------------------
# Treatments measured (issue 20, item 5)
#
# Per path (champion, challenger) and step: what the messages settled in the period did,
# each judged over a window after its own send, and only once that window has passed by
# the report's ``as_of`` (now): a text sent three days ago cannot be judged on payment in
# 7 days yet; it is counted as ``not_yet``, out of the denominator. Rates are counts and
# whole basis points worked out with integers; champion against challenger is each rate's
# difference (challenger − champion) with Newcombe's 95 % interval.

PAID_SHORT = dt.timedelta(days=7)
PAID_LONG = dt.timedelta(days=30)
OPT_OUT_WINDOW = dt.timedelta(days=30)
CURE_WINDOW = dt.timedelta(days=30)
TREATMENT_MEASURES = ("sent", "delivered", "opted_out", "paid_7d", "paid_30d", "cured_30d")
_WINDOWS = {"opted_out": OPT_OUT_WINDOW, "paid_7d": PAID_SHORT, "paid_30d": PAID_LONG, "cured_30d": CURE_WINDOW}
_SETTLED = ("sent", "failed", "skipped", "unknown")
_SIDES = ("champion", "challenger")


class _Tally:
    """Counts for one (strategy, step) or one path: attempted, then per measure count/of/not yet."""

    def __init__(self) -> None:
        self.attempted = 0
        self.counts = {m: [0, 0, 0] for m in TREATMENT_MEASURES}  # count, of, not yet

    def add(self, judged: dict[str, bool | None]) -> None:
        """One settled message: each measure True/False (judged) or None (not yet); a
        measure absent was not asked (its denominator does not take the message)."""
        self.attempted += 1
        for measure, verdict in judged.items():
            c = self.counts[measure]
            if verdict is None:
                c[2] += 1
            else:
                c[1] += 1
                c[0] += bool(verdict)

    def figures(self, strategy: str, step_id: str | None, channel: str | None, entry: bool) -> TreatmentFigures:
        measures = {m: TreatmentMeasure(count=c, of=of, rate_bp=rate_bp(c, of), not_yet=wait)
                    for m, (c, of, wait) in self.counts.items()}
        return TreatmentFigures(strategy=strategy, step_id=step_id, channel=channel, entry=entry,
                                attempted=self.attempted, **measures)


def _within(times: list[dt.datetime], after: dt.datetime, window: dt.timedelta) -> bool:
    """Any of ``times`` (sorted) in (after, after + window]."""
    i = bisect_right(times, after)
    return i < len(times) and times[i] <= after + window


def judge_send(channel: str, status: str, sent_at: dt.datetime | None, delivery: str | None, as_of: dt.datetime, *,
               payments: list[dt.datetime], cures: list[dt.datetime], ceases: list[dt.datetime]
               ) -> dict[str, bool | None]:
    """One settled message's measures: True or False where judged, None where its window has
    not passed by ``as_of`` (not yet). A message that did not reach its channel is judged on
    ``sent`` alone. ``payments``, ``cures`` (payments that made the account current) and
    ``ceases`` (opt-outs on the message's channel) are the account's, sorted."""
    reached = status == "sent" and sent_at is not None
    out: dict[str, bool | None] = {"sent": reached}
    if not reached:
        return out
    assert sent_at is not None
    out["delivered"] = delivery == "delivered" if channel == "sms" else True
    events = {"opted_out": ceases, "paid_7d": payments, "paid_30d": payments, "cured_30d": cures}
    for measure, window in _WINDOWS.items():
        out[measure] = _within(events[measure], sent_at, window) if sent_at + window <= as_of else None
    return out


def _comparison(step_id: str | None, champion: _Tally, challenger: _Tally) -> TreatmentComparison:
    rows = []
    for m in TREATMENT_MEASURES:
        b, n = champion.counts[m][:2]
        a, k = challenger.counts[m][:2]
        ci = interval_bp(a, k, b, n)
        rows.append(RateDifference(measure=m, champion_bp=rate_bp(b, n), challenger_bp=rate_bp(a, k),
                                   difference_bp=difference_bp(a, k, b, n),
                                   low_bp=ci[0] if ci else None, high_bp=ci[1] if ci else None))
    return TreatmentComparison(step_id=step_id, differences=rows)


def treatments(session: Session, user: User, days: int = 30, *, team: str | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None,
               now: dt.datetime | None = None) -> TreatmentReport:
    """What each treatment step and path did for the messages settled in the period (sent, or
    given up: failed, skipped, unknown; at ``sent_at``, else when they were settled), judged
    as of ``now``. Per message:

    - **attempted**: settled; **sent**: reached its channel (status ``sent``);
    - **delivered** (of those sent): a text with the gateway's receipt ``delivered`` (no receipt
      yet, or ``failed``/``expired``: not delivered); an e-mail or a letter counts as delivered
      once sent, since no receipt comes back for them;
    - **opted out** within 30 days: a cease on the message's channel starting after the send and
      at most 30 days after it (``flag_periods``), or an inbound contact on that channel with the
      result ``CEASE`` then; a cease before the send is not one it caused;
    - **paid within 7 / 30 days**: any payment on the account with ``paid_at`` in
      (sent, sent + N days];
    - **cured within 30 days**: a payment in (sent, sent + 30 days] that brought the account from
      a delinquent bucket to ``current``, as recorded when it came (its audit entry's
      ``bucket_before`` and ``bucket``, as the portfolio report's cure). An account made current
      by the bank's file alone, without a payment recorded here, is not seen as cured.

    The windowed measures count only messages whose window has passed by ``now``; the others
    are ``not_yet``. A path as a whole is its entry steps' messages (the steps no other step
    leads to). Supervisors see their team's accounts; legal officers and admins all, or ``team``."""
    team_id, team_name = _scope(session, user, team)
    as_of = (now or utcnow()).astimezone(dt.UTC)
    p = period(days, since, until, now=as_of)
    settled_at = func.coalesce(TreatmentSend.sent_at, TreatmentSend.updated_at)
    where = [TreatmentSend.status.in_(_SETTLED), settled_at >= p.since, settled_at < p.until,
             *_in_team(Account.team_id, team_id)]
    rows = session.execute(
        select(TreatmentSend.account_id, TreatmentSend.strategy, TreatmentSend.step_id, TreatmentSend.channel,
               TreatmentSend.status, TreatmentSend.sent_at, TreatmentSend.delivery)
        .join(Account, Account.id == TreatmentSend.account_id).where(*where)
        .order_by(TreatmentSend.id)).all()
    accounts = select(TreatmentSend.account_id).join(Account, Account.id == TreatmentSend.account_id).where(*where)
    payments: dict[int, list[dt.datetime]] = defaultdict(list)
    cures: dict[int, list[dt.datetime]] = defaultdict(list)
    ceases: dict[tuple[int, str], list[dt.datetime]] = defaultdict(list)
    if rows:  # what happened after the period began, on the accounts sent to (nothing before counts)
        for account_id, paid_at in session.execute(
                select(Payment.account_id, Payment.paid_at)
                .where(Payment.account_id.in_(accounts), Payment.paid_at > p.since)):
            payments[account_id].append(paid_at)
        for account_id, paid_at, detail in session.execute(
            select(Payment.account_id, Payment.paid_at, AuditEntry.detail)
            .join(AuditEntry, (AuditEntry.entity == "payment") & (AuditEntry.entity_id == Payment.id)
                  & (AuditEntry.action == "create"))
            .where(Payment.account_id.in_(accounts), Payment.paid_at > p.since)
        ):
            detail = detail or {}
            if detail.get("bucket") == "current" and detail.get("bucket_before") not in (None, "", "current"):
                cures[account_id].append(paid_at)
        for account_id, channel, started in session.execute(
                select(FlagPeriod.account_id, FlagPeriod.channel, FlagPeriod.started_at)
                .where(FlagPeriod.flag == "cease", FlagPeriod.account_id.in_(accounts), FlagPeriod.started_at > p.since)):
            if channel:
                ceases[(account_id, channel)].append(started)
        for account_id, channel, started in session.execute(
                select(Contact.account_id, Contact.channel, Contact.started_at)
                .where(Contact.direction == "inbound", Contact.result == "CEASE", Contact.account_id.in_(accounts),
                       Contact.started_at > p.since)):
            ceases[(account_id, channel)].append(started)
        for times in (*payments.values(), *cures.values(), *ceases.values()):
            times.sort()

    split = configuration().split
    paths = {"champion": split.champion.treatments, "challenger": split.challenger.treatments}
    entries = {side: {s.id for s in path.entry_steps} for side, path in paths.items()}
    order = {side: [s.id for s in path.steps] for side, path in paths.items()}
    channels = {(side, s.id): s.channel for side, path in paths.items() for s in path.steps}
    steps: dict[tuple[str, str], _Tally] = {key: _Tally() for key in channels}
    whole: dict[str, _Tally] = {side: _Tally() for side in _SIDES}
    for account_id, strategy, step_id, channel, status, sent_at, delivery in rows:
        judged = judge_send(channel, status, sent_at, delivery, as_of, payments=payments.get(account_id, []),
                            cures=cures.get(account_id, []), ceases=ceases.get((account_id, channel), []))
        steps.setdefault((strategy, step_id), _Tally()).add(judged)
        channels.setdefault((strategy, step_id), channel)
        if step_id in entries.get(strategy, ()):
            whole.setdefault(strategy, _Tally()).add(judged)

    def place(key: tuple[str, str]) -> tuple[bool, int, str, int, str]:
        side, step_id = key
        known = order.get(side, [])
        return (side not in _SIDES, _SIDES.index(side) if side in _SIDES else 0, side,
                known.index(step_id) if step_id in known else len(known), step_id)

    step_figures = [steps[key].figures(key[0], key[1], channels.get(key), key[1] in entries.get(key[0], ()))
                    for key in sorted(steps, key=place)]
    path_figures = [whole[side].figures(side, None, None, True) for side in sorted(whole, key=lambda s: place((s, "")))]
    comparisons = [_comparison(None, whole["champion"], whole["challenger"])]
    both = [sid for side, sid in sorted(steps, key=place) if side == "champion" and ("challenger", sid) in steps]
    comparisons += [_comparison(sid, steps[("champion", sid)], steps[("challenger", sid)]) for sid in both]
    return TreatmentReport(period=p, as_of=as_of, team=team_name, paths=path_figures, steps=step_figures,
                           comparisons=comparisons)
