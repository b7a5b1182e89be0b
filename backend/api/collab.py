"""Collaboration (issue 5 item 4): shared notes and handoffs; thin routes over
backend.services.collab (which says who may read and hand off what)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from backend.api.deps import CurrentUser, SessionDep
from backend.api.errors import problems
from backend.api.idempotent import answer_once as _idempotent
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.services import collab as svc
from backend_client.models import HandoffCreate, HandoffOut, SharedNotes

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
# Every route: a bearer token (401), the URL checked (422), a busy database (503).
router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, responses=problems(401, 422, 503), tags=["collaboration"])


@router.get("/accounts/{account_id}/shared-notes", response_model=SharedNotes, responses=problems(404))
def shared_notes(account_id: IdPath, user: CurrentUser, session: SessionDep) -> SharedNotes:
    """The notes an account's team shares with other teams (customer service,
    sales), newest first, under a minimal header: no phones, addresses or
    balances. Any signed-in user; audited."""
    answer = svc.shared_notes(session, user, account_id=account_id)
    return answer


@router.get("/shared-notes", response_model=SharedNotes, responses=problems(404))
def shared_notes_by_ref(
    user: CurrentUser, session: SessionDep,
    account_ref: Annotated[str, Query(min_length=1, max_length=64)],
) -> SharedNotes:
    """As ``/accounts/{id}/shared-notes``, by the bank's account reference (what a
    customer quotes to a service rep)."""
    answer = svc.shared_notes(session, user, account_ref=account_ref)
    return answer


@router.post("/accounts/{account_id}/handoff", status_code=201, response_model=HandoffOut,
             responses=problems(403, 404, 413))
def hand_off(account_id: IdPath, body: HandoffCreate, user: CurrentUser, session: SessionDep,
             idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    """Hand the account to another agent or team with a note (the account's agent,
    a supervisor of its team, or an admin); its lease is let go; on the timeline."""
    return _idempotent(session, user, f"POST /accounts/{account_id}/handoff", idempotency_key, 201,
                       lambda: svc.handoff_out(svc.hand_off(session, user, account_id, body)), request=body)
