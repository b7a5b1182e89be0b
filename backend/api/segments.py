"""Segments (SPEC §5 ``GET/POST /api/v1/segments``): thin routes over backend.services.segments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response
from fastapi.responses import JSONResponse

from backend.api.deps import CurrentUser, SessionDep
from backend.api.errors import problems
from backend.api.idempotent import answer_once as _idempotent
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.services import audit
from backend.services import segments as svc
from backend_client.models import AssignResult, SegmentCreate, SegmentOut, SegmentPage, SegmentPatch

IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
# Every route: a bearer token (401), a supervisor or an admin (403), the URL checked
# (422), a busy database (503).
router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, responses=problems(401, 403, 422, 503), tags=["segments"])


@router.get("/segments", response_model=SegmentPage)
def list_segments(user: CurrentUser, session: SessionDep) -> SegmentPage:
    """The caller's segments (a supervisor's team's; every one for an admin), each
    with the count of accounts it matches now."""
    found = svc.list_segments(session, user)
    page = SegmentPage(items=[svc.segment_out(session, user, s) for s in found])
    audit.record(session, user.id, "view", "segments", None, segments=[s.id for s in found])
    return page


@router.post("/segments", status_code=201, response_model=SegmentOut, responses=problems(409, 413))
def create_segment(body: SegmentCreate, user: CurrentUser, session: SessionDep,
                   idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    """Save a segment: a name, a filter (bucket, balance band in minor units, risk or
    priority band, DPD range, team) and where its accounts go (``to_agent`` or ``to_team``)."""
    return _idempotent(session, user, "POST /segments", idempotency_key, 201,
                       lambda: svc.segment_out(session, user, svc.create(session, user, body)), request=body)


@router.get("/segments/{segment_id}", response_model=SegmentOut, responses=problems(404))
def get_segment(segment_id: IdPath, user: CurrentUser, session: SessionDep) -> SegmentOut:
    seg = svc.get_segment(session, user, segment_id)
    out = svc.segment_out(session, user, seg)
    audit.record(session, user.id, "view", "segment", seg.id)
    return out


@router.patch("/segments/{segment_id}", response_model=SegmentOut, responses=problems(404, 409, 413))
def patch_segment(segment_id: IdPath, body: SegmentPatch, user: CurrentUser, session: SessionDep) -> SegmentOut:
    seg = svc.patch(session, user, segment_id, body)
    out = svc.segment_out(session, user, seg)
    return out


@router.delete("/segments/{segment_id}", status_code=204, responses=problems(404))
def delete_segment(segment_id: IdPath, user: CurrentUser, session: SessionDep) -> Response:
    svc.delete(session, user, segment_id)
    return Response(status_code=204)


@router.post("/segments/{segment_id}/assign", response_model=AssignResult, responses=problems(404))
def assign_segment(segment_id: IdPath, user: CurrentUser, session: SessionDep) -> AssignResult:
    """Move every account the segment matches now to its agent or team (the team's
    pool), in one action; their leases are let go."""
    result = svc.assign(session, user, segment_id)
    return result
