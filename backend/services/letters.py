"""Letters sent (issue 14): the demand letter from the desk, one account at a time or
in a supervisor's batch for a segment; and (issue 20) the reminder and please-call letters
a treatment step sends, through :func:`send_for_treatment`, the same way.

Sending a letter is a contact like a call: the compliance engine is asked for the
``letter`` channel at the moment it goes (cease, pauses, legal hold), it is
recorded as an outbound ``letter`` contact to the customer's postal address, and
the PDF as it went out is kept as a document the contact names (with its Markdown
text beside it, for the legal pack). The legal referral's "demand letter sent at
least 14 days ago" counts these, and only these: a document merely generated was
never sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from sqlalchemy.orm import Session

from backend.domain.accounts import mask_card_numbers
from backend.domain.errors import Conflict, Forbidden, Invalid, not_found
from backend.models import Account, Contact, Document, LetterRun, User, utcnow
from backend.services import audit, compliance
from backend.services.accounts import get_visible
from backend.services.assign import where
from backend.services.escalations import make_document
from backend.services.ranking import refresh_priority
from backend_client.models import DocumentKind, LetterRunItem, LetterRunOut, LetterSend

SENDERS = ("agent", "supervisor", "legal", "admin")
BATCHERS = ("supervisor", "admin")
LETTER_OUTCOME = "LM"
"""A letter is a message left for the customer: an attempt that reached them, not a conversation."""


class NotSent(Exception):
    """Why a letter may not go now: the rule and the words."""

    def __init__(self, rule: str, detail: str, blocks: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.rule, self.detail, self.blocks = rule, detail, blocks or []


def _send(session: Session, user: User, account: Account, data: LetterSend, bank_name: str, bank_contact: str,
          now: dt.datetime) -> Contact:
    customer = account.customer
    if not customer.addresses:
        raise NotSent("no-address", "the customer has no postal address on record")
    verdict = compliance.verdict(session, account, "letter", now, party="debtor", direction="outbound",
                                 role=user.role)
    if not verdict.allowed:
        blocks = [b.model_dump(mode="json") for b in verdict.blocks]
        raise NotSent(blocks[0]["rule"], "; ".join(b["detail"] for b in blocks), blocks)
    pdf = make_document(session, user, account, data.kind, "pdf", data.lang, bank_name, bank_contact, now=now)
    # The text beside it, for the legal pack (the same letter, the same day).
    make_document(session, user, account, data.kind, "md", data.lang, bank_name, bank_contact, now=now)
    address = customer.addresses[0].text
    contact = Contact(
        account_id=account.id, agent_id=user.id, channel="letter", direction="outbound", party="debtor",
        outcome=LETTER_OUTCOME, note="", started_at=now,
        logged_at=now, used=mask_card_numbers(address)[:254], document_id=pdf.id,
    )
    session.add(contact)
    session.flush()
    refresh_priority(session, account, now)
    audit.record(session, user.id, "create", "contact", contact.id, account_id=account.id, channel="letter",
                 document_id=pdf.id, kind=data.kind)
    return contact


def send(session: Session, user: User, account_id: int, data: LetterSend, bank_name: str, bank_contact: str,
         now: dt.datetime | None = None) -> Contact:
    """Send one letter on ``account_id`` now: refused 409 naming the rule where the law or the
    record forbids it (no address on record: 422 on ``address``)."""
    if user.role not in SENDERS:
        raise Forbidden("Forbidden", "Your role does not send letters")
    now = now or utcnow()
    account = get_visible(session, user, account_id, for_update=True)
    try:
        contact = _send(session, user, account, data, bank_name, bank_contact, now)
    except NotSent as exc:
        if exc.rule == "no-address":
            raise Invalid("Letter cannot be sent", f"address: {exc.detail}",
                               errors=[("address", exc.detail)]) from None
        raise Conflict("Letter not allowed now", exc.detail, rule=exc.rule, blocks=exc.blocks) from None
    session.flush()
    return contact


def send_for_treatment(session: Session, user: User, account: Account, kind: str, lang: str | None,
                       bank_name: str, bank_contact: str, now: dt.datetime) -> Contact:
    """A treatment step's letter (issue 20): ``kind`` (``reminder_letter``, ``please_call_letter``
    or ``demand_letter``) sent on ``account`` at ``now`` as :func:`send` sends one, asked of the
    compliance engine for the ``letter`` channel at that moment and recorded as a ``letter``
    contact naming its PDF. ``lang`` None: the customer's. Raises :class:`NotSent` (the rule,
    or ``no-address``) where it may not go; the scheduler records that and moves on. The
    caller holds the account (locked, visible to ``user``) and its transaction."""
    data = LetterSend.model_validate({"kind": kind, "lang": lang})
    contact = _send(session, user, account, data, bank_name, bank_contact, now)
    session.flush()
    return contact


def merge_pdfs(parts: list[bytes]) -> bytes:
    """One print file: the letters' PDFs one after another, each starting on its own sheet."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
        if len(writer.pages) % 2:
            # Printed on both sides, the next letter must not start on this one's back.
            writer.add_blank_page()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def run_for_segment(session: Session, user: User, segment_id: int, data: LetterSend, bank_name: str,
                    bank_contact: str, now: dt.datetime | None = None) -> LetterRun:
    """A supervisor's batch: a letter to every account the segment matches now (open
    accounts only, never one on legal hold), each a contact of its own; those the law
    or the record stops are skipped with the reason. One print file of all sent."""
    from backend.services.segments import criteria, get_segment

    if user.role not in BATCHERS:
        raise Forbidden("Forbidden", "Letters are sent in batches by a supervisor")
    now = now or utcnow()
    seg = get_segment(session, user, segment_id)
    ids = list(session.scalars(where(session, user, criteria(seg)).order_by(Account.id)))
    items: list[LetterRunItem] = []
    parts: list[bytes] = []
    for account_id in ids:
        account = get_visible(session, user, account_id, for_update=True)
        try:
            with session.begin_nested():
                contact = _send(session, user, account, data, bank_name, bank_contact, now)
        except NotSent as exc:
            items.append(LetterRunItem(account_id=account.id, account_ref=account.account_ref, skipped=exc.detail,
                                       rule=exc.rule))
            continue
        doc = session.get(Document, contact.document_id)
        assert doc is not None
        parts.append(doc.content)
        items.append(LetterRunItem(account_id=account.id, account_ref=account.account_ref, contact_id=contact.id,
                                   document_id=doc.id))
    content = merge_pdfs(parts) if parts else None
    run = LetterRun(segment_id=seg.id, segment_name=seg.name, team_id=seg.team_id, kind=data.kind,
                    sent=len(parts), items=[i.model_dump(mode="json") for i in items],
                    content=content, sha256=hashlib.sha256(content).hexdigest() if content else "",
                    size=len(content) if content else 0, created_by_id=user.id, created_at=now)
    session.add(run)
    session.flush()
    audit.record(session, user.id, "create", "letter_run", run.id, segment_id=seg.id, sent=run.sent,
                 skipped=len(items) - run.sent)
    return run


def run_out(run: LetterRun) -> LetterRunOut:
    items = [LetterRunItem.model_validate(i) for i in run.items or []]
    return LetterRunOut(
        id=run.id, segment_id=run.segment_id, segment_name=run.segment_name, kind=DocumentKind(run.kind),
        sent=run.sent, skipped=sum(1 for i in items if i.contact_id is None), items=items,
        print_file_url=f"/api/v1/letter-runs/{run.id}/print.pdf" if run.content else None,
        size=run.size, sha256=run.sha256, created_by=run.created_by.username, created_at=run.created_at,
    )


def get_run(session: Session, user: User, run_id: int) -> LetterRun:
    run = session.get(LetterRun, run_id)
    if run is None or user.role not in BATCHERS + ("legal",) or (
            user.role == "supervisor" and run.team_id is not None and run.team_id != user.team_id):
        raise not_found("letter run")
    return run
