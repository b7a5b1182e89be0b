"""Messages by hand (issue 20 item 6): thin routes over ``backend.services.messages``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import JSONResponse

from backend.api.deps import CurrentUser, SessionDep, SettingsDep
from backend.api.errors import problems
from backend.api.idempotent import answer_once as _idempotent
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.services import messages as svc
from backend_client.models import ContactOut, MessagePreview, MessageRequest, MessageTemplates

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]

# Every route: a bearer token (401), the URL checked (422), a busy database (503).
router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, responses=problems(401, 422, 503))


@router.get("/message-templates", response_model=MessageTemplates, tags=["messages"])
def message_templates(user: CurrentUser, settings: SettingsDep) -> MessageTemplates:
    """The e-mail and SMS templates an agent may send by hand (``config/templates/email`` and
    ``sms``), the languages each is written in, and whether each channel is configured (the
    settings missing where not)."""
    return svc.template_list(settings)


@router.post("/accounts/{account_id}/messages/preview", response_model=MessagePreview, tags=["messages"],
             responses=problems(403, 404, 413))
def preview_message(account_id: IdPath, body: MessageRequest, user: CurrentUser, session: SessionDep,
                    settings: SettingsDep) -> MessagePreview:
    """What the message would say in the customer's language (subject and text of an e-mail;
    an SMS's text and its segments), the address or number it would go to, and whether it may
    go now: the compliance engine's answer (the rule, its words and the next lawful minute), an
    address or number on record, the channel configured. Nothing is sent; the view is audited."""
    return svc.preview(session, user, account_id, body, settings)


@router.post("/accounts/{account_id}/messages", status_code=201, response_model=ContactOut, tags=["messages"],
             responses=problems(403, 404, 409, 413, 502))
def send_message(
    account_id: IdPath, body: MessageRequest, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Send the message now through the bank's relay or gateway, checked by the compliance engine
    at this instant as a treatment's is: refused ``409`` naming the rule (``until``: the next
    lawful minute); ``422`` naming the field when there is no address or mobile number on
    record (``email``, ``phones``) or the channel is not configured (``channel``, naming the
    settings); ``502`` when the relay or gateway did not take it (``temporary`` says whether
    trying again may help), nothing recorded. Sent: an outbound contact (``LM``, the message
    as its note) by the caller, answered ``201``. A retry with the same ``Idempotency-Key``
    answers the first response and sends nothing."""
    from backend.services import contacts as contacts_svc

    def create() -> ContactOut:
        contact = svc.send(session, user, account_id, body, settings, key=idempotency_key)
        return contacts_svc.contact_out(contact, svc.account_currency(session, contact))

    return _idempotent(session, user, f"POST /accounts/{account_id}/messages", idempotency_key, 201, create,
                       request=body)
