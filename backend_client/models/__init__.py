"""The wire contract: every request and response shape of the HTTP API (v1).

There is one definition of each shape. The backend's routes declare these as
their request bodies and response models; the desk's client parses responses
into them. Nothing here does I/O.

Money is ``{amount_minor, currency}`` in responses (an integer count of minor
units); in requests it is a decimal string in major units (``"1234.50"``), as
in the import files. Times are zone-aware ISO 8601; naive datetimes are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from backend_client.vocabulary import (  # noqa: F401 - the words of the contract, defined once there
    AccountStatus,
    Bucket,
    CaseKind,
    Channel,
    Direction,
    DocumentFormat,
    DocumentKind,
    EscalationKind,
    EscalationStatus,
    ItemStatus,
    NoteVisibility,
    Outcome,
    Party,
    PhoneKind,
    PlanFrequency,
    PlanKind,
    PlanStatus,
    Reason,
    Result,
    Role,
    TimelineKind,
    TimezoneSource,
)

# --------------------------------------------------------------------------
# Scalars


# Text (issue 15): one rule for every string that comes in, body field, query
# parameter, path string or import cell, checked as received (before any
# trimming), so that PostgreSQL (which refuses NUL outright) never sees what
# SQLite would have kept, and nothing unprintable reaches a screen, a letter or
# an export. Two kinds of text:
#
# - one line (``Line``): names, references, e-mail, team, agent, zone, reason,
#   search text, query parameters: no control character at all: C0 (U+0000 to
#   U+001F, tab and line breaks included), DEL (U+007F) and C1 (U+0080 to U+009F);
# - several lines (``Lines``): notes, and addresses (printed a line each on
#   letters): the same, but tab, line feed and carriage return are taken.
#
# Neither takes a lone surrogate (U+D800 to U+DFFF: JSON may escape one, but it is
# no character and no database can store it).

_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not text of its kind (in words, naming the character), or None."""
    found = (_NOT_LINES if multiline else _NOT_TEXT).search(value)
    if found is None:
        return None
    code = ord(found.group())
    if code in (0x09, 0x0A, 0x0D):
        return f"must be a single line (no line breaks or tabs; found U+{code:04X})"
    if 0xD800 <= code <= 0xDFFF:
        return f"must be Unicode text (found a lone surrogate U+{code:04X})"
    return f"must not contain control characters (found U+{code:04X})"


def _checker(multiline: bool) -> Callable[[str], str]:
    def check(value: Any) -> Any:
        # Before the type's own validation (and before ``strip_whitespace``, which
        # would take a trailing U+0085 away unseen); a non-string is left to it.
        if isinstance(value, str) and (problem := text_problem(value, multiline=multiline)):
            raise PydanticCustomError("control_character", problem)
        return value

    return check


ONE_LINE = BeforeValidator(_checker(False))
"""One line of text: no control character (C0, DEL, C1) and no lone surrogate. Put it
last in an ``Annotated`` (``Annotated[str, StringConstraints(...), ONE_LINE]``): it then
sees the value as received, before the constraints strip or measure it."""
MULTI_LINE = BeforeValidator(_checker(True))
"""Text of several lines (notes, addresses): as :data:`ONE_LINE`, but tab, LF and CR are taken."""
Line = Annotated[str, ONE_LINE]
Lines = Annotated[str, MULTI_LINE]

ShortText = Annotated[str, StringConstraints(max_length=200), ONE_LINE]
NoteText = Annotated[str, StringConstraints(max_length=4000), MULTI_LINE]
Id = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]

# Strict scalars (issue 15 item 6): what comes in is the JSON type the schema says.
# Pydantic's lax mode would take ``"12"`` or ``12.0`` for an integer, ``"yes"`` or
# ``1`` for a boolean, ``"0.5"`` for a number: request bodies use these instead, so
# that such a body is refused 422 naming the field. (A whole model in strict mode
# would refuse more: FastAPI validates the parsed JSON as Python data, where strict
# mode takes an enum only as its member and a date only as a ``date``.)
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
StrictFloat = Annotated[float, Strict()]
"""A JSON number (an integer is a number too); never a string or a boolean."""


# --------------------------------------------------------------------------
# Dates (issue 15): every date and instant that comes in lies in a sane range, so
# that a payment dated year 1 (beyond what some code can add a day to) or 1900
# (which would lower a balance for a time before the card existed) is refused 422
# naming the field. The services add what depends on the record and the clock (a
# payment not before the account opened nor in the future, a plan's first due
# date not in the past, a contact not in the future...).

EARLIEST_DAY = dt.date(2000, 1, 1)
"""No event this system records (a contact, payment, plan, flag, report period,
compliance question) is before 2000: the collections records start later."""
LATEST_DAY = dt.date(2099, 12, 31)
"""Nor after 2099: a plan of 130 fortnights from the latest first due date still ends
long before dates run out, and nothing real is planned further ahead."""
EARLIEST_OPENED_ON = dt.date(1950, 1, 1)
"""An account may be older than the records of its collection: a card opened in the
1970s is in the book; none before 1950 (the first charge cards)."""
EARLIEST_INSTANT = dt.datetime.combine(EARLIEST_DAY, dt.time(), dt.UTC)
LATEST_INSTANT = dt.datetime.combine(LATEST_DAY + dt.timedelta(days=1), dt.time(), dt.UTC)


def day_problem(value: dt.date, earliest: dt.date = EARLIEST_DAY, latest: dt.date = LATEST_DAY) -> str | None:
    if not earliest <= value <= latest:
        return f"must be from {earliest.isoformat()} to {latest.isoformat()}"
    return None


def instant_problem(value: dt.datetime) -> str | None:
    """For a zone-aware instant (compared as instants: the offset counts)."""
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        return f"must be from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()} (UTC)"
    return None


def _day_in(earliest: dt.date) -> Callable[[dt.date], dt.date]:
    def check(value: dt.date) -> dt.date:
        if problem := day_problem(value, earliest):
            raise PydanticCustomError("date_out_of_range", problem)
        return value

    return check


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    if problem := instant_problem(value):
        raise PydanticCustomError("datetime_out_of_range", problem)
    return value


# Dates and instants come as ISO 8601 text (issue 15 item 6): pydantic alone would
# read an integer (or a string of digits) as seconds since 1970, so that
# ``"at": 1700000000`` were an instant and ``"date": 0`` a day. A ``date`` or
# ``datetime`` object (Python callers: the desk, the importer) is taken as it is.
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_INSTANT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _iso_text(pattern: re.Pattern[str], kind: str, message: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, dt.date) or (isinstance(value, str) and pattern.match(value)):
            return value
        raise PydanticCustomError(kind, message)

    return check


ISO_DAY = BeforeValidator(_iso_text(_ISO_DAY, "iso_date", "must be an ISO 8601 date (YYYY-MM-DD)"))
ISO_INSTANT = BeforeValidator(_iso_text(
    _ISO_INSTANT, "iso_datetime", "must be an ISO 8601 date and time with an offset (2026-12-01T09:00:00-05:00)"))

Day = Annotated[dt.date, AfterValidator(_day_in(EARLIEST_DAY)), ISO_DAY]
"""A date from :data:`EARLIEST_DAY` to :data:`LATEST_DAY`."""
OpenedOn = Annotated[dt.date, AfterValidator(_day_in(EARLIEST_OPENED_ON)), ISO_DAY]
"""The day an account was opened: from :data:`EARLIEST_OPENED_ON`."""
Instant = Annotated[AwareDatetime, AfterValidator(_instant_in_range), ISO_INSTANT]
"""A zone-aware instant from :data:`EARLIEST_DAY` to :data:`LATEST_DAY` (UTC); naive ones are refused."""
IsoDateTime = Annotated[dt.datetime, ISO_INSTANT]
"""A date and time as ISO 8601 text (a query parameter whose offset the route checks itself)."""


# --------------------------------------------------------------------------
# Amounts (issue 15): a decimal string in major units. Control characters are
# refused first (as in any text); then spaces around it are trimmed (``" 12.50 "``
# is 12.50, here as in ``backend_client.money.to_minor`` and the import files);
# what is left must be ASCII digits with an optional leading minus and point.

_DECIMAL_RE = re.compile(r"^-?[0-9]{1,13}(\.[0-9]{1,4})?$")


def _decimal_string(value: str) -> str:
    value = value.strip()
    if not _DECIMAL_RE.match(value):
        raise PydanticCustomError("decimal_string", "must be a decimal number in major units, like 1234.50")
    return value


DecimalStr = Annotated[str, AfterValidator(_decimal_string), ONE_LINE]
"""An amount in major units as a string (``"1234.50"``): never a float."""

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Money(Wire):
    amount_minor: int
    currency: CurrencyCode


# --------------------------------------------------------------------------
# Enumerations


# --------------------------------------------------------------------------
# Problems (RFC 9457)


class FieldError(Wire):
    field: str
    message: str


class Problem(BaseModel):
    """An error answer. ``rule`` names a compliance rule, ``errors`` the fields at fault."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    rule: str | None = None
    errors: list[FieldError] | None = None


# --------------------------------------------------------------------------
# Auth and users


class LoginRequest(Wire):
    username: ShortText
    password: Annotated[str, StringConstraints(max_length=1024), ONE_LINE]


class UserOut(Wire):
    id: int
    username: str
    display_name: str
    role: Role
    team: str | None = None


class TokenResponse(Wire):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: AwareDatetime
    user: UserOut


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
# Contacts, notes, timeline


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


# The timeline's entries (issue 16 item 3): one model per kind, told apart by ``kind``.


class EntryBase(Wire):
    id: int
    at: AwareDatetime
    actor: str | None = None
    summary: str
    """A short line in English: the desk builds its own text from the typed parts."""


class ContactEntry(EntryBase):
    kind: Literal["contact"] = "contact"
    contact: ContactOut


class NoteEntry(EntryBase):
    kind: Literal["note"] = "note"
    note: NoteOut


class PlanEventData(Wire):
    """A plan's status change: the plan as it then was."""

    plan_id: int
    status: PlanStatus
    kind: PlanKind
    note: str = ""
    contact_id: int | None = None
    """The call it was promised on (a tracked promise, issue 14)."""
    total: Money
    items: int


class PlanEntry(EntryBase):
    kind: Literal["plan"] = "plan"
    data: PlanEventData


class AllocationData(Wire):
    plan_id: int
    seq: int
    amount_minor: int


class PaymentData(Wire):
    bank_ref: str
    amount: Money
    allocations: list[AllocationData] = []
    unallocated_minor: int = 0


class PaymentEntry(EntryBase):
    kind: Literal["payment"] = "payment"
    data: PaymentData


class EscalationEventData(Wire):
    """An escalation opened, decided or moved on."""

    escalation_id: int
    kind: EscalationKind
    status: EscalationStatus
    queue: str | None = None
    reason: str | None = None
    note: str | None = None


class DocumentData(Wire):
    """A document made for the account (a letter sent, a legal pack's file): ``url`` fetches it."""

    document_id: int
    document_kind: DocumentKind
    format: DocumentFormat
    lang: str
    name: str
    escalation_id: int | None = None
    url: str


class EscalationEntry(EntryBase):
    """Escalation events and documents share the kind (a document's ``id`` is its own, negated)."""

    kind: Literal["escalation"] = "escalation"
    data: EscalationEventData | DocumentData


class HandoffEntry(EntryBase):
    kind: Literal["handoff"] = "handoff"
    data: HandoffOut


class FlagChangeData(Wire):
    flag: str
    channel: str | None = None
    change: Literal["set", "lifted"]
    effective_at: AwareDatetime
    recorded_at: AwareDatetime | None = None
    note: str = ""


class FlagEntry(EntryBase):
    """A flag or pause set or lifted."""

    kind: Literal["flag"] = "flag"
    data: FlagChangeData


TimelineEntry = Annotated[
    ContactEntry | NoteEntry | PlanEntry | PaymentEntry | EscalationEntry | HandoffEntry | FlagEntry,
    Field(discriminator="kind"),
]
"""One entry of an account's timeline: which one, its ``kind`` says."""


class Timeline(Wire):
    items: list[TimelineEntry]


class Lease(Wire):
    account: AccountDetail
    lease_expires_at: AwareDatetime


class Health(Wire):
    status: Literal["ok"] = "ok"
    database: str
    version: str


# --------------------------------------------------------------------------
# Compliance


class LocalTime(Wire):
    zone: str
    local: AwareDatetime


class LimitCount(Wire):
    """How many counted contacts one frequency limit sees in its window at the instant asked."""

    rule: str = "frequency"
    policy: str
    counted: int
    max: int
    days: int
    channels: list[Channel] = []
    kinds: list[PhoneKind] = []
    """The kinds of number the limit counts together (empty: every number)."""
    cite: str = ""


class ComplianceVerdict(Wire):
    allowed: bool
    blocks: list[ComplianceBlock]
    customer_local_time: AwareDatetime
    """The customer's local time (in the first of their zones)."""
    customer_local_times: list[LocalTime] = []
    """The local time in every zone the customer could be in."""
    next_allowed_at: AwareDatetime | None = None
    """When every block has lifted (``at`` itself when allowed); None when no time will do."""
    policies: list[str] = []
    channel: Channel = Channel.phone
    at: AwareDatetime | None = None
    places: list[Place] = []
    """Every place whose window the verdict intersected."""
    counts: list[LimitCount] = []
    """The frequency limits that apply to this contact and what each has counted."""
    next_allowed_zone: str | None = None
    """The zone whose window opens last at ``next_allowed_at`` (the customer's clock to show it in)."""


class Breach(Wire):
    contact: ContactOut
    account_ref: str
    customer_name: str
    team: str | None = None


class BreachPage(Wire):
    items: list[Breach]


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


# --------------------------------------------------------------------------
# Reports


class StrategyFigures(Wire):
    strategy: str
    accounts: int
    balance: list[Money]
    attempts: int
    """Outbound contact attempts in the period."""
    right_party_contacts: int
    rpc_rate: float | None = None
    promises: int
    promised: list[Money]
    plans_kept: int
    plans_broken: int
    kept_rate: float | None = None
    collected: list[Money]
    paying_accounts: int
    paying_share: float | None = None
    """Accounts that paid anything in the period, over the strategy's accounts."""


class StrategyReport(Wire):
    """Champion against challenger (issue 6): per strategy, never per agent."""

    days: int
    since: AwareDatetime
    until: AwareDatetime
    strategies: list[StrategyFigures]


# --------------------------------------------------------------------------
# Reports: agent, team, portfolio, cases (issue 5)


class ReportPeriod(Wire):
    """The period a report covers: ``since`` ≤ t < ``until``."""

    since: AwareDatetime
    until: AwareDatetime
    days: int


class WorkFigures(Wire):
    """What was done in the period, for one agent or one team. Collection is always
    shown beside the quality figures (rates, kept plans, handle time), never alone:
    no report ranks agents by amounts recovered (2011 Measures Art. 66)."""

    accounts: int
    """Accounts assigned now."""
    attempts: int
    """Outbound contacts whose outcome counts as an attempt (NA, VM, LM, WN, TPC, RPC)."""
    contacts: int
    """Contacts that reached someone (TPC or RPC), either direction."""
    right_party_contacts: int
    """RPC, either direction."""
    rpc_rate: float | None = None
    """Outbound RPC over attempts."""
    promises: int
    """RPC with the result PTP."""
    promised: list[Money]
    plans: int
    """Plans drafted in the period."""
    plans_kept: int
    plans_broken: int
    kept_rate: float | None = None
    """Plans kept over plans kept or broken in the period (promises are plans once drafted)."""
    collected: list[Money]
    """Payments in the period on the accounts worked (assigned now)."""
    paying_accounts: int
    escalations: int | None = None
    """Escalations raised in the period; ``None`` where escalations are not recorded (yet)."""
    average_handle_s: float | None = None
    """Mean ``duration_s`` of the contacts that have one."""
    attempts_by_day: list[int] = []
    """Attempts per day of the period (24 hours each, counted back from its end),
    oldest first: the terminal draws a sparkline."""


class AgentFigures(WorkFigures):
    agent: str
    display_name: str
    team: str | None = None


class AgentReport(Wire):
    """Per agent, ordered by name, never by amount collected."""

    period: ReportPeriod
    team: str | None = None
    agents: list[AgentFigures]


class TeamFigures(WorkFigures):
    team: str
    agents: int
    """Agents in the team."""


class TeamReport(Wire):
    period: ReportPeriod
    teams: list[TeamFigures]


class BucketFigures(Wire):
    bucket: Bucket
    accounts: int
    balance: list[Money]
    share: float | None = None
    """The bucket's share of the accounts."""


class RollRow(Wire):
    """Accounts in ``bucket`` one month, and where they were the next."""

    bucket: Bucket
    accounts: int
    to: dict[str, int]
    """Next month's bucket → accounts."""
    roll_forward_rate: float | None = None
    """Share that rolled to a worse bucket."""
    cure_rate: float | None = None
    """Share that became current (delinquent buckets only)."""


class RollMatrix(Wire):
    """Month-on-month roll rates from the statement history of each account
    (``Account.history.status``: months late per statement month). There is no
    daily bucket history: the backend moves buckets only on payments."""

    from_month: str | None = None
    to_month: str | None = None
    accounts: int
    """Accounts with a statement history (the others have none to roll)."""
    rows: list[RollRow]
    roll_forward_trend: list[float | None] = []
    """The share of delinquent accounts rolling forward, per month pair, oldest first."""
    cure_trend: list[float | None] = []
    """The share of delinquent accounts curing, per month pair, oldest first."""


class PortfolioReport(Wire):
    period: ReportPeriod
    team: str | None = None
    accounts: int
    balance: list[Money]
    buckets: list[BucketFigures]
    """Every bucket, ``current`` to ``180+``, now."""
    roll: RollMatrix
    cure_rate: float | None = None
    """Statement months: delinquent the month before the latest, current in the latest."""
    delinquent_at_start: int
    """Accounts delinquent when the period began (their bucket before the first payment since)."""
    cured: int
    """Of those, the accounts that are current now."""
    period_cure_rate: float | None = None
    collected: list[Money]


class CaseContact(Wire):
    at: AwareDatetime
    agent: str
    summary: str
    """``phone outbound RPC PTP``"""
    note: str = ""


class Case(Wire):
    kind: CaseKind
    successful: bool
    at: AwareDatetime
    """When it happened (the plan's last event, the payment, the contact)."""
    what: str
    """What happened and what was done, in a line of English."""
    account_id: int
    account_ref: str
    customer_name: str
    agent: str | None = None
    team: str | None = None
    bucket: Bucket
    balance: Money
    attempts: int
    """Outbound attempts on the account in the period."""
    right_party_contacts: int
    notes: list[str] = []
    """The account's latest notes, newest first."""
    contacts: list[CaseContact] = []
    """The account's latest contacts in the period, newest first."""


class CasesReport(Wire):
    period: ReportPeriod
    team: str | None = None
    successful: list[Case]
    difficult: list[Case]


class OverviewRow(Wire):
    """One agent's book now (``agent`` None: the team's unassigned pool), or the total."""

    agent: str | None = None
    display_name: str
    team: str | None = None
    accounts: int
    """Open accounts assigned now."""
    buckets: dict[str, int] = {}
    """Bucket → accounts (only the buckets that have some)."""
    contactable_now: int
    """Accounts that may be phoned now (their answer has not lapsed)."""
    promises_due_today: int
    """Accounts with a payment of an active plan (a promise, an instalment…) due on ``day``."""
    broken_promises: int
    """Accounts whose plan broke since ``broken_since``."""


class TeamOverview(Wire):
    """``GET /api/v1/reports/overview``: the supervisor's desk: each agent's book as it is now.
    A head count per agent, not a ranking: agents are listed by name."""

    as_of: AwareDatetime
    day: dt.date
    """"Today" for promises due (the caller's date; default the UTC date)."""
    broken_since: AwareDatetime
    team: str | None = None
    agents: list[OverviewRow]
    total: OverviewRow


# --------------------------------------------------------------------------
# Escalations and documents (issue 5)


DocumentLang = Literal["en", "zh_CN"]


class EscalationCreate(Wire):
    """``POST /api/v1/accounts/{id}/escalations``. A legal referral whose preconditions
    are not met is refused ``409`` with ``missing``: what is missing, in words."""

    kind: EscalationKind
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
    note: NoteText = ""
    lang: DocumentLang | None = None
    """The legal pack's language (default: the customer's)."""


class EscalationDecision(Wire):
    """The body of ``POST /api/v1/escalations/{id}/{review,accept,return,close}``;
    returning needs a note."""

    note: NoteText = ""


class EscalationEventOut(Wire):
    status: EscalationStatus
    actor: str | None = None
    note: str = ""
    at: AwareDatetime


class DocumentOut(Wire):
    id: int
    account_id: int
    escalation_id: int | None = None
    kind: DocumentKind
    format: DocumentFormat
    lang: str
    name: str
    """The file name: ``demand_letter.pdf``; unique within an escalation's pack."""
    media_type: str
    size: int
    sha256: str
    created_by: str | None = None
    created_at: AwareDatetime
    url: str
    """Where its bytes are (``GET``)."""


class DocumentPage(Wire):
    items: list[DocumentOut]


class EscalationOut(Wire):
    id: int
    account_id: int
    account_ref: str
    customer_name: str
    team: str | None = None
    kind: EscalationKind
    status: EscalationStatus
    queue: Role
    """The role that decides it."""
    reason: str
    note: str = ""
    decision_note: str = ""
    created_by: str
    decided_by: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    decided_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    events: list[EscalationEventOut] = []
    documents: list[DocumentOut] = []
    """The legal pack of a referral."""


class EscalationPage(Wire):
    items: list[EscalationOut]


class DocumentCreate(Wire):
    """``POST /api/v1/accounts/{id}/documents``: generate and store a document."""

    kind: DocumentKind
    format: DocumentFormat = DocumentFormat.pdf
    lang: DocumentLang | None = None
    """Default: the customer's language (Chinese for China, Hong Kong, Taiwan), else English."""


class LetterSend(Wire):
    """``POST /api/v1/accounts/{id}/letters``: send a letter (issue 14: the demand letter)."""

    kind: Literal["demand_letter"] = "demand_letter"
    lang: DocumentLang | None = None
    """Default: the customer's language, as for documents."""


class LetterRunItem(Wire):
    account_id: int
    account_ref: str
    contact_id: int | None = None
    """The ``letter`` contact recorded; None where it was skipped."""
    document_id: int | None = None
    skipped: str = ""
    """Why no letter went (the compliance rule, no address), in English."""
    rule: str | None = None


class LetterRunOut(Wire):
    """A supervisor's batch of letters for a segment: one contact and PDF per account, one print file."""

    id: int
    segment_id: int
    segment_name: str
    kind: DocumentKind
    sent: int
    skipped: int
    items: list[LetterRunItem] = []
    print_file_url: str | None = None
    """``/api/v1/letter-runs/{id}/print.pdf``: every letter sent, in order; None when none went."""
    size: int = 0
    sha256: str = ""
    created_by: str
    created_at: AwareDatetime


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
