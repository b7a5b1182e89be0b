"""Treatment routes (issue 20): the supervisor's day of treatments, steps paused and
resumed, a run's print file, and the SMS gateway's signed webhook.

``POST /api/v1/inbound/sms`` takes no bearer token: the gateway signs each request
(``backend.channels.sms``: an HMAC of the timestamp and the body with
``COLLECTDESK_SMS_WEBHOOK_SECRET``); a request unsigned, wrongly signed or stale is refused
401 naming the header at fault, and one taken before is refused 409 (a replay).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from backend.api.deps import CurrentUser, SessionDep, SettingsDep
from backend.api.errors import ProblemError, problems
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.models import utcnow
from backend.services import audit, inbound
from backend.services import treatments as svc
from backend_client.models import (
    InboundAck,
    TreatmentDay,
    TreatmentPauseCreate,
    TreatmentPauseOut,
)

router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, tags=["treatments"], responses=problems(422, 503))

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
StepPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
SidePath = Annotated[str, Path(pattern=r"^(champion|challenger)$")]


def _day(value: str | None) -> dt.date:
    if value is None:
        return utcnow().date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ProblemError(422, "Invalid request", "as_of: not a date (YYYY-MM-DD)",
                           errors=[("as_of", "not a date")]) from None


@router.get("/treatments", response_model=TreatmentDay, responses=problems(401, 403))
def treatments_day(user: CurrentUser, session: SessionDep, settings: SettingsDep,
                   as_of: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD (default today, UTC)")] = None,
                   ) -> TreatmentDay:
    """The day's treatments: each step of both paths with its rows by status and whether it is
    paused; the rows found due that day, settled that day, or still open (the supervisor's
    team's accounts only); the last run."""
    result: TreatmentDay = svc.day_view(session, user, settings, _day(as_of))
    return result


def _pause_out(row: object) -> TreatmentPauseOut:
    return TreatmentPauseOut(strategy=row.strategy, step_id=row.step_id,  # type: ignore[attr-defined]
                             paused_by=row.paused_by.username, paused_at=row.paused_at,  # type: ignore[attr-defined]
                             note=row.note or "")  # type: ignore[attr-defined]


@router.post("/treatments/pauses", status_code=201, response_model=TreatmentPauseOut,
             responses=problems(401, 403, 404, 413))
def pause_step(body: TreatmentPauseCreate, user: CurrentUser, session: SessionDep) -> TreatmentPauseOut:
    """Stop sending one step (of the champion's or the challenger's path) until it is resumed:
    its messages stay pending, none is lost. Pausing a paused step changes nothing."""
    row = svc.pause(session, user, body.strategy, body.step_id, body.note)
    session.refresh(row, ["paused_by"])
    return _pause_out(row)


@router.delete("/treatments/pauses/{strategy}/{step_id}", status_code=204, response_class=Response,
               responses=problems(401, 403, 404))
def resume_step(strategy: SidePath, step_id: StepPath, user: CurrentUser, session: SessionDep) -> Response:
    """Send the step again: its pending messages go at the next run, each checked then."""
    svc.resume(session, user, strategy, step_id)
    return Response(status_code=204)


@router.get("/treatment-runs/{run_id}/print.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, **problems(401, 404)})
def treatment_print_file(run_id: IdPath, user: CurrentUser, session: SessionDep) -> Response:
    """A run's print file: every letter it made, in order, each from a fresh sheet."""
    run = svc.get_run(session, user, run_id)
    if run.print_file is None:
        raise ProblemError(404, "Not found", "No print file: the run made no letters")
    audit.record(session, user.id, "view", "treatment_run", run.id)
    return Response(run.print_file, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="treatment-letters-{run.id}.pdf"', "ETag": f'"{run.sha256}"'})


WEBHOOK_CHALLENGE = 'HMAC-SHA256 realm="collectdesk-sms", headers="X-Collectdesk-Timestamp X-Collectdesk-Signature"'
"""What a refused webhook request is told to sign with (a 401 names its scheme)."""


async def raw_body(request: Request) -> bytes:
    """The body as the gateway signed it, byte for byte."""
    return await request.body()


@router.post("/inbound/sms", response_model=InboundAck, responses=problems(401, 409, 422))
def inbound_sms(
    session: SessionDep, settings: SettingsDep, body: Annotated[bytes, Depends(raw_body)],
    timestamp: Annotated[str | None, Header(alias="X-Collectdesk-Timestamp")] = None,
    signature: Annotated[str | None, Header(alias="X-Collectdesk-Signature")] = None,
) -> InboundAck:
    """The SMS gateway's webhook: a delivery receipt (``{"type": "receipt", "id", "status",
    "at"}``) or a customer's reply (``{"type": "reply", "from", "text", "at"}``), signed. A reply
    that opts out ("STOP", "退订") ceases SMS on every account of that number."""
    from backend.channels import sms

    now = utcnow()
    secret = settings.sms_webhook_secret
    try:
        verified = sms.verify(secret, timestamp, signature, body, now,
                              tolerance_seconds=settings.sms_webhook_tolerance_seconds)
    except sms.WebhookRefused as exc:
        raise ProblemError(401, "Not signed", f"{exc.field}: {exc.reason}", errors=[(exc.field, exc.reason)],
                           headers={"WWW-Authenticate": WEBHOOK_CHALLENGE}) from None
    inbound.take_once(session, verified.replay_key, now)
    try:
        message = sms.parse_inbound(body)
    except sms.SmsError as exc:
        field, _, words = str(exc).partition(": ")
        raise inbound.bad(field or "body", words or str(exc)) from None
    if isinstance(message, sms.Receipt):
        return inbound.receipt(session, message.id, message.status, message.at, message.error)
    # message is a Reply
    return inbound.reply(session, message.sender, message.text, message.at, message.opt_out)
