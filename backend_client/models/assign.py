"""Assignment (SPEC §5 POST /accounts/assign): which accounts, to whom, a preview."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from backend_client.models.scalars import MULTI_LINE, ONE_LINE, DecimalStr, Id, Money, StrictFloat, StrictInt, Wire
from backend_client.vocabulary import Bucket, EscalationKind

# --------------------------------------------------------------------------
# Assignment (SPEC §5 POST /accounts/assign)


class AccountFilter(Wire):
    """A set of accounts by what they are: every condition given must hold."""

    bucket: list[Bucket] | None = None
    min_balance: DecimalStr | None = None
    max_balance: DecimalStr | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3), ONE_LINE] | None = None
    """Balances are compared in this currency's units (required with a balance band)."""
    min_risk: StrictFloat | None = Field(default=None, ge=0, le=1)
    max_risk: StrictFloat | None = Field(default=None, ge=0, le=1)
    team: Annotated[str, StringConstraints(max_length=32), ONE_LINE] | None = None
    agent: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    """An agent's accounts; ``""`` for the team's unassigned pool."""
    min_priority: StrictFloat | None = Field(default=None, ge=0, le=1e9)
    max_priority: StrictFloat | None = Field(default=None, ge=0, le=1e9)
    min_dpd: StrictInt | None = Field(default=None, ge=0, le=36500)
    max_dpd: StrictInt | None = Field(default=None, ge=0, le=36500)
    q: Annotated[str, StringConstraints(max_length=100), ONE_LINE] | None = None
    """Search text, as the worklist's: account reference or customer name, or a card's last four."""


class AssignRequest(Wire):
    """Move accounts (``ids``, or every account matching ``filter``) to an agent and/or a team."""

    ids: Annotated[list[Id], Field(max_length=10_000)] | None = None
    filter: AccountFilter | None = None
    to_agent: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    """``""`` leaves them in the team's pool."""
    to_team: Annotated[str, StringConstraints(max_length=32), ONE_LINE] | None = None
    note: Annotated[str, StringConstraints(max_length=500), MULTI_LINE] = ""


class AssignResult(Wire):
    moved: int
    to_agent: str | None = None
    to_team: str | None = None


class AssignCandidate(Wire):
    id: int
    account_ref: str
    customer_name: str
    agent: str | None = None
    team: str | None = None
    dpd: int
    bucket: Bucket
    balance: Money


class AssignPreview(Wire):
    """``POST /api/v1/accounts/assign/preview`` (a filter): how many accounts it matches,
    whose they are now, and the first of them (highest DPD first)."""

    matched: int
    by_agent: dict[str, int] = {}
    """Current agent's user name (``""``: the team's pool) → accounts matched."""
    items: list[AssignCandidate] = []


class EscalationCheck(Wire):
    """``GET /api/v1/accounts/{id}/escalations/check?kind=legal``: whether the account
    may be escalated so now, and what is missing, in words (as the 409 would name it)."""

    kind: EscalationKind
    ready: bool
    missing: list[str] = []
