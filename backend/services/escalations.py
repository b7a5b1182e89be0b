"""Escalations (SPEC §3, issue 5): open → in_review → accepted | returned → closed,
each kind decided in one role's queue (config/escalation.toml); legal referrals
with their preconditions and their document pack; and the generated documents
(demand letter, statement of account, contact history, plan history)."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.domain.errors import Conflict, DomainError, Forbidden, Invalid, invalid, not_found
from backend.models import (
    ACTIVE_ESCALATION_STATUSES,
    Account,
    Contact,
    Document,
    Escalation,
    EscalationEvent,
    Payment,
    Plan,
    PlanEvent,
    User,
    utcnow,
)
from backend.services import audit
from backend.services.accounts import get_visible
from backend.services.flags import set_flags, set_legal_hold
from backend.services.ranking import refresh_priority
from backend_client.models import (
    DocumentCreate,
    DocumentOut,
    EscalationCreate,
    EscalationEventOut,
    EscalationOut,
)
from backend_client.vocabulary import DocumentKind, EscalationKind
from config import CONFIG_DIR

CONFIG_FILE = CONFIG_DIR / "escalation.toml"
KINDS = tuple(k.value for k in EscalationKind)
DOCUMENT_KINDS = tuple(k.value for k in DocumentKind)
LEGAL_PACK = ("demand_letter", "statement", "contact_history", "plan_history")
"""What a legal referral carries (SPEC §3): not every document kind (a reminder letter is none of it)."""
MEDIA = {"pdf": "application/pdf", "md": "text/markdown; charset=utf-8"}

# A flag an escalation holds while it is undecided or open (SPEC §4 pauses): a
# complaint pauses collection until it is closed, a dispute until it is reviewed.
HOLDS_FLAG_WHILE = {
    "complaint": ("open", "in_review", "accepted", "returned"),
    "dispute": ("open", "in_review"),
}


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class EscalationPolicy:
    queues: dict[str, str]
    min_dpd: int
    min_contact_attempts: int
    demand_letter_min_days: int
    reply_days: int


@lru_cache(maxsize=4)
def load_policy(path: Path = CONFIG_FILE) -> EscalationPolicy:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    queues = dict(data.get("queues", {}))
    unknown = [k for k in KINDS if queues.get(k) not in ("legal", "supervisor", "admin")]
    if unknown:
        raise ValueError(f"{path}: [queues] names no deciding role for {', '.join(unknown)}")
    legal = data.get("legal", {})
    return EscalationPolicy(
        queues=queues, min_dpd=int(legal.get("min_dpd", 90)),
        min_contact_attempts=int(legal.get("min_contact_attempts", 6)),
        demand_letter_min_days=int(legal.get("demand_letter_min_days", 14)),
        reply_days=int(data.get("demand_letter", {}).get("reply_days", 14)),
    )


def legal_missing(session: Session, account: Account, now: dt.datetime, policy: EscalationPolicy) -> list[str]:
    """What a legal referral of ``account`` still lacks, in words (empty: it may be made)."""
    missing = []
    if account.dpd < policy.min_dpd:
        missing.append(f"days past due: {account.dpd}; a legal referral needs at least {policy.min_dpd}")
    attempts = session.scalar(select(func.count()).select_from(Contact).where(
        Contact.account_id == account.id, Contact.direction == "outbound")) or 0
    if attempts < policy.min_contact_attempts:
        missing.append(f"documented contact attempts: {attempts}; a legal referral needs at least "
                       f"{policy.min_contact_attempts}")
    # Letters sent count (a letter contact names each: backend.services.letters); a letter
    # only generated was never sent, and the copy in an earlier referral's pack is a copy.
    sent = (Contact.account_id == account.id, Contact.channel == "letter", Contact.direction == "outbound",
            Document.kind == "demand_letter")
    days = policy.demand_letter_min_days
    old_enough = session.scalar(select(func.count()).select_from(Contact).join(
        Document, Document.id == Contact.document_id).where(*sent, Contact.started_at <= now - dt.timedelta(days=days)))
    if not old_enough:
        latest = session.scalar(select(func.max(Contact.started_at)).join(
            Document, Document.id == Contact.document_id).where(*sent))
        if latest is None:
            missing.append(f"demand letter: none sent; one must be sent at least {days} days before a legal referral")
        else:
            age = max(0, (now - latest).days)
            missing.append(f"demand letter: the last was sent {age} {'day' if age == 1 else 'days'} ago; a legal "
                           f"referral needs one sent at least {days} days earlier")
    return missing


# --------------------------------------------------------------------------- shapes


def document_url(doc: Document) -> str:
    if doc.escalation_id is not None:
        return f"/api/v1/escalations/{doc.escalation_id}/documents/{doc.name}"
    return f"/api/v1/documents/{doc.id}"


def document_out(doc: Document) -> DocumentOut:
    return DocumentOut(
        id=doc.id, account_id=doc.account_id, escalation_id=doc.escalation_id, kind=doc.kind, format=doc.format,
        lang=doc.lang, name=doc.name, media_type=MEDIA[doc.format], size=doc.size, sha256=doc.sha256,
        created_by=doc.created_by.username if doc.created_by else None, created_at=doc.created_at,
        url=document_url(doc),
    )


def _doc_rows(session: Session, **where: Any) -> list[Document]:
    # Everything but the bytes: listing a pack must not load every PDF.
    from sqlalchemy.orm import defer

    stmt = select(Document).options(defer(Document.content))
    for name, value in where.items():
        stmt = stmt.where(getattr(Document, name) == value)
    return list(session.scalars(stmt.order_by(Document.created_at.desc(), Document.id.desc())))


def escalation_out(session: Session, esc: Escalation, *, full: bool = True) -> EscalationOut:
    events, documents = [], []
    if full:
        events = [EscalationEventOut(status=e.status, actor=e.actor.username if e.actor else None, note=e.note, at=e.at)
                  for e in session.scalars(select(EscalationEvent).where(EscalationEvent.escalation_id == esc.id)
                                           .order_by(EscalationEvent.at, EscalationEvent.id))]
        documents = [document_out(d) for d in reversed(_doc_rows(session, escalation_id=esc.id))]
    account = esc.account
    return EscalationOut(
        id=esc.id, account_id=esc.account_id, account_ref=account.account_ref, customer_name=account.customer.name,
        team=account.team.name if account.team else None, kind=esc.kind, status=esc.status, queue=esc.queue,
        reason=esc.reason, note=esc.note, decision_note=esc.decision_note, created_by=esc.created_by.username,
        decided_by=esc.decided_by.username if esc.decided_by else None, created_at=esc.created_at,
        updated_at=esc.updated_at, decided_at=esc.decided_at, closed_at=esc.closed_at, events=events,
        documents=documents,
    )


# --------------------------------------------------------------------------- flags


def _sync_flags(session: Session, account: Account, kind: str, user: User | None = None) -> None:
    """Set or clear the flag a ``kind`` of escalation holds (``complaint``, ``dispute``)
    from the account's escalations of that kind, then rank the account again (the
    compliance engine pauses on those flags). Other flags, set by hand, are left alone."""
    statuses = HOLDS_FLAG_WHILE.get(kind)
    if statuses is None:
        return
    flags = dict(account.flags or {})
    holding = session.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.account_id == account.id, Escalation.kind == kind, Escalation.status.in_(statuses))) or 0
    if bool(flags.get(kind)) == (holding > 0):
        return
    flags[kind] = holding > 0
    # The escalation's workflow carries the authority (a supervisor decides it): no role check here.
    set_flags(session, account, flags, user, note=f"{'opened' if holding else 'settled'} by the {kind} escalation",
              check=False)
    account.updated_at = utcnow()
    session.flush()
    refresh_priority(session, account)


# --------------------------------------------------------------------------- create


def _event(session: Session, esc: Escalation, status: str, actor: User | None, note: str = "") -> None:
    session.add(EscalationEvent(escalation_id=esc.id, account_id=esc.account_id, status=status,
                                actor_id=actor.id if actor else None, note=note, at=utcnow()))


def create(session: Session, user: User, account_id: int, data: EscalationCreate, bank_name: str,
           bank_contact: str) -> Escalation:
    if user.role not in ("agent", "supervisor", "legal", "admin"):
        raise Forbidden("Forbidden", "Your role does not escalate accounts")
    account = get_visible(session, user, account_id, for_update=True)
    policy = load_policy()
    now = utcnow()
    kind = data.kind.value
    if kind == "legal":
        missing = legal_missing(session, account, now, policy)
        if missing:
            raise Conflict("Legal referral not possible yet", "Missing: " + "; ".join(missing),
                               rule="legal-preconditions", missing=missing)
    if session.scalar(select(Escalation.id).where(Escalation.account_id == account.id, Escalation.kind == kind,
                                                  Escalation.status.in_(ACTIVE_ESCALATION_STATUSES))):
        raise Conflict("Already escalated", f"This account has a {kind} escalation awaiting a decision",
                           rule="escalation-open")
    esc = Escalation(account_id=account.id, team_id=account.team_id, kind=kind, status="open",
                     queue=policy.queues[kind], reason=data.reason.strip(), note=data.note, created_by_id=user.id,
                     created_at=now, updated_at=now)
    try:
        with session.begin_nested():
            session.add(esc)
            session.flush()
    except IntegrityError:
        raise Conflict("Already escalated", f"This account has a {kind} escalation awaiting a decision",
                           rule="escalation-open") from None
    _event(session, esc, "open", user, data.note)
    if kind == "legal":
        for doc_kind in LEGAL_PACK:
            for fmt in ("pdf", "md"):
                sent = last_sent(session, account.id, doc_kind, fmt) if doc_kind == "demand_letter" else None
                if sent is not None:
                    copy_document(session, user, sent, esc, now)  # the letter that went, not a new one
                else:
                    make_document(session, user, account, doc_kind, fmt, data.lang, bank_name, bank_contact,
                                  escalation=esc, now=now)
    _sync_flags(session, account, kind, user)
    audit.record(session, user.id, "create", "escalation", esc.id, account_id=account.id, kind=kind)
    session.flush()
    return esc


def check(session: Session, user: User, account_id: int, kind: str) -> list[str]:
    """What an escalation of ``kind`` would lack now (only legal referrals have preconditions)."""
    account = get_visible(session, user, account_id)
    return legal_missing(session, account, utcnow(), load_policy()) if kind == "legal" else []


# --------------------------------------------------------------------------- queues and workflow


def _may_decide(user: User, esc: Escalation) -> bool:
    return user.role == "admin" or user.role == esc.queue


def get_escalation(session: Session, user: User, escalation_id: int, *, for_update: bool = False) -> Escalation:
    stmt = select(Escalation).where(Escalation.id == escalation_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Escalation)
    esc = session.scalar(stmt)
    if esc is None:
        raise not_found("escalation")
    try:
        get_visible(session, user, esc.account_id)
    except DomainError:
        raise not_found("escalation") from None
    return esc


def queue(session: Session, user: User, *, status: str | None = None, kind: str | None = None,
          account_id: int | None = None, limit: int = 100) -> list[Escalation]:
    """The caller's queue: legal officers the legal referrals, supervisors their team's
    escalations for the other kinds, agents the escalations they raised, admins all;
    with ``account_id``, every escalation of that account (if the caller sees it)."""
    stmt = select(Escalation)
    if account_id is not None:
        account = get_visible(session, user, account_id)
        stmt = stmt.where(Escalation.account_id == account.id)
    elif user.role == "admin":
        pass
    elif user.role == "legal":
        stmt = stmt.where(Escalation.queue == "legal")
    elif user.role == "supervisor":
        stmt = stmt.where(Escalation.queue == "supervisor", Escalation.team_id == user.team_id)
    elif user.role == "agent":
        stmt = stmt.where(Escalation.created_by_id == user.id)
    else:
        return []
    if status:
        stmt = stmt.where(Escalation.status == status)
    if kind:
        stmt = stmt.where(Escalation.kind == kind)
    return list(session.scalars(stmt.order_by(Escalation.created_at.desc(), Escalation.id.desc()).limit(limit)))


# action → (statuses it may follow, the status it gives)
ACTIONS = {
    "review": (("open",), "in_review"),
    "accept": (("open", "in_review"), "accepted"),
    "return": (("open", "in_review"), "returned"),
    "close": (("open", "in_review", "accepted", "returned"), "closed"),
}


def act(session: Session, user: User, escalation_id: int, action: str, note: str = "") -> Escalation:
    esc = get_escalation(session, user, escalation_id, for_update=True)
    allowed, to = ACTIONS[action]
    decider = _may_decide(user, esc)
    raiser_closing = action == "close" and user.id == esc.created_by_id and esc.status in ("accepted", "returned")
    if not (decider or raiser_closing):
        raise Forbidden("Forbidden", f"A {esc.kind} escalation is decided in the {esc.queue} queue")
    if esc.status not in allowed:
        raise Conflict("Not possible now", f"A {esc.status.replace('_', ' ')} escalation cannot be "
                           f"{'returned' if action == 'return' else action + 'ed'}", rule="escalation-status",
                           status_now=esc.status)
    note = (note or "").strip()
    if action == "return" and not note:
        raise invalid("note", "say why the escalation is returned")
    now = utcnow()
    esc.status = to
    esc.updated_at = now
    if action in ("accept", "return"):
        esc.decided_by = user
        esc.decided_at = now
        esc.decision_note = note
    if action == "close":
        esc.closed_at = now
    session.flush()
    _event(session, esc, to, user, note)
    account = get_visible(session, user, esc.account_id, for_update=True)
    if action == "accept" and esc.kind == "legal" and account.status not in ("closed", "legal"):
        # Legal has taken the account for formal proceedings; returning or closing
        # a referral leaves the account's status as it was.
        was = account.status
        set_legal_hold(session, account, True, user)
        account.status = "legal"
        account.updated_at = now
        # It leaves the agents' queues (``accounts.LEGAL_HOLD``): whoever holds it lets it go.
        account.lease_user_id = None
        account.lease_expires_at = None
        session.flush()
        audit.record(session, user.id, "update", "account", account.id, status="legal", was=was,
                     escalation_id=esc.id)
    _sync_flags(session, account, esc.kind, user)
    audit.record(session, user.id, action, "escalation", esc.id, account_id=esc.account_id, status=to)
    session.flush()
    return esc


# --------------------------------------------------------------------------- documents


def _lang_for(account: Account, lang: str | None) -> str:
    """The document's language: the customer's jurisdiction's (config/letters.toml), or the one
    asked for (Chinese asked for a customer in China, Taiwan or Hong Kong: that place's script)."""
    from backend.documents.jurisdictions import document_lang, jurisdiction

    return document_lang(jurisdiction(account.customer.country), lang)


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def context(session: Session, account: Account, kind: str, today: dt.date, bank_name: str,
            bank_contact: str) -> dict[str, Any]:
    """What the ``kind`` template prints about ``account`` (the card only as its last four):
    ``jurisdiction`` (``CN``, ``TW``, ``HK`` or empty) chooses the rules a template cites, and
    the bank's contact is its office there, with the hours its phone line answers
    (config/letters.toml)."""
    from backend.documents import mask_card
    from backend.documents.jurisdictions import bank_hours, jurisdiction

    customer = account.customer
    policy = load_policy()
    place = jurisdiction(customer.country)
    d: dict[str, Any] = {
        "bank_name": bank_name, "bank_contact": place.contact or bank_contact, "bank_hours": bank_hours(place),
        "jurisdiction": place.code, "today": today, "customer_name": customer.name,
        "customer_address": customer.addresses[0].text if customer.addresses else None,
        "account_ref": account.account_ref, "card": mask_card(account.card_last4), "opened_on": account.opened_on,
        "credit_limit_minor": account.credit_limit_minor, "balance_minor": account.balance_minor,
        "overdue_minor": account.overdue_minor, "minimum_due_minor": account.minimum_due_minor, "dpd": account.dpd,
        "bucket": account.bucket, "reply_days": policy.reply_days,
        "reply_by": today + dt.timedelta(days=policy.reply_days),
    }
    if kind == "statement":
        payments = session.scalars(select(Payment).where(Payment.account_id == account.id)
                                   .order_by(Payment.paid_at, Payment.id)).all()
        d["payments"] = [{"paid_on": p.paid_at.date(), "bank_ref": p.bank_ref, "amount_minor": p.amount_minor}
                         for p in payments]
        d["paid_minor"] = sum(p.amount_minor for p in payments)
        plan = session.scalar(select(Plan).where(Plan.account_id == account.id, Plan.status.in_(("active", "pending")))
                              .order_by(Plan.id.desc()).limit(1))
        d["plan"] = {"kind": plan.kind, "status": plan.status, "total_minor": plan.total_minor} if plan else None
    elif kind == "contact_history":
        contacts = session.scalars(select(Contact).where(Contact.account_id == account.id)
                                   .order_by(Contact.started_at.desc(), Contact.id.desc()).limit(500)).all()
        d["contacts"] = [{"at": _stamp(c.started_at), "channel": c.channel, "direction": c.direction,
                          "party": c.party, "outcome": c.outcome, "result": c.result or "",
                          "agent": c.agent.username, "note": (c.note or "")[:200]} for c in contacts]
        d["attempts"] = sum(1 for c in contacts if c.direction == "outbound")
        d["right_party"] = sum(1 for c in contacts if c.outcome == "RPC")
    elif kind == "plan_history":
        plans = session.scalars(select(Plan).where(Plan.account_id == account.id).order_by(Plan.id)).all()
        events = session.scalars(select(PlanEvent).where(PlanEvent.account_id == account.id)
                                 .order_by(PlanEvent.at, PlanEvent.id)).all()
        d["plans"] = [{
            "id": p.id, "kind": p.kind, "status": p.status, "total_minor": p.total_minor,
            "discount_minor": p.discount_minor, "created_on": p.created_at.date(),
            "items": [{"seq": i.seq, "due": i.due, "amount_minor": i.amount_minor, "paid_minor": i.paid_minor,
                       "status": i.status} for i in p.items],
            "events": [{"at": _stamp(e.at), "status": e.status, "actor": e.actor.username if e.actor else None,
                        "note": e.note} for e in events if e.plan_id == p.id],
        } for p in plans]
    return d


def render(session: Session, account: Account, kind: str, fmt: str, lang: str, today: dt.date, bank_name: str,
           bank_contact: str) -> bytes:
    from backend.documents import LetterError, markdown_to_pdf
    from backend.documents.letters import render_template

    d = context(session, account, kind, today, bank_name, bank_contact)
    try:
        markdown = render_template(kind, lang, {"d": d, "currency": account.currency.upper()})
        if fmt == "md":
            return markdown.encode("utf-8")
        return markdown_to_pdf(markdown, lang=lang, author=bank_name, footer=account.account_ref)
    except LetterError as exc:
        raise Invalid("Document cannot be made", str(exc)) from None


def make_document(session: Session, user: User, account: Account, kind: str, fmt: str, lang: str | None,
                  bank_name: str, bank_contact: str, *, escalation: Escalation | None = None,
                  now: dt.datetime | None = None) -> Document:
    now = now or utcnow()
    lang = _lang_for(account, lang)
    content = render(session, account, kind, fmt, lang, now.date(), bank_name, bank_contact)
    doc = Document(account_id=account.id, escalation_id=escalation.id if escalation else None, kind=kind, format=fmt,
                   lang=lang, name=f"{kind}.{fmt}", content=content, sha256=hashlib.sha256(content).hexdigest(),
                   size=len(content), created_by_id=user.id, created_at=now)
    session.add(doc)
    session.flush()
    audit.record(session, user.id, "create", "document", doc.id, account_id=account.id, kind=kind, format=fmt,
                 lang=lang, escalation_id=doc.escalation_id, sha256=doc.sha256)
    return doc


def last_sent(session: Session, account_id: int, kind: str, fmt: str) -> Document | None:
    """The latest letter of ``kind`` sent on the account, as it went (``pdf``: the document
    its contact names) or its text (``md``: made beside it, the same instant)."""
    pdf = session.scalar(select(Document).join(Contact, Contact.document_id == Document.id)
                         .where(Contact.account_id == account_id, Contact.channel == "letter", Document.kind == kind)
                         .order_by(Contact.started_at.desc(), Contact.id.desc()).limit(1))
    if pdf is None or fmt == "pdf":
        return pdf
    return session.scalar(select(Document).where(
        Document.account_id == account_id, Document.kind == kind, Document.format == fmt,
        Document.escalation_id.is_(None), Document.created_at == pdf.created_at).order_by(Document.id.desc()).limit(1))


def copy_document(session: Session, user: User, doc: Document, escalation: Escalation, now: dt.datetime) -> Document:
    """``doc`` filed in ``escalation``'s pack byte for byte (the same sha256)."""
    copy = Document(account_id=doc.account_id, escalation_id=escalation.id, kind=doc.kind, format=doc.format,
                    lang=doc.lang, name=f"{doc.kind}.{doc.format}", content=doc.content, sha256=doc.sha256,
                    size=doc.size, created_by_id=user.id, created_at=now)
    session.add(copy)
    session.flush()
    audit.record(session, user.id, "create", "document", copy.id, account_id=doc.account_id, kind=doc.kind,
                 format=doc.format, lang=doc.lang, escalation_id=escalation.id, sha256=doc.sha256, copy_of=doc.id)
    return copy


def generate(session: Session, user: User, account_id: int, data: DocumentCreate, bank_name: str,
             bank_contact: str) -> Document:
    if user.role not in ("agent", "supervisor", "legal", "admin"):
        raise Forbidden("Forbidden", "Your role does not make documents")
    account = get_visible(session, user, account_id)
    return make_document(session, user, account, data.kind.value, data.format.value, data.lang, bank_name,
                         bank_contact)


def documents(session: Session, user: User, account_id: int) -> list[Document]:
    account = get_visible(session, user, account_id)
    return _doc_rows(session, account_id=account.id)


def document_by_id(session: Session, user: User, document_id: int) -> Document:
    doc = session.get(Document, document_id)
    if doc is None:
        raise not_found("document")
    try:
        get_visible(session, user, doc.account_id)
    except DomainError:
        raise not_found("document") from None
    audit.record(session, user.id, "view", "document", doc.id, account_id=doc.account_id)
    return doc


def pack_document(session: Session, user: User, escalation_id: int, name: str) -> Document:
    esc = get_escalation(session, user, escalation_id)
    doc = session.scalar(select(Document).where(Document.escalation_id == esc.id, Document.name == name)
                         .order_by(Document.id.desc()).limit(1))
    if doc is None:
        raise not_found("document")
    audit.record(session, user.id, "view", "document", doc.id, account_id=doc.account_id, escalation_id=esc.id)
    return doc


# --------------------------------------------------------------------------- timeline


def timeline_entries(session: Session, account_id: int, limit: int) -> list[dict[str, Any]]:
    """Escalation events and documents of an account as timeline entries (kind ``escalation``)."""
    out: list[dict[str, Any]] = []
    events = session.scalars(select(EscalationEvent).where(EscalationEvent.account_id == account_id)
                             .order_by(EscalationEvent.at.desc(), EscalationEvent.id.desc()).limit(limit)).all()
    escs = {e.id: e for e in session.scalars(select(Escalation).where(
        Escalation.id.in_({ev.escalation_id for ev in events})))} if events else {}
    for ev in events:
        esc = escs[ev.escalation_id]
        out.append({
            "id": ev.id, "at": ev.at, "actor": ev.actor.username if ev.actor else None,
            "summary": f"{esc.kind} escalation {esc.id} {ev.status.replace('_', ' ')}"
                       + (f": {ev.note[:60]}" if ev.note else ""),
            "data": {"escalation_id": esc.id, "kind": esc.kind, "status": ev.status, "queue": esc.queue,
                     "reason": esc.reason, "note": ev.note},
        })
    docs = _doc_rows(session, account_id=account_id)[:limit]
    # A document's Markdown text made beside its PDF (a letter sent, a legal pack) is one
    # entry: the PDF's, which names both formats.
    pdfs = {(d.kind, d.escalation_id, d.created_at) for d in docs if d.format == "pdf"}
    for doc in docs:
        if doc.format != "pdf" and (doc.kind, doc.escalation_id, doc.created_at) in pdfs:
            continue
        out.append({
            # Document entries share the kind with escalation events: their ids are offset to stay apart.
            "id": -doc.id, "at": doc.created_at, "actor": doc.created_by.username if doc.created_by else None,
            "summary": f"document {doc.name} ({doc.lang})" + (f" for escalation {doc.escalation_id}"
                                                              if doc.escalation_id else ""),
            "data": {"document_id": doc.id, "document_kind": doc.kind, "format": doc.format, "lang": doc.lang,
                     "name": doc.name, "escalation_id": doc.escalation_id, "url": document_url(doc)},
        })
    return out
