"""Segments (issue 6 item 4; SPEC §5 GET/POST /segments): saved account filters."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from backend_client.models.scalars import ONE_LINE, CurrencyCode, NoteText, StrictFloat, StrictInt, Wire
from backend_client.vocabulary import Bucket

# --------------------------------------------------------------------------
# Segments (issue 6 item 4; SPEC §5 GET/POST /segments)


SegmentName = Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True), ONE_LINE]


class SegmentFilter(Wire):
    """What a segment's accounts are: every condition given must hold; bands are
    inclusive and either end may be open. Balances are integer minor units of
    ``currency`` (required with a balance band). The score band is ``risk`` (the
    scorecard's probability of default, 0–1) and/or ``priority`` (the worklist's
    number; an account not scored yet matches no risk band). ``team`` is the team
    whose accounts it covers: a supervisor's own (the default for them); an admin
    may leave it out for every team."""

    bucket: Annotated[list[Bucket], Field(max_length=8)] | None = None
    currency: CurrencyCode | None = None
    min_balance_minor: Annotated[StrictInt, Field(ge=0, le=10**15)] | None = None
    max_balance_minor: Annotated[StrictInt, Field(ge=0, le=10**15)] | None = None
    min_risk: StrictFloat | None = Field(default=None, ge=0, le=1)
    max_risk: StrictFloat | None = Field(default=None, ge=0, le=1)
    min_priority: StrictFloat | None = Field(default=None, ge=0, le=1e9)
    max_priority: StrictFloat | None = Field(default=None, ge=0, le=1e9)
    min_dpd: StrictInt | None = Field(default=None, ge=0, le=36500)
    max_dpd: StrictInt | None = Field(default=None, ge=0, le=36500)
    team: Annotated[str, StringConstraints(max_length=32), ONE_LINE] | None = None


class SegmentCreate(Wire):
    """``POST /api/v1/segments``. ``to_agent`` or ``to_team`` (a team's pool: the
    queue) says where ``POST /segments/{id}/assign`` moves the accounts."""

    name: SegmentName
    filter: SegmentFilter = SegmentFilter()
    to_agent: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    to_team: Annotated[str, StringConstraints(max_length=32), ONE_LINE] | None = None
    note: NoteText = ""


class SegmentPatch(Wire):
    """``PATCH /api/v1/segments/{id}``: the fields given replace the segment's
    (``filter`` whole); ``null`` or ``""`` clears ``to_agent``/``to_team``."""

    name: SegmentName | None = None
    filter: SegmentFilter | None = None
    to_agent: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    to_team: Annotated[str, StringConstraints(max_length=32), ONE_LINE] | None = None
    note: NoteText | None = None


class SegmentOut(Wire):
    id: int
    name: str
    team: str | None = None
    """The team whose accounts it covers (None: every team)."""
    filter: SegmentFilter
    to_agent: str | None = None
    to_team: str | None = None
    note: str = ""
    count: int
    """Accounts it matches now."""
    created_by: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    assigned_at: AwareDatetime | None = None
    """When its accounts were last moved (``POST /segments/{id}/assign``)."""


class SegmentPage(Wire):
    items: list[SegmentOut]
