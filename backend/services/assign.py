"""Moving accounts between agents and teams in one action (SPEC §5 ``POST /accounts/assign``)."""

from __future__ import annotations

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.orm import Session

from backend.api.errors import ProblemError
from backend.domain.money import to_minor
from backend.models import Account, Customer, Team, User, utcnow
from backend.services import audit
from backend.services.accounts import money, search_filter, search_index, visible
from backend_client.models import (
    AccountFilter,
    AssignCandidate,
    AssignPreview,
    AssignRequest,
    AssignResult,
    Bucket,
)

MAX_MOVED = 200_000


def matching(session: Session, user: User, f: AccountFilter) -> Select:
    """The ids of the accounts ``user`` may see that match ``f``."""
    stmt = visible(select(Account.id).where(Account.status != "closed"), user)
    errors: list[tuple[str, str]] = []
    if f.bucket:
        stmt = stmt.where(Account.bucket.in_([b.value for b in f.bucket]))
    if f.min_balance is not None or f.max_balance is not None:
        if not f.currency:
            errors.append(("filter.currency", "a balance band needs its currency"))
        else:
            stmt = stmt.where(Account.currency == f.currency)
            for name, value, op in (("min_balance", f.min_balance, "ge"), ("max_balance", f.max_balance, "le")):
                if value is None:
                    continue
                try:
                    minor = to_minor(value, f.currency)
                except ValueError as exc:
                    errors.append((f"filter.{name}", str(exc)))
                    continue
                stmt = stmt.where(Account.balance_minor >= minor if op == "ge" else Account.balance_minor <= minor)
    if f.min_dpd is not None:
        stmt = stmt.where(Account.dpd >= f.min_dpd)
    if f.max_dpd is not None:
        stmt = stmt.where(Account.dpd <= f.max_dpd)
    if f.min_dpd is not None and f.max_dpd is not None and f.min_dpd > f.max_dpd:
        errors.append(("filter.max_dpd", "below min_dpd"))
    if f.q and f.q.strip():
        stmt = stmt.join(Customer, Customer.id == Account.customer_id).where(
            search_filter(f.q, search_index(session)))
    if f.min_risk is not None:
        stmt = stmt.where(Account.risk >= f.min_risk)
    if f.max_risk is not None:
        stmt = stmt.where(Account.risk <= f.max_risk)
    if f.team:
        stmt = stmt.join(Team, Team.id == Account.team_id).where(Team.name == f.team)
    if f.agent is not None:
        if f.agent == "":
            stmt = stmt.where(Account.agent_id.is_(None))
        else:
            agent = session.scalar(select(User).where(User.username == f.agent))
            stmt = stmt.where(Account.agent_id == (agent.id if agent else -1))
    if errors:
        raise ProblemError(422, "Invalid request", "; ".join(f"{k}: {m}" for k, m in errors), errors=errors)
    return stmt


ASSIGNERS = ("supervisor", "admin")
PREVIEW_ITEMS = 200
"""The accounts a preview lists (all of them are counted)."""


def preview(session: Session, user: User, f: AccountFilter, limit: int = PREVIEW_ITEMS) -> AssignPreview:
    """How many accounts ``f`` matches, whose they are now, and the first ``limit`` of them
    (the latest first): what a supervisor sees before moving them."""
    if user.role not in ASSIGNERS:
        raise ProblemError(403, "Forbidden", "Only a supervisor or an admin assigns accounts")
    ids = matching(session, user, f).subquery()
    owner = func.coalesce(User.username, "")
    by_agent = {name: n for name, n in session.execute(
        select(owner, func.count()).select_from(Account).outerjoin(User, User.id == Account.agent_id)
        .where(Account.id.in_(select(ids.c.id))).group_by(owner))}
    items = []
    for account in session.scalars(select(Account).where(Account.id.in_(select(ids.c.id)))
                                   .order_by(Account.dpd.desc(), Account.id).limit(limit)):
        items.append(AssignCandidate(
            id=account.id, account_ref=account.account_ref, customer_name=account.customer.name,
            agent=account.agent.username if account.agent else None, team=account.team.name if account.team else None,
            dpd=account.dpd, bucket=Bucket(account.bucket), balance=money(account.balance_minor, account.currency)))
    return AssignPreview(matched=sum(by_agent.values()), by_agent=dict(sorted(by_agent.items())), items=items)


def assign(session: Session, user: User, data: AssignRequest) -> AssignResult:
    if user.role not in ASSIGNERS:
        raise ProblemError(403, "Forbidden", "Only a supervisor or an admin assigns accounts")
    if (data.ids is None) == (data.filter is None):
        raise ProblemError(422, "Invalid request", "give the accounts as ids or as a filter, not both",
                           errors=[("ids", "give ids or a filter")])
    if data.to_agent is None and data.to_team is None:
        raise ProblemError(422, "Invalid request", "to_agent or to_team: say where the accounts go",
                           errors=[("to_agent", "say where the accounts go")])
    team = None
    if data.to_team is not None:
        team = session.scalar(select(Team).where(Team.name == data.to_team))
        if team is None:
            raise ProblemError(422, "Invalid request", f"to_team: no team {data.to_team!r}",
                               errors=[("to_team", "no such team")])
        if user.role == "supervisor" and team.id != user.team_id:
            raise ProblemError(403, "Forbidden", "A supervisor assigns within their own team")
    agent = None
    if data.to_agent:
        agent = session.scalar(select(User).where(User.username == data.to_agent))
        if agent is None or agent.role not in ("agent", "supervisor") or not agent.active:
            raise ProblemError(422, "Invalid request", f"to_agent: no agent {data.to_agent!r}",
                               errors=[("to_agent", "no such agent")])
        target_team = team.id if team is not None else agent.team_id
        if agent.team_id != target_team:
            raise ProblemError(422, "Invalid request", f"to_agent: {agent.username} is not in that team",
                               errors=[("to_agent", "not in the team")])
        if user.role == "supervisor" and agent.team_id != user.team_id:
            raise ProblemError(403, "Forbidden", "A supervisor assigns within their own team")
    if data.ids is not None:
        chosen = visible(select(Account.id).where(Account.id.in_(data.ids)), user)
        found = set(session.scalars(chosen))
        unknown = sorted(set(data.ids) - found)
        if unknown:
            raise ProblemError(404, "Not found", f"No such account: {', '.join(map(str, unknown[:20]))}",
                               errors=[("ids", f"{len(unknown)} not found")])
        ids = sorted(found)
    else:
        assert data.filter is not None
        ids = list(session.scalars(matching(session, user, data.filter).order_by(Account.id).limit(MAX_MOVED + 1)))
        if len(ids) > MAX_MOVED:
            raise ProblemError(422, "Too many", f"the filter matches more than {MAX_MOVED:,} accounts: narrow it",
                               errors=[("filter", "matches too many accounts")])
    values: dict[str, object] = {"updated_at": utcnow(), "version": Account.version + 1}
    if team is not None:
        values["team_id"] = team.id
    if data.to_agent is not None:
        values["agent_id"] = agent.id if agent else None
        if agent is not None and team is None:
            values["team_id"] = agent.team_id
    moved = 0
    for start in range(0, len(ids), 5_000):
        part = ids[start:start + 5_000]
        # Leases follow nobody: a moved account is let go, so its new owner can take it.
        moved += session.execute(
            update(Account).where(and_(Account.id.in_(part))).values(**values, lease_user_id=None, lease_expires_at=None),
            execution_options={"synchronize_session": False},
        ).rowcount or 0
    audit.record(session, user.id, "assign", "account", None, count=moved, to_agent=data.to_agent,
                 to_team=data.to_team, note=data.note, ids=ids[:1000])
    session.flush()
    return AssignResult(moved=moved, to_agent=data.to_agent, to_team=data.to_team)
