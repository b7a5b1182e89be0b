"""Collaboration (issue 5 item 4): notes shared with other teams, and handoffs."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, StringConstraints

from backend_client.models.contacts import NoteOut
from backend_client.models.scalars import MULTI_LINE, ONE_LINE, Wire
from backend_client.vocabulary import AccountStatus

# --------------------------------------------------------------------------
# Collaboration (issue 5 item 4): shared notes and handoffs


class SharedAccountHeader(Wire):
    """What a user of another team (customer service, sales) sees of an account
    beside its shared notes: who the customer is and who in collections handles
    the account, so they can refer the customer. Never phones, addresses, e-mail,
    balances, days past due or flags: those stay with the owning team."""

    id: int
    account_ref: str
    customer_name: str
    card: str
    """Masked: the last four at most."""
    status: AccountStatus
    in_collections: bool
    """Past due (any bucket but ``current``)."""
    team: str | None = None
    agent: str | None = None


class SharedNotes(Wire):
    """``GET /api/v1/accounts/{id}/shared-notes``: the notes shared with other teams, newest first."""

    account: SharedAccountHeader
    items: list[NoteOut]


class HandoffCreate(Wire):
    """``POST /api/v1/accounts/{id}/handoff``: to an agent (into the agent's team),
    to a team's pool, or to an agent of the team named; the note says why."""

    to_agent: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    to_team: Annotated[str, StringConstraints(max_length=32), ONE_LINE] | None = None
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True), MULTI_LINE]


class HandoffOut(Wire):
    id: int
    account_id: int
    from_team: str
    from_agent: str | None = None
    to_team: str
    to_agent: str | None = None
    by: str
    note: str
    at: AwareDatetime
