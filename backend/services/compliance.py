"""The compliance engine applied to stored accounts: builds the engine's inputs
from the database, keeps each account's phone answer beside its priority, and
answers verdicts and breaches in the wire shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.compliance.engine import (
    Block,
    ContactState,
    PastContact,
    Place,
    Subject,
    binding_zone,
    contact_state,
    counts,
    evaluate,
    next_after,
)
from backend.compliance.policy import Policy, applicable
from backend.domain.errors import Forbidden
from backend.domain.regions import zone_label
from backend.models import Account, Contact, Customer, User, utcnow
from backend.services import configuration
from backend.services import flags as flag_history
from backend.services.contactability import customer_places
from backend_client.models import ComplianceBlock, ComplianceVerdict, LimitCount, LocalTime
from backend_client.models import Place as PlaceOut

HISTORY_DAYS = 400
"""How far back the rules look: third-party contacts and call backs over a year, caps over days."""

_deployment_default: tuple[str, ...] = ("default",)


def configure(deployment_default: Sequence[str]) -> None:
    """The policies every account is held to whatever its country (settings ``policies``)."""
    global _deployment_default
    _deployment_default = tuple(deployment_default) or ("default",)


def policies_for(customer: Customer) -> tuple[Policy, ...]:
    return policies_at(customer.country, customer.region)


def policies_at(country: str | None, region: str | None) -> tuple[Policy, ...]:
    """The policies a customer of ``country`` (and ``region``) is held to."""
    return applicable(configuration.current().policies, country, region, _deployment_default)


def subject_flags(flags: dict | None, status: str | None) -> dict[str, object]:
    """The flags the engine sees in force now: the account's own, and ``legal`` while under legal hold."""
    out = dict(flags or {})
    if status == "legal":
        out["legal"] = True
    return out


def make_subject(flags: dict[str, object], country: str | None, region: str | None, places: tuple[Place, ...],
                 phones: Sequence[tuple[str, str, bool]], history: Any = None) -> Subject:
    """The engine's view of an account from its parts: ``phones`` as (number, kind, do not call)
    in the customer's order; ``history`` the flags' periods, or None for the flags in force now."""
    return Subject(
        zones=tuple(p.zone for p in places),
        country=country,
        region=region,
        flags=flags,
        do_not_call=frozenset(number for number, _kind, dnc in phones if dnc),
        phones=tuple(number for number, _kind, _dnc in phones),
        phone_kinds={number: kind for number, kind, _dnc in phones},
        flag_history=history,
        places=places,
    )


def subject_of(account: Account, session: Session | None = None) -> Subject:
    """The engine's view of the account. With a ``session`` it carries the flags'
    history (a contact is judged by the flags in force when it was made); without,
    the flags in force now (the worklist's answer for now)."""
    customer = account.customer
    return make_subject(subject_flags(account.flags, account.status), customer.country, customer.region,
                        places_of(customer), [(p.number, p.kind, p.do_not_call) for p in customer.phones],
                        flag_history.history(session, account) if session is not None else None)


def places_out(places: Iterable[Place]) -> list[PlaceOut]:
    """The places in the wire shape, each with its label."""
    return [PlaceOut(zone=p.zone, label=zone_label(p.zone), sources=list(p.sources)) for p in places]


def places_of(customer: Customer) -> tuple[Place, ...]:
    """Every place the customer could be, with what points there (see ``customer_places``)."""
    return tuple(Place(zone, sources) for zone, sources in customer_places(customer))


_HISTORY_COLUMNS = (Contact.account_id, Contact.started_at, Contact.channel, Contact.direction, Contact.party,
                    Contact.outcome, Contact.result, Contact.used, Contact.callback_at, Contact.ptp_date)


def _past(r: Any) -> PastContact:
    return PastContact(at=r.started_at, channel=r.channel, direction=r.direction, party=r.party, outcome=r.outcome,
                       result=r.result, used=r.used, callback_at=r.callback_at, ptp_date=r.ptp_date)


def history_of(session: Session, account_id: int, now: dt.datetime | None = None) -> list[PastContact]:
    """The account's contacts of the last ``HISTORY_DAYS`` days, oldest first."""
    since = (now or utcnow()) - dt.timedelta(days=HISTORY_DAYS)
    rows = session.execute(
        select(*_HISTORY_COLUMNS).where(Contact.account_id == account_id, Contact.started_at >= since)
        .order_by(Contact.started_at, Contact.id)
    ).all()
    return [_past(r) for r in rows]


def histories_of(session: Session, account_ids: Sequence[int], now: dt.datetime) -> dict[int, list[PastContact]]:
    since = now - dt.timedelta(days=HISTORY_DAYS)
    found: dict[int, list[PastContact]] = {i: [] for i in account_ids}
    for r in session.execute(
        select(*_HISTORY_COLUMNS).where(Contact.account_id.in_(account_ids), Contact.started_at >= since)
        .order_by(Contact.account_id, Contact.started_at, Contact.id)
    ):
        found[r.account_id].append(_past(r))
    return found


def phone_state(account: Account, history: Sequence[PastContact], now: dt.datetime) -> ContactState:
    """May the customer be phoned now; from when if not; until when that answer holds."""
    return contact_state(policies_for(account.customer), subject_of(account), history, "phone", now)


def block_out(b: Block) -> ComplianceBlock:
    return ComplianceBlock(rule=b.rule, detail=b.detail, until=b.until, policy=b.policy, cite=b.cite)


def block_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block_out(b).model_dump(mode="json") for b in blocks]


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
    role: str | None = None,
) -> ComplianceVerdict:
    """The verdict on one contact at ``at``, judged by the flags in force then; ``role``
    is who would make it (only legal officers act on an account under legal hold)."""
    policies = policies_for(account.customer)
    subject = subject_of(account, session)
    history = history if history is not None else history_of(session, account.id, at)
    kwargs: dict[str, Any] = {"party": party, "direction": direction, "used": used, "role": role}
    decision = evaluate(policies, subject, history, channel, at, **kwargs)
    nxt = next_after(decision, policies, subject, history, channel, at, **kwargs)
    locals_ = [LocalTime(zone=z, local=at.astimezone(ZoneInfo(z))) for z in subject.zones]
    counted = [LimitCount(policy=c.policy, counted=c.counted, max=c.limit.max_attempts, days=c.limit.days,
                          channels=sorted(c.limit.channels), kinds=sorted(c.limit.kinds), cite=c.limit.cite)
               for c in counts(policies, subject, history, channel, at, party=party, used=used)] \
        if direction == "outbound" else []
    return ComplianceVerdict(
        allowed=decision.allowed,
        blocks=[block_out(b) for b in decision.blocks],
        customer_local_time=locals_[0].local,
        customer_local_times=locals_,
        next_allowed_at=nxt,
        policies=[p.id for p in policies],
        channel=channel,
        at=at,
        places=places_out(subject.places),
        counts=counted,
        next_allowed_zone=binding_zone(policies, subject, channel, nxt) if nxt is not None and nxt != at else None,
    )


def disclosure_required(account: Account) -> frozenset[str]:
    """The results that need identity verified and the disclosure given on the call (SPEC §4)."""
    return frozenset(r for p in policies_for(account.customer) for leaf in p.flatten()
                     for r in leaf.disclosure_required_for)


# --------------------------------------------------------------------------
# Keeping the stored answers fresh


# --------------------------------------------------------------------------
# Breaches


def breaches(session: Session, user: User, *, limit: int = 100, before_id: int | None = None,
             team: str | None = None) -> list[tuple[Contact, Account]]:
    """Contacts flagged as breaches, newest first: a supervisor's own team, everyone's for admin and legal."""
    if user.role not in ("supervisor", "admin", "legal"):
        raise Forbidden("Forbidden", "Breaches are listed for supervisors")
    stmt = (select(Contact, Account).join(Account, Account.id == Contact.account_id)
            .where(Contact.breach.is_(True)))
    if user.role == "supervisor":
        stmt = stmt.where(Account.team_id == user.team_id)
    if team:
        from backend.models import Team

        stmt = stmt.join(Team, Team.id == Account.team_id).where(Team.name == team)
    if before_id is not None:
        stmt = stmt.where(Contact.id < before_id)
    stmt = stmt.order_by(Contact.id.desc()).limit(limit)
    return [(c, a) for c, a in session.execute(stmt).all()]
