"""Segments (issue 6 item 4; SPEC §5 ``/segments``): a supervisor's saved, named
filters over the portfolio, each with where its accounts go (an agent, or a
team's pool), and the move of all its accounts in one action.

The accounts a segment matches are found by ``backend.services.assign.where``,
the same filter builder ``POST /accounts/assign`` uses, and moved by its mover.
Supervisors keep segments of their own team; admins, of any team or of all."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.domain.errors import Conflict, Forbidden, not_found
from backend.models import Segment, Team, User, utcnow
from backend.services import audit
from backend.services.assign import Criteria, band_errors, ids_of, invalid, move, must_move, resolve_target, where
from backend_client.models import AssignResult, Bucket, SegmentCreate, SegmentFilter, SegmentOut, SegmentPatch

MAX_SEGMENTS = 500
"""Segments listed at once (each is counted when listed)."""


def criteria(seg: Segment) -> Criteria:
    return Criteria(
        buckets=tuple(seg.buckets or ()), currency=seg.currency, min_balance_minor=seg.min_balance_minor,
        max_balance_minor=seg.max_balance_minor, min_risk=seg.min_risk, max_risk=seg.max_risk,
        min_priority=seg.min_priority, max_priority=seg.max_priority, min_dpd=seg.min_dpd, max_dpd=seg.max_dpd,
        team_id=seg.team_id,
    )


def filter_of(seg: Segment) -> SegmentFilter:
    return SegmentFilter(
        bucket=list(seg.buckets) if seg.buckets else None, currency=seg.currency,
        min_balance_minor=seg.min_balance_minor, max_balance_minor=seg.max_balance_minor,
        min_risk=seg.min_risk, max_risk=seg.max_risk, min_priority=seg.min_priority, max_priority=seg.max_priority,
        min_dpd=seg.min_dpd, max_dpd=seg.max_dpd, team=seg.team.name if seg.team else None,
    )


def count(session: Session, user: User, seg: Segment) -> int:
    stmt = where(session, user, criteria(seg))
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def segment_out(session: Session, user: User, seg: Segment) -> SegmentOut:
    return SegmentOut(
        id=seg.id, name=seg.name, team=seg.team.name if seg.team else None, filter=filter_of(seg),
        to_agent=seg.agent.username if seg.agent else None, to_team=seg.queue_team.name if seg.queue_team else None,
        note=seg.note, count=count(session, user, seg), created_by=seg.created_by.username,
        created_at=seg.created_at, updated_at=seg.updated_at, assigned_at=seg.assigned_at,
    )


def _mine(user: User):  # noqa: ANN202
    """The segments ``user`` may see: a supervisor's team's; all, for an admin."""
    must_move(user)
    stmt = select(Segment)
    if user.role != "admin":
        stmt = stmt.where(Segment.team_id == user.team_id)
    return stmt


def list_segments(session: Session, user: User) -> list[Segment]:
    return list(session.scalars(_mine(user).order_by(Segment.name, Segment.id).limit(MAX_SEGMENTS)).unique())


def get_segment(session: Session, user: User, segment_id: int) -> Segment:
    seg = session.scalar(_mine(user).where(Segment.id == segment_id))
    if seg is None:
        raise not_found("segment")
    return seg


def _apply_filter(session: Session, user: User, seg: Segment, f: SegmentFilter) -> None:
    """Put ``f`` on ``seg``: checked (bands, currency, the team is one the user keeps)."""
    if f.team is None:
        team_id = None if user.role == "admin" else user.team_id
    else:
        team = session.scalar(select(Team).where(Team.name == f.team))
        if team is None:
            raise invalid([("filter.team", "no such team")])
        if user.role != "admin" and team.id != user.team_id:
            raise Forbidden("Forbidden", "A supervisor keeps segments of their own team")
        team_id = team.id
    if user.role != "admin" and team_id is None:
        raise Forbidden("Forbidden", "A supervisor without a team keeps no segments")
    c = Criteria(buckets=tuple(b.value for b in f.bucket or ()), currency=f.currency,
                 min_balance_minor=f.min_balance_minor, max_balance_minor=f.max_balance_minor,
                 min_risk=f.min_risk, max_risk=f.max_risk, min_priority=f.min_priority, max_priority=f.max_priority,
                 min_dpd=f.min_dpd, max_dpd=f.max_dpd)
    errors = band_errors("filter", c)
    if errors:
        raise invalid(errors)
    has_band = f.min_balance_minor is not None or f.max_balance_minor is not None
    seg.team_id = team_id
    order = [b.value for b in Bucket]
    seg.buckets = sorted({b.value for b in f.bucket or ()}, key=order.index)
    seg.currency = f.currency if has_band else None
    seg.min_balance_minor, seg.max_balance_minor = f.min_balance_minor, f.max_balance_minor
    seg.min_risk, seg.max_risk = f.min_risk, f.max_risk
    seg.min_priority, seg.max_priority = f.min_priority, f.max_priority
    seg.min_dpd, seg.max_dpd = f.min_dpd, f.max_dpd


def _apply_target(session: Session, user: User, seg: Segment, to_agent: str | None, to_team: str | None) -> None:
    to_agent, to_team = to_agent or None, to_team or None
    if to_agent is None and to_team is None:
        seg.agent_id = seg.queue_team_id = None
        return
    team, agent = resolve_target(session, user, to_agent, to_team)
    seg.agent_id = agent.id if agent else None
    seg.queue_team_id = team.id if team else None
    seg.agent, seg.queue_team = agent, team


def _unique_name(session: Session, seg: Segment) -> None:
    clash = session.scalar(select(Segment.id).where(
        Segment.name == seg.name, Segment.id != (seg.id or -1),
        Segment.team_id.is_(None) if seg.team_id is None else Segment.team_id == seg.team_id))
    if clash is not None:
        raise Conflict("Conflict", f"name: the team has a segment {seg.name!r} already",
                           errors=[("name", "taken")])


def create(session: Session, user: User, data: SegmentCreate) -> Segment:
    must_move(user)
    seg = Segment(name=data.name, note=data.note, created_by_id=user.id, buckets=[])
    _apply_filter(session, user, seg, data.filter)
    _apply_target(session, user, seg, data.to_agent, data.to_team)
    _unique_name(session, seg)
    session.add(seg)
    session.flush()
    session.refresh(seg)
    audit.record(session, user.id, "create", "segment", seg.id, name=seg.name,
                 filter=data.filter.model_dump(mode="json", exclude_none=True),
                 to_agent=data.to_agent, to_team=data.to_team)
    return seg


def patch(session: Session, user: User, segment_id: int, data: SegmentPatch) -> Segment:
    seg = get_segment(session, user, segment_id)
    # Nothing is written until every field has been checked (the name last).
    with session.no_autoflush:
        _patch(session, user, seg, data)
    seg.updated_at = utcnow()
    session.flush()
    session.refresh(seg)
    audit.record(session, user.id, "change", "segment", seg.id,
                 fields=sorted(data.model_fields_set), **data.model_dump(mode="json", exclude_unset=True))
    return seg


def _patch(session: Session, user: User, seg: Segment, data: SegmentPatch) -> None:
    given = data.model_fields_set
    if "name" in given and data.name is not None:
        seg.name = data.name
    if "note" in given and data.note is not None:
        seg.note = data.note
    if "filter" in given and data.filter is not None:
        _apply_filter(session, user, seg, data.filter)
    if "to_agent" in given or "to_team" in given:
        current_agent = seg.agent.username if seg.agent else None
        current_team = seg.queue_team.name if seg.queue_team else None
        to_agent = data.to_agent if "to_agent" in given else current_agent
        to_team = data.to_team if "to_team" in given else current_team
        if "to_agent" in given and "to_team" not in given and to_agent:
            to_team = None  # naming a new agent: the agent's team, not the old queue
        _apply_target(session, user, seg, to_agent, to_team)
    _unique_name(session, seg)


def delete(session: Session, user: User, segment_id: int) -> None:
    seg = get_segment(session, user, segment_id)
    audit.record(session, user.id, "delete", "segment", seg.id, name=seg.name)
    session.delete(seg)
    session.flush()


def assign(session: Session, user: User, segment_id: int) -> AssignResult:
    """Move every account the segment matches now to its agent or team, in one action."""
    seg = get_segment(session, user, segment_id)
    to_agent = seg.agent.username if seg.agent else None
    to_team = seg.queue_team.name if seg.queue_team else None
    if to_agent is None and to_team is None:
        raise invalid([("to_agent", "the segment names no agent or team to assign to")])
    # Checked again now: the agent may have left, or the supervisor changed team.
    team, agent = resolve_target(session, user, to_agent, to_team)
    if to_agent is None:
        to_agent = ""  # a team's queue: its pool, nobody's yet
    ids = ids_of(session, where(session, user, criteria(seg)))
    moved = move(session, user, ids, team, agent, to_agent=to_agent, to_team=to_team,
                 note=f"segment {seg.name}", segment=seg.id)
    seg.assigned_at = utcnow()
    session.flush()
    return AssignResult(moved=moved, to_agent=to_agent or None, to_team=to_team)
