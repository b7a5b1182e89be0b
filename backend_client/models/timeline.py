"""An account's timeline (issue 16 item 3). It shows what the other parts record
(contacts, notes, plans, payments, escalations and documents, handoffs, flags), so
it imports their shapes, and none of them imports it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from backend_client.models.collab import HandoffOut
from backend_client.models.contacts import ContactOut, NoteOut
from backend_client.models.scalars import Money, Wire
from backend_client.vocabulary import (
    DocumentFormat,
    DocumentKind,
    EscalationKind,
    EscalationStatus,
    PlanKind,
    PlanStatus,
)

# --------------------------------------------------------------------------
# Timeline

# The timeline's entries (issue 16 item 3): one model per kind, told apart by ``kind``.


class EntryBase(Wire):
    id: int
    at: AwareDatetime
    actor: str | None = None
    summary: str
    """A short line in English: the desk builds its own text from the typed parts."""


class ContactEntry(EntryBase):
    kind: Literal["contact"] = "contact"
    contact: ContactOut


class NoteEntry(EntryBase):
    kind: Literal["note"] = "note"
    note: NoteOut


class PlanEventData(Wire):
    """A plan's status change: the plan as it then was."""

    plan_id: int
    status: PlanStatus
    kind: PlanKind
    note: str = ""
    contact_id: int | None = None
    """The call it was promised on (a tracked promise, issue 14)."""
    total: Money
    items: int


class PlanEntry(EntryBase):
    kind: Literal["plan"] = "plan"
    data: PlanEventData


class AllocationData(Wire):
    plan_id: int
    seq: int
    amount_minor: int


class PaymentData(Wire):
    bank_ref: str
    amount: Money
    allocations: list[AllocationData] = []
    unallocated_minor: int = 0


class PaymentEntry(EntryBase):
    kind: Literal["payment"] = "payment"
    data: PaymentData


class EscalationEventData(Wire):
    """An escalation opened, decided or moved on."""

    escalation_id: int
    kind: EscalationKind
    status: EscalationStatus
    queue: str | None = None
    reason: str | None = None
    note: str | None = None


class DocumentData(Wire):
    """A document made for the account (a letter sent, a legal pack's file): ``url`` fetches it."""

    document_id: int
    document_kind: DocumentKind
    format: DocumentFormat
    lang: str
    name: str
    escalation_id: int | None = None
    url: str


class EscalationEntry(EntryBase):
    """Escalation events and documents share the kind (a document's ``id`` is its own, negated)."""

    kind: Literal["escalation"] = "escalation"
    data: EscalationEventData | DocumentData


class HandoffEntry(EntryBase):
    kind: Literal["handoff"] = "handoff"
    data: HandoffOut


class FlagChangeData(Wire):
    flag: str
    channel: str | None = None
    change: Literal["set", "lifted"]
    effective_at: AwareDatetime
    recorded_at: AwareDatetime | None = None
    note: str = ""


class FlagEntry(EntryBase):
    """A flag or pause set or lifted."""

    kind: Literal["flag"] = "flag"
    data: FlagChangeData


TimelineEntry = Annotated[
    ContactEntry | NoteEntry | PlanEntry | PaymentEntry | EscalationEntry | HandoffEntry | FlagEntry,
    Field(discriminator="kind"),
]
"""One entry of an account's timeline: which one, its ``kind`` says."""


class Timeline(Wire):
    items: list[TimelineEntry]
