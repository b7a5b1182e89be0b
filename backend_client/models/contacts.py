"""Contacts logged on an account (with the promise one may make) and notes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from backend_client.models.plans import TrackedPromise
from backend_client.models.scalars import (
    MULTI_LINE,
    ONE_LINE,
    Day,
    DecimalStr,
    Instant,
    Money,
    NoteText,
    StrictBool,
    StrictInt,
    Wire,
)
from backend_client.vocabulary import Channel, Direction, NoteVisibility, Outcome, Party, Reason, Result

# --------------------------------------------------------------------------
# Contacts and notes


class PromiseIn(Wire):
    amount: DecimalStr
    date: Day


class ContactCreate(Wire):
    channel: Channel
    direction: Direction = Direction.outbound
    party: Party = Party.debtor
    outcome: Outcome
    result: Result | None = None
    reason: Reason | None = None
    note: NoteText = ""
    started_at: Instant | None = None
    duration_s: Annotated[StrictInt, Field(ge=0, le=86_400)] | None = None
    ptp: PromiseIn | None = None
    callback_at: Instant | None = None
    used: Annotated[str, StringConstraints(max_length=254), ONE_LINE] | None = None
    """The number or address used."""
    identity_verified: StrictBool = False
    disclosure_given: StrictBool = False


class OutcomeCounts(Wire):
    worked: bool
    attempted: bool
    contacted: bool


class ContactOut(Wire):
    id: int
    account_id: int
    channel: Channel
    direction: Direction
    party: Party
    outcome: Outcome
    result: Result | None = None
    reason: Reason | None = None
    note: str
    started_at: AwareDatetime
    duration_s: int | None = None
    ptp_amount: Money | None = None
    ptp_date: dt.date | None = None
    callback_at: AwareDatetime | None = None
    used: str | None = None
    agent: str
    after_the_fact: bool = False
    breach: bool = False
    breach_rules: list[str] = []
    counts: OutcomeCounts
    promise: TrackedPromise | None = None
    """The promise an RPC + PTP made, tracked as a plan (kind ``promise``): kept or broken by payments and the sweep."""
    promise_note: str = ""
    """On the answer to logging it only: why a PTP was not tracked (another plan is open, beyond every authority)."""
    document_id: int | None = None
    """A letter sent: its PDF as it went out, at ``/api/v1/documents/{document_id}``."""


class NoteCreate(Wire):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]
    visibility: NoteVisibility = NoteVisibility.team


class NoteOut(Wire):
    id: int
    account_id: int
    text: str
    author: str
    created_at: AwareDatetime
    visibility: NoteVisibility = NoteVisibility.team
