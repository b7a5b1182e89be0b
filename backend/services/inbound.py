"""What the SMS gateway tells us on its signed webhook (issue 20): delivery receipts for the
reminders sent, and customers' replies. The signature and its freshness are checked by
:mod:`backend.channels.sms`; here a request is taken once (its signature's digest kept, so
the same request again is a replay and refused), a receipt is set on the message it is for,
and a reply is a contact on every account of that number. A reply that opts out ("STOP",
"退订") sets the ``sms`` cease on those accounts, as of the moment it was sent, with its
history (issue 8): the next run skips their texts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.domain.accounts import mask_card_numbers
from backend.domain.errors import Conflict, Invalid
from backend.models import Account, Contact, Customer, InboundSeen, Phone, TreatmentSend, utcnow
from backend.services import audit, flags
from backend.services.treatments import system_user
from backend_client.models import InboundAck

REPLY_OUTCOME = "RPC"
"""A customer's reply is the right party reaching us."""


def take_once(session: Session, digest: str, now: dt.datetime) -> None:
    """Remember a signed request; ``Conflict`` if it was taken before (a replay)."""
    try:
        with session.begin_nested():
            session.add(InboundSeen(digest=digest, received_at=now))
    except IntegrityError:
        raise Conflict("Replayed request", "this signed request was received before; it is not taken twice",
                       rule="replay") from None


def receipt(session: Session, provider_ref: str, status: str, at: dt.datetime, error: str | None) -> InboundAck:
    row = session.scalar(select(TreatmentSend).where(TreatmentSend.provider_ref == provider_ref).limit(1))
    if row is None:
        return InboundAck(kind="receipt", matched=0)
    row.delivery = status[:12]
    if status != "delivered" and error:
        row.reason = f"receipt: {status}: {error}"[:2000]
    session.flush()
    audit.record(session, None, "receipt", "treatment_send", row.id, account_id=row.account_id, delivery=status,
                 at=at.isoformat())
    return InboundAck(kind="receipt", matched=1)


def reply(session: Session, number: str, text: str, at: dt.datetime, opt_out: bool) -> InboundAck:
    """A reply from ``number`` (E.164): a contact on each account of a customer with that
    number; an opt-out ceases SMS on each of them, as of ``at``."""
    from backend.services.ranking import refresh_priority

    now = utcnow()
    at = min(at, now)
    accounts = session.scalars(
        select(Account).join(Customer, Customer.id == Account.customer_id)
        .join(Phone, Phone.customer_id == Customer.id).where(Phone.number == number)
        .order_by(Account.id).with_for_update(of=Account)).unique().all()
    user = system_user(session)
    for account in accounts:
        contact = Contact(account_id=account.id, agent_id=user.id, channel="sms", direction="inbound", party="debtor",
                          outcome=REPLY_OUTCOME, result="CEASE" if opt_out else None,
                          note=mask_card_numbers(text)[:4000], started_at=at, logged_at=now,
                          used=mask_card_numbers(number)[:254])
        session.add(contact)
        session.flush()
        audit.record(session, user.id, "create", "contact", contact.id, account_id=account.id, channel="sms",
                     direction="inbound", opt_out=opt_out)
        if opt_out:
            current = dict(account.flags or {})
            ceased = list(current.get("cease") or [])
            if "sms" not in ceased:
                current["cease"] = sorted({*ceased, "sms"})
                flags.set_flags(session, account, current, user, max(at, now - dt.timedelta(days=300)),
                                note=f"the customer replied {text.strip()[:40]!r} by SMS from {number}", check=False)
        refresh_priority(session, account, now)
    session.flush()
    return InboundAck(kind="reply", matched=len(accounts), opted_out=opt_out and bool(accounts))


def bad(field: str, message: str) -> Invalid:
    return Invalid("Invalid webhook request", f"{field}: {message}", errors=[(field, message)])
