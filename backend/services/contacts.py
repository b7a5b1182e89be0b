"""Contacts (one row per attempt) and notes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from backend.domain.accounts import mask_card_numbers
from backend.domain.errors import Conflict, Invalid
from backend.domain.outcomes import counts_for, validate_contact
from backend.models import Contact, Note, User, utcnow
from backend.services import audit, compliance, plans
from backend.services.accounts import get_visible, release_leases
from backend.services.ranking import refresh_priority
from backend_client.models import (
    ContactCreate,
    ContactOut,
    Money,
    NoteCreate,
    NoteOut,
    OutcomeCounts,
    TrackedPromise,
)
from backend_client.money import to_minor

NOW_TOLERANCE = dt.timedelta(minutes=5)
FUTURE_TOLERANCE = dt.timedelta(minutes=1)
# How late a contact may be logged, and how far ahead a promise or a call back
# may be named. Beyond these the input is a mistake, not a record (and instants
# near year 1 or 9999 cannot even be turned into UTC).
LATEST_LOGGING = dt.timedelta(days=366)
FARTHEST_AHEAD = dt.timedelta(days=366)


def contact_out(contact: Contact, currency: str) -> ContactOut:
    counts = counts_for(contact.outcome)
    promise = contact.promise
    return ContactOut(
        id=contact.id, account_id=contact.account_id, channel=contact.channel, direction=contact.direction,
        party=contact.party, outcome=contact.outcome, result=contact.result, reason=contact.reason, note=contact.note,
        started_at=contact.started_at, duration_s=contact.duration_s,
        ptp_amount=Money(amount_minor=contact.ptp_amount_minor, currency=currency) if contact.ptp_amount_minor is not None else None,
        ptp_date=contact.ptp_date, callback_at=contact.callback_at, used=contact.used, agent=contact.agent.username,
        after_the_fact=contact.after_the_fact, breach=contact.breach, breach_rules=list(contact.breach_rules or []),
        counts=OutcomeCounts(worked=counts.worked, attempted=counts.attempted, contacted=counts.contacted),
        promise=TrackedPromise(plan_id=promise.id, status=promise.status,
                               amount=Money(amount_minor=promise.total_minor, currency=promise.currency),
                               due=promise.items[0].due) if promise is not None and promise.items else None,
        promise_note=contact.promise_note, document_id=contact.document_id,
    )


def note_out(note: Note) -> NoteOut:
    return NoteOut(id=note.id, account_id=note.account_id, text=note.text, author=note.author.username,
                   created_at=note.created_at, visibility=note.visibility)


def log_contact(session: Session, user: User, account_id: int, data: ContactCreate, now: dt.datetime | None = None) -> Contact:
    now = now or utcnow()
    account = get_visible(session, user, account_id, for_update=True)
    started = data.started_at or now
    # Compare before converting: aware datetimes compare safely even where
    # astimezone() would overflow.
    if started > now + FUTURE_TOLERANCE:
        raise Invalid("Invalid request", "started_at: a contact cannot start in the future",
                           errors=[("started_at", "in the future")])
    if started < now - LATEST_LOGGING:
        raise Invalid("Invalid request", "started_at: a contact is logged within a year of it",
                           errors=[("started_at", "more than a year ago")])
    started = started.astimezone(dt.UTC)
    problems = validate_contact(data.outcome, data.result, data.party, data.ptp is not None, data.callback_at is not None)
    callback_at = data.callback_at
    if callback_at is not None:
        if callback_at < started:
            problems.append(("callback_at", "a call back is named for after the call"))
        elif callback_at > started + FARTHEST_AHEAD:
            problems.append(("callback_at", "a call back is named within a year of the call"))
        else:
            callback_at = callback_at.astimezone(dt.UTC)
    ptp_minor = None
    if data.ptp is not None:
        try:
            ptp_minor = to_minor(data.ptp.amount, account.currency)
        except ValueError as exc:
            problems.append(("ptp.amount", str(exc)))
        else:
            if ptp_minor <= 0:
                problems.append(("ptp.amount", "must be more than zero"))
        if data.ptp.date < started.date() - dt.timedelta(days=1):
            problems.append(("ptp.date", "a promise cannot be dated before the call"))
        elif data.ptp.date > (started + FARTHEST_AHEAD).date():
            problems.append(("ptp.date", "a promise is dated within a year of the call; longer is a plan"))
    if problems:
        raise Invalid("Invalid contact", "; ".join(f"{f}: {m}" for f, m in problems), errors=problems)

    after_the_fact = started < now - NOW_TOLERANCE
    blocks: list[dict] = []
    until: dt.datetime | None = None
    if data.direction == "outbound":
        verdict = compliance.verdict(session, account, data.channel, started, party=data.party,
                                     direction=data.direction, used=data.used, role=user.role)
        blocks = [b.model_dump(mode="json") for b in verdict.blocks]
        until = verdict.next_allowed_at
    if data.result is not None and data.result in compliance.disclosure_required(account) and not (
            data.identity_verified and data.disclosure_given):
        missing = [name for name, done in (("identity verified", data.identity_verified),
                                            ("disclosure given", data.disclosure_given)) if not done]
        blocks.append({"rule": "disclosure", "detail": f"{data.result} needs {' and '.join(missing)} first on the call",
                       "until": None, "policy": "", "cite": "SPEC §4 disclosure"})
        until = None
    if blocks and not after_the_fact:
        # Now: refused, naming every rule (the first is the problem's ``rule``).
        raise Conflict("Contact not allowed now", "; ".join(b["detail"] for b in blocks), rule=blocks[0]["rule"],
            until=until.isoformat() if until else None, blocks=blocks,
        )
    # After the fact: kept, as records must be, and flagged for the supervisor.
    breach_rules = [b["rule"] for b in blocks]
    contact = Contact(
        account_id=account.id, agent_id=user.id, channel=data.channel, direction=data.direction, party=data.party,
        outcome=data.outcome, result=data.result, reason=data.reason, note=mask_card_numbers(data.note),
        started_at=started, logged_at=now,
        duration_s=data.duration_s, ptp_amount_minor=ptp_minor, ptp_date=data.ptp.date if data.ptp else None,
        callback_at=callback_at, used=mask_card_numbers(data.used) if data.used else data.used,
        identity_verified=data.identity_verified,
        disclosure_given=data.disclosure_given, after_the_fact=after_the_fact, breach=bool(breach_rules),
        breach_rules=breach_rules,
    )
    session.add(contact)
    session.flush()
    if data.result == "PTP" and ptp_minor is not None and contact.ptp_date is not None:
        # The promise is tracked as a plan in the same transaction (issue 14).
        plans.promise_from_call(session, user, account, contact, started.date())
        session.refresh(contact, ["promise"])
    refresh_priority(session, account, now)
    release_leases(session, user, account.id)
    audit.record(session, user.id, "create", "contact", contact.id, account_id=account.id, outcome=data.outcome,
                 result=data.result)
    session.flush()
    return contact


def add_note(session: Session, user: User, account_id: int, data: NoteCreate) -> Note:
    account = get_visible(session, user, account_id)
    # A card number typed into free text keeps only its BIN and last four (SPEC §4).
    note = Note(account_id=account.id, author_id=user.id, text=mask_card_numbers(data.text),
                visibility=data.visibility.value)
    session.add(note)
    session.flush()
    audit.record(session, user.id, "create", "note", note.id, account_id=account.id, visibility=note.visibility)
    session.flush()
    return note


