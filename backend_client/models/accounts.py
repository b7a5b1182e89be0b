"""The worklist (its items, and why each is there) and accounts: an account's
detail, creating and changing one, and the account the worklist hands out next."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from backend_client.models.scalars import (
    E164,
    MULTI_LINE,
    ONE_LINE,
    CountryCode,
    CurrencyCode,
    DecimalStr,
    Instant,
    Money,
    OpenedOn,
    StrictBool,
    StrictInt,
    Wire,
)
from backend_client.vocabulary import AccountStatus, Bucket, Channel, PhoneKind, TimezoneSource

# --------------------------------------------------------------------------
# Worklist


class Why(Wire):
    """One reason, as a code the desk translates (with ``params``) and English ``text``.

    Codes so far: ``dpd`` {days}, ``large_overdue``, ``promise_due``, ``broken_promise``,
    ``callback_due``, ``worked_recently``, ``paused`` {flag}, ``cease`` {channel},
    ``contactable`` (may be phoned now: the priority counts it first). Why an
    account may not be phoned is in ``blocks``, with each rule's ``until``.
    """

    code: str
    text: str
    params: dict[str, str | int | float] = {}


class ComplianceBlock(Wire):
    rule: str
    """``call-window``, ``frequency``, ``quiet-days``, ``cease``, ``opt-out``, ``do-not-call``,
    ``third-party``, ``attorney``, ``pause-<flag>``, ``legal`` (accepted for legal proceedings),
    ``disclosure``. A ``call-window`` block without ``until`` means the places share no lawful hour."""
    detail: str
    until: AwareDatetime | None = None
    """The earliest instant this block lifts on its own; None when only a change of record lifts it."""
    policy: str = ""
    cite: str = ""


class WorklistItem(Wire):
    id: int
    account_ref: str
    customer_name: str
    card: str
    dpd: int
    bucket: Bucket
    balance: Money
    overdue: Money
    priority: float
    reasons: list[Why]
    contactable_now: bool
    next_contact_at: AwareDatetime | None = None
    blocks: list[ComplianceBlock] = []
    """Why the customer may not be phoned now (the compliance engine's blocks), empty when they may."""
    agent: str | None = None
    flags: list[str] = []


class WorklistPage(Wire):
    items: list[WorklistItem]
    next_cursor: str | None = None


# --------------------------------------------------------------------------
# Accounts


class Flags(Wire):
    """Flags that change what may be done. ``cease`` names the channels stopped."""

    cease: list[Channel] = []
    dispute: bool = False
    bankruptcy: bool = False
    deceased: bool = False
    attorney: bool = False
    complaint: bool = False
    fraud: bool = False
    hardship: bool = False

    def active(self) -> list[str]:
        names = [name for name in type(self).model_fields if name != "cease" and getattr(self, name)]
        if self.cease:
            names.insert(0, "cease:" + ",".join(sorted(c.value for c in self.cease)))
        return names


class PhoneOut(Wire):
    id: int
    number: str
    kind: PhoneKind
    is_primary: bool
    timezones: list[str]
    region: str | None = None
    do_not_call: bool = False


class AddressOut(Wire):
    id: int
    text: str
    country: str | None = None
    region: str | None = None


class Place(Wire):
    """A zone the customer might be in, and what on the account points there."""

    zone: str
    label: str
    """The zone's city in English (``New York``); the desk may translate it."""
    sources: list[str]
    """``customer`` (a zone they confirmed), ``record``, ``phone``, ``address``, ``country``."""


class CustomerOut(Wire):
    id: int
    name: str
    email: str | None = None
    phones: list[PhoneOut]
    addresses: list[AddressOut]
    timezone: str | None = None
    """The IANA zone on record, or None when unknown."""
    timezone_source: TimezoneSource = TimezoneSource.record
    timezones: list[str]
    """Every zone the customer could be in: the confirmed one alone, else every place the account points to."""
    places: list[Place] = []
    """The same zones with what points to each (for "New York (phone) and Los Angeles (address)")."""
    country: str
    region: str | None = None
    language: str | None = None


class AccountDetail(Wire):
    id: int
    account_ref: str
    currency: CurrencyCode
    card: str
    credit_limit: Money
    balance: Money
    overdue: Money
    minimum_due: Money
    dpd: int
    bucket: Bucket
    status: AccountStatus
    opened_on: dt.date | None = None
    customer: CustomerOut
    flags: Flags
    team: str | None = None
    agent: str | None = None
    priority: float
    reasons: list[Why]
    contactable_now: bool
    next_contact_at: AwareDatetime | None = None
    blocks: list[ComplianceBlock] = []
    """Why the customer may not be phoned now (the compliance engine's blocks), empty when they may."""
    legal_since: AwareDatetime | None = None
    """On legal hold (status ``legal``): since when legal has had it."""
    version: int


class AccountCreate(Wire):
    """One row of the account import file, as JSON (SPEC §5)."""

    account_ref: Annotated[str, StringConstraints(min_length=1, max_length=64), ONE_LINE]
    customer_name: Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
    phones: Annotated[list[E164], Field(max_length=10)] = []
    email: Annotated[str, StringConstraints(max_length=254), ONE_LINE] | None = None
    address: Annotated[str, StringConstraints(max_length=500), MULTI_LINE] | None = None
    country: CountryCode | None = None
    region: Annotated[str, StringConstraints(max_length=10), ONE_LINE] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    timezone_source: TimezoneSource | None = None
    """``customer`` when the customer confirmed the zone (it then overrides phones and address)."""
    phone_kinds: Annotated[list[PhoneKind], Field(max_length=10)] = []
    """The kind of each of ``phones``, in order (CSV: ``;``-separated); missing ones: the first mobile, the rest other."""
    currency: CurrencyCode
    credit_limit: DecimalStr
    balance: DecimalStr
    overdue: DecimalStr
    minimum_due: DecimalStr
    dpd: Annotated[StrictInt, Field(ge=0, le=36500)]
    card_number: Annotated[str, StringConstraints(min_length=8, max_length=32), ONE_LINE]
    opened_on: OpenedOn | None = None
    team: Annotated[str, StringConstraints(min_length=1, max_length=32), ONE_LINE]
    agent: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None


class FlagsPatch(Wire):
    cease: list[Channel] | None = None
    dispute: StrictBool | None = None
    bankruptcy: StrictBool | None = None
    deceased: StrictBool | None = None
    attorney: StrictBool | None = None
    complaint: StrictBool | None = None
    fraud: StrictBool | None = None
    hardship: StrictBool | None = None


class PhonePatch(Wire):
    number: E164
    do_not_call: StrictBool = False
    kind: PhoneKind | None = None
    """None keeps a listed number's kind (a new number: ``other``)."""


class AccountPatch(Wire):
    """``PATCH /api/v1/accounts/{id}`` (with ``If-Match: <version>``)."""

    flags: FlagsPatch | None = None
    flags_effective_at: Instant | None = None
    """When the flag changes took effect (a cease letter received yesterday); default now, never in the future."""
    flags_note: Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] = ""
    """Why: required when a flag is lifted (and only those with the authority may: ``config/flags.toml``)."""
    email: Annotated[str, StringConstraints(max_length=254), ONE_LINE] | None = None
    address: Annotated[str, StringConstraints(max_length=500), MULTI_LINE] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    timezone_source: TimezoneSource | None = None
    phones: Annotated[list[PhonePatch], Field(max_length=10)] | None = None
    agent: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None
    team: Annotated[str, StringConstraints(max_length=32), ONE_LINE] | None = None


# --------------------------------------------------------------------------
# The next account of the worklist, held for its agent (POST /worklist/next)


class Lease(Wire):
    account: AccountDetail
    lease_expires_at: AwareDatetime
