"""Plans and payments (SPEC §3, §5): promises tracked, plans proposed and
decided, payments and how they were allocated, the sweep."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from backend_client.models.problems import FieldError
from backend_client.models.scalars import (
    MULTI_LINE,
    ONE_LINE,
    Day,
    DecimalStr,
    Id,
    Instant,
    Money,
    StrictBool,
    StrictInt,
    Wire,
)
from backend_client.vocabulary import ItemStatus, PlanFrequency, PlanKind, PlanStatus

# --------------------------------------------------------------------------
# Plans and payments (SPEC §3, §5)


class TrackedPromise(Wire):
    """A contact's promise to pay, as the plan that tracks it."""

    plan_id: int
    status: PlanStatus
    amount: Money
    due: dt.date


class PlanCreate(Wire):
    """Draft a plan. ``amount`` is the total to be paid in major units (a decimal
    string): for a settlement the discount is the balance less it (or give
    ``discount_percent`` instead); for ``minimum`` it defaults to the minimum due."""

    kind: PlanKind
    amount: DecimalStr | None = None
    count: StrictInt = Field(default=1, ge=1, le=130)
    frequency: PlanFrequency = PlanFrequency.monthly
    first_due: Day
    discount_percent: DecimalStr | None = None
    note: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] = ""
    replaces: Id | None = None
    """The caller's own draft on this account that this plan replaces: it is cancelled in the
    same transaction, so that the account never has neither (issue 16 item 4)."""
    submit: StrictBool = False
    """Submit the plan at once (active within the agent's authority, else pending approval),
    in the same transaction as the draft."""


class PlanItemOut(Wire):
    seq: int
    due: dt.date
    amount: Money
    paid: Money
    status: ItemStatus


class LimitBreach(Wire):
    """One authority limit a plan goes beyond: ``discount``, ``term``,
    ``first_payment_date`` or ``first_payment_amount``."""

    limit: str
    allowed: str
    actual: str


class PlanOut(Wire):
    id: int
    account_id: int
    account_ref: str
    kind: PlanKind
    status: PlanStatus
    contact_id: int | None = None
    """The call that made it (a promise from RPC + PTP); None for a plan drafted as such."""
    total: Money
    discount: Money
    fee: Money
    interest: Money
    balance_at_draft: Money
    frequency: PlanFrequency
    schedule: list[PlanItemOut]
    needs_approval: bool
    """Beyond the drafter's authority: submitting sends it to a supervisor."""
    breaches: list[LimitBreach] = []
    """The drafter's limits it goes beyond (why it needs approval)."""
    created_by: str | None = None
    decided_by: str | None = None
    note: str = ""
    decision_note: str = ""
    created_at: AwareDatetime
    updated_at: AwareDatetime
    version: int


class PlanPage(Wire):
    items: list[PlanOut]


class PlanDecision(Wire):
    """Approve, reject or cancel, with a note (required to reject)."""

    note: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] = ""


class PaymentCreate(Wire):
    """A payment from the bank's feed (a payment-file row as JSON)."""

    bank_ref: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE]
    account_ref: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE]
    amount: DecimalStr
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3), ONE_LINE]
    paid_at: Instant


class Allocation(Wire):
    plan_id: int
    seq: int
    amount: Money


class PaymentOut(Wire):
    id: int
    bank_ref: str
    account_id: int
    account_ref: str
    amount: Money
    paid_at: AwareDatetime
    allocations: list[Allocation] = []
    """How the payment was matched to due plan items, oldest first."""
    unallocated: Money
    """What no due item took (no active plan, or an overpayment)."""
    balance_after: Money
    created_at: AwareDatetime


class SweepResult(Wire):
    as_of: dt.date
    items_kept: int
    items_broken: int
    plans_kept: int
    plans_broken: int


class PlanPreview(Wire):
    """What a draft would be, without saving it (``POST /accounts/{id}/plans/preview``):
    the desk shows it live as the agent types. Problems are answers here, not errors."""

    ok: bool
    """It could be saved as a draft now."""
    kind: PlanKind
    total: Money | None = None
    discount: Money | None = None
    fee: Money | None = None
    interest: Money | None = None
    schedule: list[PlanItemOut] = []
    needs_approval: bool = False
    breaches: list[LimitBreach] = []
    """The drafter's limits it goes beyond: submitting sends it for approval."""
    refused: list[LimitBreach] = []
    """Limits beyond every role's authority: it cannot be saved."""
    errors: list[FieldError] = []
    """Fields at fault (a bad amount, a date in the past, a conflicting plan)."""
