"""An account's timeline: its contacts, notes, plan events, payments, escalations,
hand-offs and flag changes, newest first, in one list. It reads each kind's own service
(none of which reads it back)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Account, Contact, Note, Payment, Plan, PlanEvent, User
from backend.services import audit, collab, escalations, flags
from backend.services.accounts import get_visible
from backend.services.contacts import contact_out, note_out
from backend_client.models import (
    ContactEntry,
    EscalationEntry,
    FlagEntry,
    HandoffEntry,
    NoteEntry,
    PaymentEntry,
    PlanEntry,
    Timeline,
    TimelineEntry,
)

AT_ONE_INSTANT = ("payment", "handoff", "escalation", "flag", "plan", "note", "contact")
"""The order of entries made at the same instant, last first."""


def _contact_summary(c: Contact) -> str:
    parts = [c.channel, c.direction, c.outcome]
    if c.result:
        parts.append(c.result)
    return " ".join(parts)


def timeline(session: Session, user: User, account_id: int, limit: int = 200) -> Timeline:
    account: Account = get_visible(session, user, account_id)
    contacts = session.scalars(
        select(Contact).where(Contact.account_id == account.id).order_by(Contact.started_at.desc(), Contact.id.desc()).limit(limit)
    ).all()
    notes = session.scalars(
        select(Note).where(Note.account_id == account.id).order_by(Note.created_at.desc(), Note.id.desc()).limit(limit)
    ).all()
    entries: list[TimelineEntry] = [
        ContactEntry(id=c.id, at=c.started_at, actor=c.agent.username, summary=_contact_summary(c),
                      contact=contact_out(c, account.currency))
        for c in contacts
    ] + [
        NoteEntry(id=n.id, at=n.created_at, actor=n.author.username, summary=n.text[:80], note=note_out(n))
        for n in notes
    ]
    events = session.scalars(
        select(PlanEvent).where(PlanEvent.account_id == account.id).order_by(PlanEvent.at.desc(), PlanEvent.id.desc())
        .limit(limit)
    ).all()
    plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_({e.plan_id for e in events})))} if events else {}
    for e in events:
        plan = plans[e.plan_id]
        entries.append(PlanEntry(
            id=e.id, at=e.at, actor=e.actor.username if e.actor else None,
            summary=f"{plan.kind} plan {plan.id} {e.status}" + (f": {e.note[:60]}" if e.note else ""),
            data={"plan_id": plan.id, "status": e.status, "kind": plan.kind, "note": e.note,
                  "contact_id": plan.contact_id,
                  "total": {"amount_minor": plan.total_minor, "currency": plan.currency}, "items": len(plan.items)},
        ))
    payments = session.scalars(
        select(Payment).where(Payment.account_id == account.id).order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(limit)
    ).all()
    for pay in payments:
        entries.append(PaymentEntry(
            id=pay.id, at=pay.paid_at, actor=None,
            summary=f"payment {pay.bank_ref}",
            data={"bank_ref": pay.bank_ref, "amount": {"amount_minor": pay.amount_minor, "currency": pay.currency},
                  "allocations": pay.allocations, "unallocated_minor": pay.unallocated_minor},
        ))
    entries += [EscalationEntry(**e)
                for e in escalations.timeline_entries(session, account.id, limit)]
    entries += [HandoffEntry(**e) for e in collab.timeline_entries(session, account.id, limit)]
    entries += [FlagEntry(**e) for e in flags.timeline_entries(session, account.id, limit)]
    # Newest first; at one instant, what the agent did above what it set off (a contact above the
    # plan it promised, the flags and the escalation it raised), then by id within a kind. Ids of
    # different tables never decide it: they follow each database's sequences, not the story.
    entries.sort(key=lambda e: (e.at, AT_ONE_INSTANT.index(e.kind), e.id), reverse=True)
    audit.record(session, user.id, "view", "timeline", account.id)
    return Timeline(items=entries[:limit])
