"""The compliance engine applied to stored accounts: builds the engine's inputs
from the database and answers verdicts in the wire shape."""

from __future__ import annotations

import datetime as dt

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.compliance.engine import PastContact, Subject, evaluate, next_allowed
from backend.compliance.policy import Policy, applicable, default_policies
from backend.models import Account, Contact
from backend.services.contactability import zones_of
from backend_client.models import ComplianceBlock, ComplianceVerdict, LocalTime




def policies_for(account: Account, deployment_default: tuple[str, ...] = ("default",)) -> tuple[Policy, ...]:
    customer = account.customer
    return applicable(default_policies(), customer.country, customer.region, deployment_default)


def subject_of(account: Account) -> Subject:
    customer = account.customer
    return Subject(
        zones=tuple(zones_of(customer)),
        country=customer.country,
        region=customer.region,
        flags=dict(account.flags or {}),
        do_not_call=frozenset(p.number for p in customer.phones if p.do_not_call),
        phones=tuple(p.number for p in customer.phones),
    )


def history_of(session: Session, account_id: int, days: int = 400) -> list[PastContact]:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    rows = session.execute(
        select(Contact.started_at, Contact.channel, Contact.direction, Contact.party, Contact.outcome, Contact.result,
               Contact.used, Contact.callback_at)
        .where(Contact.account_id == account_id, Contact.started_at >= since)
        .order_by(Contact.started_at)
    ).all()
    return [PastContact(at=r[0], channel=r[1], direction=r[2], party=r[3], outcome=r[4], result=r[5], used=r[6],
                        callback_at=r[7]) for r in rows]


def verdict(
    session: Session,
    account: Account,
    channel: str,
    at: dt.datetime,
    *,
    party: str = "debtor",
    direction: str = "outbound",
    used: str | None = None,
    history: list[PastContact] | None = None,
    deployment_default: tuple[str, ...] = ("default",),
) -> ComplianceVerdict:
    policies = policies_for(account, deployment_default)
    subject = subject_of(account)
    history = history if history is not None else history_of(session, account.id)
    kwargs = {"party": party, "direction": direction, "used": used}
    decision = evaluate(policies, subject, history, channel, at, **kwargs)
    nxt = at if decision.allowed else next_allowed(policies, subject, history, channel, at, **kwargs)
    locals_ = [LocalTime(zone=z, local=at.astimezone(ZoneInfo(z))) for z in subject.zones]
    return ComplianceVerdict(
        allowed=decision.allowed,
        blocks=[ComplianceBlock(rule=b.rule, detail=b.detail, until=b.until, policy=b.policy, cite=b.cite)
                for b in decision.blocks],
        customer_local_time=locals_[0].local,
        customer_local_times=locals_,
        next_allowed_at=nxt,
        policies=[p.id for p in policies],
        channel=channel,
        at=at,
    )
