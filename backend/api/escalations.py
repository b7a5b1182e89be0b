"""Escalations and documents (SPEC §5, issue 5): thin routes over
backend.services.escalations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from backend.api.deps import CurrentUser, SessionDep, SettingsDep
from backend.api.errors import not_found, problems
from backend.api.idempotent import answer_once as _idempotent
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.models import Account, Contact, Document
from backend.services import audit
from backend.services import escalations as svc
from backend.services import letters as letters_svc
from backend_client.models import (
    ContactOut,
    DocumentCreate,
    DocumentOut,
    DocumentPage,
    EscalationCheck,
    EscalationCreate,
    EscalationDecision,
    EscalationKind,
    EscalationOut,
    EscalationPage,
    EscalationStatus,
    LetterRunOut,
    LetterSend,
)

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
FILE = {200: {"content": {"application/pdf": {}, "text/markdown": {}}}}

# Every route: a bearer token (401), the URL checked (422), a busy database (503).
router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, responses=problems(401, 422, 503))


def _file(doc: Document) -> Response:
    return Response(doc.content, media_type=svc.MEDIA[doc.format],
                    headers={"Content-Disposition": f'inline; filename="{doc.name}"', "ETag": f'"{doc.sha256}"'})


@router.post("/accounts/{account_id}/escalations", status_code=201, response_model=EscalationOut,
             tags=["escalations"], responses=problems(403, 404, 409, 413))
def escalate(
    account_id: IdPath, body: EscalationCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Escalate an account. A legal referral whose preconditions are not met is
    refused ``409`` with ``missing`` (what is missing, in words); one that meets
    them carries its legal pack (demand letter, statement, contact and plan history)."""
    return _idempotent(
        session, user, f"POST /accounts/{account_id}/escalations", idempotency_key, 201,
        lambda: svc.escalation_out(session, svc.create(session, user, account_id, body, settings.bank_name,
                                                       settings.bank_contact)), request=body,
    )


@router.get("/accounts/{account_id}/escalations/check", response_model=EscalationCheck, tags=["escalations"],
            responses=problems(404))
def check_escalation(
    account_id: IdPath, user: CurrentUser, session: SessionDep, kind: EscalationKind = EscalationKind.legal,
) -> EscalationCheck:
    """Whether the account may be escalated so now, and what is missing, in words:
    the desk shows it before the agent tries."""
    missing = svc.check(session, user, account_id, kind.value)
    session.rollback()
    return EscalationCheck(kind=kind, ready=not missing, missing=missing)


@router.get("/escalations", response_model=EscalationPage, tags=["escalations"], responses=problems(404))
def list_escalations(
    user: CurrentUser, session: SessionDep, status: EscalationStatus | None = None, kind: EscalationKind | None = None,
    account_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EscalationPage:
    """The caller's queue: legal referrals for legal officers, the team's other
    escalations for supervisors, the ones they raised for agents; or one account's."""
    found = svc.queue(session, user, status=status.value if status else None, kind=kind.value if kind else None,
                      account_id=account_id, limit=limit)
    audit.record(session, user.id, "view", "escalations", None, escalations=[e.id for e in found])
    return EscalationPage(items=[svc.escalation_out(session, e, full=False) for e in found])


@router.get("/escalations/{escalation_id}", response_model=EscalationOut, tags=["escalations"],
            responses=problems(404))
def get_escalation(escalation_id: IdPath, user: CurrentUser, session: SessionDep) -> EscalationOut:
    esc = svc.get_escalation(session, user, escalation_id)
    audit.record(session, user.id, "view", "escalation", esc.id)
    return svc.escalation_out(session, esc)


def _action(action: str):  # noqa: ANN202
    def act(escalation_id: IdPath, user: CurrentUser, session: SessionDep,
            body: EscalationDecision | None = None) -> EscalationOut:
        esc = svc.act(session, user, escalation_id, action, body.note if body else "")
        return svc.escalation_out(session, esc)

    act.__name__ = f"{action}_escalation"
    return act


for _name in svc.ACTIONS:
    router.add_api_route(f"/escalations/{{escalation_id}}/{_name}", _action(_name), methods=["POST"],
                         response_model=EscalationOut, tags=["escalations"], name=f"{_name}_escalation",
                         responses=problems(403, 404, 409, 413))


@router.get("/escalations/{escalation_id}/documents/{name}", tags=["escalations"], response_class=Response,
            responses={**FILE, **problems(404)})
def escalation_document(
    escalation_id: IdPath, name: Annotated[str, Path(pattern=r"^[a-z_]{1,40}\.(md|pdf)$")], user: CurrentUser,
    session: SessionDep,
) -> Response:
    """A document of the referral's pack, as stored: ``demand_letter.pdf``, ``statement.md``…"""
    doc = svc.pack_document(session, user, escalation_id, name)
    return _file(doc)


@router.post("/accounts/{account_id}/documents", status_code=201, response_model=DocumentOut, tags=["documents"],
             responses=problems(403, 404, 413))
def make_document(
    account_id: IdPath, body: DocumentCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Generate and store a document (demand letter, statement of account, contact
    history, plan history); it is listed on the account's timeline."""
    return _idempotent(
        session, user, f"POST /accounts/{account_id}/documents", idempotency_key, 201,
        lambda: svc.document_out(svc.generate(session, user, account_id, body, settings.bank_name,
                                              settings.bank_contact)), request=body,
    )


@router.get("/accounts/{account_id}/documents", response_model=DocumentPage, tags=["documents"],
            responses=problems(404))
def list_documents(account_id: IdPath, user: CurrentUser, session: SessionDep) -> DocumentPage:
    found = svc.documents(session, user, account_id)
    audit.record(session, user.id, "view", "documents", account_id)
    return DocumentPage(items=[svc.document_out(d) for d in found])


@router.get("/documents/{document_id}", tags=["documents"], response_class=Response,
            responses={**FILE, **problems(404)})
def get_document(document_id: IdPath, user: CurrentUser, session: SessionDep) -> Response:
    doc = svc.document_by_id(session, user, document_id)
    return _file(doc)


@router.post("/accounts/{account_id}/letters", status_code=201, response_model=ContactOut, tags=["documents"],
             responses=problems(403, 404, 409, 413))
def send_letter(
    account_id: IdPath, body: LetterSend, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Send a letter now (issue 14: the demand letter; issue 20: ``reminder_letter`` and
    ``please_call_letter``, which treatments send, by hand too): the compliance engine is asked for the
    ``letter`` channel (refused ``409`` naming the rule, as a call is), the PDF is made
    in the customer's language and kept, and an outbound ``letter`` contact records it
    (``document_id``). A legal referral counts a demand letter once it is 14 days old."""
    from backend.services import contacts as contacts_svc

    def create() -> ContactOut:
        contact = letters_svc.send(session, user, account_id, body, settings.bank_name, settings.bank_contact)
        return contacts_svc.contact_out(contact, contact_currency(session, contact))

    return _idempotent(session, user, f"POST /accounts/{account_id}/letters", idempotency_key, 201, create,
                       request=body)


def contact_currency(session: SessionDep, contact: Contact) -> str:
    account = session.get(Account, contact.account_id)
    assert account is not None
    return account.currency


@router.post("/segments/{segment_id}/letters", status_code=201, response_model=LetterRunOut, tags=["documents"],
             responses=problems(403, 404, 413))
def send_segment_letters(
    segment_id: IdPath, body: LetterSend, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A supervisor's batch: a demand letter to every open account the segment matches
    now, each checked by the compliance engine and recorded as a contact with its PDF;
    those it may not go to are listed with the reason. One print file of all of them."""
    return _idempotent(
        session, user, f"POST /segments/{segment_id}/letters", idempotency_key, 201,
        lambda: letters_svc.run_out(letters_svc.run_for_segment(session, user, segment_id, body, settings.bank_name,
                                                                settings.bank_contact)), request=body,
    )


@router.get("/letter-runs/{run_id}", response_model=LetterRunOut, tags=["documents"], responses=problems(404))
def letter_run(run_id: IdPath, user: CurrentUser, session: SessionDep) -> LetterRunOut:
    return letters_svc.run_out(letters_svc.get_run(session, user, run_id))


@router.get("/letter-runs/{run_id}/print.pdf", tags=["documents"], response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, **problems(404)})
def letter_run_print_file(run_id: IdPath, user: CurrentUser, session: SessionDep) -> Response:
    """The run's print file: every letter sent, in order, each from a fresh sheet."""
    run = letters_svc.get_run(session, user, run_id)
    if run.content is None:
        raise not_found("print file")
    audit.record(session, user.id, "view", "letter_run", run.id)
    return Response(run.content, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="letters-{run.id}.pdf"', "ETag": f'"{run.sha256}"'})

