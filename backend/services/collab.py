"""Collaboration (issue 5 item 4): notes shared with other teams, and handoffs.

**Shared notes.** A note is ``team`` (the owning team's, the default) or
``shared``. Any signed-in user of the bank (customer service, sales: the
``service`` role, or an agent of another team) may read an account's *shared*
notes, and only those, with a minimal header: the account reference, the
customer's name, the masked card, the status, whether it is past due, and the
team and agent who handle it, so the customer can be referred to them. No
phones, e-mail, addresses, balances, days past due, flags or priority: a service
rep needs none of them to pass a message on. Every read is audited.

**Handoffs.** ``POST /accounts/{id}/handoff`` moves an account to another agent
(into that agent's team), to another team's pool, or to an agent of a named
team, with a note; the lease on it is let go, and the move is on the timeline.
Who may: the account's own agent (or whoever holds its lease), a supervisor of
its team, an admin. Where to: an active agent or supervisor, or a team that has
one (a team nobody in collections works, such as customer service, cannot take
an account: share a note with them instead). Not to where it is already.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain.accounts import mask_card
from backend.domain.errors import Forbidden, invalid, not_found
from backend.models import Account, Handoff, Note, Team, User, utcnow
from backend.services import audit
from backend.services.accounts import get_visible, visible
from backend.services.contacts import note_out
from backend_client.models import (
    AccountStatus,
    HandoffCreate,
    HandoffOut,
    SharedAccountHeader,
    SharedNotes,
)

WORKING_ROLES = ("agent", "supervisor")
MAX_SHARED = 200


# --------------------------------------------------------------------------
# Shared notes


def header(account: Account) -> SharedAccountHeader:
    return SharedAccountHeader(
        id=account.id, account_ref=account.account_ref, customer_name=account.customer.name,
        card=mask_card(account.card_last4), status=AccountStatus(account.status),
        in_collections=account.bucket != "current", team=account.team.name if account.team else None,
        agent=account.agent.display_name if account.agent else None,
    )


def shared_notes(session: Session, user: User, *, account_id: int | None = None,
                 account_ref: str | None = None) -> SharedNotes:
    """An account's shared notes, newest first, for any signed-in user; audited."""
    stmt = select(Account)
    stmt = stmt.where(Account.id == account_id) if account_id is not None else stmt.where(
        Account.account_ref == account_ref)
    account = session.scalar(stmt)
    if account is None:
        raise not_found()
    notes = session.scalars(
        select(Note).where(Note.account_id == account.id, Note.visibility == "shared")
        .order_by(Note.created_at.desc(), Note.id.desc()).limit(MAX_SHARED)
    ).all()
    if not notes and session.scalar(visible(select(Account.id).where(Account.id == account.id), user)) is None:
        # The header is there for the notes: another team learns nothing of an account
        # nobody shared a note about (not even that its reference exists).
        raise not_found()
    audit.record(session, user.id, "view", "shared_notes", account.id, notes=[n.id for n in notes])
    return SharedNotes(account=header(account), items=[note_out(n) for n in notes])


# --------------------------------------------------------------------------
# Handoffs


def handoff_out(h: Handoff) -> HandoffOut:
    return HandoffOut(
        id=h.id, account_id=h.account_id, from_team=h.from_team.name,
        from_agent=h.from_agent.username if h.from_agent else None, to_team=h.to_team.name,
        to_agent=h.to_agent.username if h.to_agent else None, by=h.actor.username, note=h.note, at=h.at,
    )


def _may_hand_off(user: User, account: Account) -> None:
    if user.role == "admin":
        return
    if user.role == "supervisor" and account.team_id == user.team_id:
        return
    if user.role == "agent" and user.id in (account.agent_id, account.lease_user_id):
        return
    raise Forbidden("Forbidden", "The account's own agent or a supervisor of its team hands it off")


def _target(session: Session, data: HandoffCreate) -> tuple[Team, User | None]:
    to_agent, to_team = data.to_agent or None, data.to_team or None
    if to_agent is None and to_team is None:
        raise invalid("to_agent", "say who takes the account: an agent or a team")
    team = None
    if to_team is not None:
        team = session.scalar(select(Team).where(Team.name == to_team))
        if team is None:
            raise invalid("to_team", "no such team")
    agent = None
    if to_agent is not None:
        agent = session.scalar(select(User).where(User.username == to_agent))
        if agent is None or agent.role not in WORKING_ROLES or not agent.active or agent.team_id is None:
            raise invalid("to_agent", "no such agent")
        if team is not None and agent.team_id != team.id:
            raise invalid("to_agent", "not in that team")
        team = agent.team
    assert team is not None
    if agent is None:
        workers = session.scalar(select(User.id).where(User.team_id == team.id, User.role.in_(WORKING_ROLES),
                                                       User.active.is_(True)).limit(1))
        if workers is None:
            raise invalid("to_team", "nobody in that team works accounts: share a note with them instead")
    return team, agent


def hand_off(session: Session, user: User, account_id: int, data: HandoffCreate) -> Handoff:
    account = get_visible(session, user, account_id, for_update=True)
    _may_hand_off(user, account)
    team, agent = _target(session, data)
    if team.id == account.team_id and (agent.id if agent else None) == account.agent_id:
        raise invalid("to_agent" if agent else "to_team", "the account is there already")
    handoff = Handoff(account_id=account.id, from_team_id=account.team_id, from_agent_id=account.agent_id,
                      to_team_id=team.id, to_agent_id=agent.id if agent else None, actor_id=user.id,
                      note=data.note, at=utcnow())
    account.team_id = team.id
    account.agent_id = agent.id if agent else None
    # The lease is let go: the new owner takes the account when they come to it.
    account.lease_user_id = None
    account.lease_expires_at = None
    account.updated_at = utcnow()
    session.add(handoff)
    session.flush()
    session.refresh(handoff)
    audit.record(session, user.id, "handoff", "account", account.id, handoff=handoff.id,
                 from_team=handoff.from_team.name, from_agent=handoff.from_agent.username if handoff.from_agent else None,
                 to_team=team.name, to_agent=agent.username if agent else None)
    return handoff


def timeline_entries(session: Session, account_id: int, limit: int) -> list[dict]:
    """The account's handoffs, as ``TimelineEntry`` fields (kind ``handoff``)."""
    found = session.scalars(select(Handoff).where(Handoff.account_id == account_id)
                            .order_by(Handoff.at.desc(), Handoff.id.desc()).limit(limit)).all()
    out = []
    for h in found:
        o = handoff_out(h)
        where_from = o.from_agent or f"team {o.from_team}"
        where_to = o.to_agent or f"team {o.to_team}"
        out.append({"id": h.id, "at": h.at, "actor": o.by, "summary": f"handed off from {where_from} to {where_to}: "
                    f"{h.note[:60]}", "data": o.model_dump(mode="json")})
    return out
