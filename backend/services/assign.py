"""Moving accounts between agents and teams in one action (SPEC §5 ``POST /accounts/assign``).

One filter builder (:func:`where`) serves both ways of naming a set of accounts:
the request's :class:`AccountFilter` and a saved segment (``backend.services.segments``);
one mover (:func:`resolve_target`, :func:`move`) moves them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.orm import Session

from backend.domain.errors import DomainError, Forbidden, Invalid, NotFound
from backend.models import Account, Customer, Team, User, utcnow
from backend.services import audit
from backend.services.accounts import NOT_WORKABLE, money, search_filter, search_index, visible
from backend_client.models import (
    AccountFilter,
    AssignCandidate,
    AssignPreview,
    AssignRequest,
    AssignResult,
    Bucket,
)
from backend_client.money import to_minor

MAX_MOVED = 200_000
MOVERS = ("supervisor", "admin")


@dataclass(frozen=True)
class Criteria:
    """A set of accounts by what they are, in the database's own units; every
    condition given must hold, bands are inclusive."""

    buckets: tuple[str, ...] = ()
    currency: str | None = None
    min_balance_minor: int | None = None
    max_balance_minor: int | None = None
    min_risk: float | None = None
    max_risk: float | None = None
    min_priority: float | None = None
    max_priority: float | None = None
    min_dpd: int | None = None
    max_dpd: int | None = None
    team_id: int | None = None
    team_name: str | None = None
    agent: str | None = None
    """An agent's user name; ``""`` for a team's unassigned pool."""
    q: str | None = None
    """Search text, as the worklist's: account reference, customer name, a card's last four."""


def invalid(errors: list[tuple[str, str]]) -> DomainError:
    return Invalid("Invalid request", "; ".join(f"{k}: {m}" for k, m in errors), errors=errors)


def band_errors(prefix: str, c: Criteria) -> list[tuple[str, str]]:
    """Bands whose ends are the wrong way round, and a balance band without its currency."""
    errors = []
    if (c.min_balance_minor is not None or c.max_balance_minor is not None) and not c.currency:
        errors.append((f"{prefix}.currency", "a balance band needs its currency"))
    for name in ("balance", "risk", "priority", "dpd"):
        low = getattr(c, f"min_{name}_minor" if name == "balance" else f"min_{name}")
        high = getattr(c, f"max_{name}_minor" if name == "balance" else f"max_{name}")
        if low is not None and high is not None and low > high:
            field = f"max_{name}_minor" if name == "balance" else f"max_{name}"
            errors.append((f"{prefix}.{field}", f"below the band's lower end ({low})"))
    return errors


def criteria_of(f: AccountFilter) -> Criteria:
    """The request's filter in the database's units (balances to minor units); 422 naming the field."""
    errors: list[tuple[str, str]] = []
    minor: dict[str, int | None] = {"min_balance": None, "max_balance": None}
    if f.min_balance is not None or f.max_balance is not None:
        if not f.currency:
            errors.append(("filter.currency", "a balance band needs its currency"))
        else:
            for name in minor:
                value = getattr(f, name)
                if value is None:
                    continue
                try:
                    minor[name] = to_minor(value, f.currency)
                except ValueError as exc:
                    errors.append((f"filter.{name}", str(exc)))
    if errors:
        raise invalid(errors)
    return Criteria(
        buckets=tuple(b.value for b in f.bucket or ()), currency=f.currency,
        min_balance_minor=minor["min_balance"], max_balance_minor=minor["max_balance"],
        min_risk=f.min_risk, max_risk=f.max_risk, min_priority=f.min_priority, max_priority=f.max_priority,
        min_dpd=f.min_dpd, max_dpd=f.max_dpd, team_name=f.team, agent=f.agent, q=f.q,
    )


def where(session: Session, user: User, c: Criteria) -> Select:
    """The ids of the open accounts ``user`` may see that meet ``c``: the one filter builder.
    Closed accounts and those on legal hold are no one's work: never matched, counted or moved."""
    stmt = visible(select(Account.id).where(Account.status.not_in(NOT_WORKABLE)), user)
    if c.buckets:
        stmt = stmt.where(Account.bucket.in_(c.buckets))
    if c.min_balance_minor is not None or c.max_balance_minor is not None:
        stmt = stmt.where(Account.currency == c.currency)
    if c.min_balance_minor is not None:
        stmt = stmt.where(Account.balance_minor >= c.min_balance_minor)
    if c.max_balance_minor is not None:
        stmt = stmt.where(Account.balance_minor <= c.max_balance_minor)
    for column, low, high in ((Account.risk, c.min_risk, c.max_risk),
                              (Account.priority, c.min_priority, c.max_priority),
                              (Account.dpd, c.min_dpd, c.max_dpd)):
        if low is not None:
            stmt = stmt.where(column >= low)
        if high is not None:
            stmt = stmt.where(column <= high)
    if c.q and c.q.strip():
        stmt = stmt.join(Customer, Customer.id == Account.customer_id).where(search_filter(c.q, search_index(session)))
    if c.team_id is not None:
        stmt = stmt.where(Account.team_id == c.team_id)
    if c.team_name:
        stmt = stmt.join(Team, Team.id == Account.team_id).where(Team.name == c.team_name)
    if c.agent is not None:
        if c.agent == "":
            stmt = stmt.where(Account.agent_id.is_(None))
        else:
            agent = session.scalar(select(User).where(User.username == c.agent))
            stmt = stmt.where(Account.agent_id == (agent.id if agent else -1))
    return stmt


def matching(session: Session, user: User, f: AccountFilter) -> Select:
    """The ids of the accounts ``user`` may see that match ``f``."""
    c = criteria_of(f)
    errors = band_errors("filter", c)
    if errors:
        raise invalid(errors)
    return where(session, user, c)


def must_move(user: User) -> None:
    if user.role not in MOVERS:
        raise Forbidden("Forbidden", "Only a supervisor or an admin assigns accounts")


def resolve_target(session: Session, user: User, to_agent: str | None, to_team: str | None,
                   field: str = "") -> tuple[Team | None, User | None]:
    """The team and agent named as a destination, checked: they exist, the agent
    is in the team, and a supervisor names only their own team's."""
    if to_agent is None and to_team is None:
        raise Invalid("Invalid request", f"{field}to_agent or {field}to_team: say where the accounts go",
                           errors=[(f"{field}to_agent", "say where the accounts go")])
    team = None
    if to_team is not None:
        team = session.scalar(select(Team).where(Team.name == to_team))
        if team is None:
            raise Invalid("Invalid request", f"{field}to_team: no team {to_team!r}",
                               errors=[(f"{field}to_team", "no such team")])
        if user.role == "supervisor" and team.id != user.team_id:
            raise Forbidden("Forbidden", "A supervisor assigns within their own team")
    agent = None
    if to_agent:
        agent = session.scalar(select(User).where(User.username == to_agent))
        if agent is None or agent.role not in ("agent", "supervisor") or not agent.active:
            raise Invalid("Invalid request", f"{field}to_agent: no agent {to_agent!r}",
                               errors=[(f"{field}to_agent", "no such agent")])
        target_team = team.id if team is not None else agent.team_id
        if agent.team_id != target_team:
            raise Invalid("Invalid request", f"{field}to_agent: {agent.username} is not in that team",
                               errors=[(f"{field}to_agent", "not in the team")])
        if user.role == "supervisor" and agent.team_id != user.team_id:
            raise Forbidden("Forbidden", "A supervisor assigns within their own team")
    return team, agent


def ids_of(session: Session, stmt: Select) -> list[int]:
    """The ids ``stmt`` selects, refused when more than ``MAX_MOVED``."""
    ids = list(session.scalars(stmt.order_by(Account.id).limit(MAX_MOVED + 1)))
    if len(ids) > MAX_MOVED:
        raise Invalid("Too many", f"the filter matches more than {MAX_MOVED:,} accounts: narrow it",
                           errors=[("filter", "matches too many accounts")])
    return ids


def move(session: Session, user: User, ids: list[int], team: Team | None, agent: User | None, *,
         to_agent: str | None, to_team: str | None, note: str = "", **detail: object) -> int:
    """Move the accounts ``ids`` to ``agent`` and/or ``team`` (``to_agent=""``: the
    team's pool), letting go of their leases; audited. Answers how many moved."""
    values: dict[str, object] = {"updated_at": utcnow(), "version": Account.version + 1}
    if team is not None:
        values["team_id"] = team.id
    if to_agent is not None:
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
    audit.record(session, user.id, "assign", "account", None, count=moved, to_agent=to_agent,
                 to_team=to_team, note=note, ids=ids[:1000], **detail)
    session.flush()
    return moved


PREVIEW_ITEMS = 200
"""The accounts a preview lists (all of them are counted)."""


def preview(session: Session, user: User, f: AccountFilter, limit: int = PREVIEW_ITEMS) -> AssignPreview:
    """How many accounts ``f`` matches, whose they are now, and the first ``limit`` of them
    (the latest first): what a supervisor sees before moving them."""
    must_move(user)
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
    must_move(user)
    if (data.ids is None) == (data.filter is None):
        raise Invalid("Invalid request", "give the accounts as ids or as a filter, not both",
                           errors=[("ids", "give ids or a filter")])
    team, agent = resolve_target(session, user, data.to_agent, data.to_team)
    if data.ids is not None:
        chosen = visible(select(Account.id).where(Account.id.in_(data.ids)), user)
        found = set(session.scalars(chosen))
        unknown = sorted(set(data.ids) - found)
        if unknown:
            raise NotFound("Not found", f"No such account: {', '.join(map(str, unknown[:20]))}",
                               errors=[("ids", f"{len(unknown)} not found")])
        ids = sorted(found)
    else:
        assert data.filter is not None
        ids = ids_of(session, matching(session, user, data.filter))
    moved = move(session, user, ids, team, agent, to_agent=data.to_agent, to_team=data.to_team, note=data.note)
    return AssignResult(moved=moved, to_agent=data.to_agent, to_team=data.to_team)
