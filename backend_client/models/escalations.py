"""Escalations and documents (issue 5): escalations opened and decided, documents
made, letters sent one by one or in a run."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from backend_client.models.scalars import ONE_LINE, NoteText, Wire
from backend_client.vocabulary import DocumentFormat, DocumentKind, EscalationKind, EscalationStatus, Role

# --------------------------------------------------------------------------
# Escalations and documents (issue 5)


DocumentLang = Literal["en", "zh_CN", "zh_TW", "zh_HK"]
"""Simplified Chinese for mainland China, Traditional for Taiwan and Hong Kong (each its own rules)."""


class EscalationCreate(Wire):
    """``POST /api/v1/accounts/{id}/escalations``. A legal referral whose preconditions
    are not met is refused ``409`` with ``missing``: what is missing, in words."""

    kind: EscalationKind
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
    note: NoteText = ""
    lang: DocumentLang | None = None
    """The legal pack's language (default: the customer's)."""


class EscalationDecision(Wire):
    """The body of ``POST /api/v1/escalations/{id}/{review,accept,return,close}``;
    returning needs a note."""

    note: NoteText = ""


class EscalationEventOut(Wire):
    status: EscalationStatus
    actor: str | None = None
    note: str = ""
    at: AwareDatetime


class DocumentOut(Wire):
    id: int
    account_id: int
    escalation_id: int | None = None
    kind: DocumentKind
    format: DocumentFormat
    lang: str
    name: str
    """The file name: ``demand_letter.pdf``; unique within an escalation's pack."""
    media_type: str
    size: int
    sha256: str
    created_by: str | None = None
    created_at: AwareDatetime
    url: str
    """Where its bytes are (``GET``)."""


class DocumentPage(Wire):
    items: list[DocumentOut]


class EscalationOut(Wire):
    id: int
    account_id: int
    account_ref: str
    customer_name: str
    team: str | None = None
    kind: EscalationKind
    status: EscalationStatus
    queue: Role
    """The role that decides it."""
    reason: str
    note: str = ""
    decision_note: str = ""
    created_by: str
    decided_by: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    decided_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    events: list[EscalationEventOut] = []
    documents: list[DocumentOut] = []
    """The legal pack of a referral."""


class EscalationPage(Wire):
    items: list[EscalationOut]


class DocumentCreate(Wire):
    """``POST /api/v1/accounts/{id}/documents``: generate and store a document."""

    kind: DocumentKind
    format: DocumentFormat = DocumentFormat.pdf
    lang: DocumentLang | None = None
    """Default: the customer's jurisdiction's (Simplified Chinese for mainland China, Traditional
    for Taiwan and Hong Kong, each citing its own rules), else English."""


class LetterSend(Wire):
    """``POST /api/v1/accounts/{id}/letters``: send a letter (issue 14: the demand letter; issue 20:
    the reminder and please-call letters a treatment sends, which a supervisor may send by hand)."""

    kind: Literal["demand_letter", "reminder_letter", "please_call_letter"] = "demand_letter"
    lang: DocumentLang | None = None
    """Default: the customer's language, as for documents."""


class LetterRunItem(Wire):
    account_id: int
    account_ref: str
    contact_id: int | None = None
    """The ``letter`` contact recorded; None where it was skipped."""
    document_id: int | None = None
    skipped: str = ""
    """Why no letter went (the compliance rule, no address), in English."""
    rule: str | None = None


class LetterRunOut(Wire):
    """A supervisor's batch of letters for a segment: one contact and PDF per account, one print file."""

    id: int
    segment_id: int
    segment_name: str
    kind: DocumentKind
    sent: int
    skipped: int
    items: list[LetterRunItem] = []
    print_file_url: str | None = None
    """``/api/v1/letter-runs/{id}/print.pdf``: every letter sent, in order; None when none went."""
    size: int = 0
    sha256: str = ""
    created_by: str
    created_at: AwareDatetime
