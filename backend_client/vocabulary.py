"""The contract's words, defined once: roles, buckets, channels, outcome and result
codes, plan, escalation and document kinds and statuses. StrEnums (each member is its
string), used by the wire models (``backend_client.models``), the backend's domain rules
and services, the desk and the CLI alike, route parameters included.

Standard library only: the CLI and the domain rules import it without pydantic.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    legal = "legal"
    trainer = "trainer"
    admin = "admin"
    service = "service"
    """Customer service, sales and other teams outside collections: they read the
    notes an account's team shares with them (``GET /accounts/{id}/shared-notes``), nothing else."""


class Bucket(StrEnum):
    current = "current"
    x = "X"
    b30 = "30"
    b60 = "60"
    b90 = "90"
    b120 = "120"
    b150 = "150"
    b180 = "180+"


class Channel(StrEnum):
    phone = "phone"
    email = "email"
    sms = "sms"
    letter = "letter"
    visit = "visit"


class Direction(StrEnum):
    outbound = "outbound"
    inbound = "inbound"


class PhoneKind(StrEnum):
    """What a number is (SPEC §4): some policies limit calls per kind (Massachusetts:
    a residence or personal number 2 in 7 days, any other 2 in 30)."""

    home = "home"
    mobile = "mobile"
    work = "work"
    other = "other"


class TimezoneSource(StrEnum):
    """Where the zone on record came from: the bank's ``record`` is one place among
    the phones' and the address's; a zone the ``customer`` confirmed overrides them."""

    record = "record"
    customer = "customer"


class Party(StrEnum):
    debtor = "debtor"
    third_party = "third_party"
    attorney = "attorney"


class Outcome(StrEnum):
    NA = "NA"  # no answer
    BSY = "BSY"  # busy
    VM = "VM"  # voicemail reached, nothing left
    LM = "LM"  # message left
    WN = "WN"  # wrong number
    DISC = "DISC"  # disconnected
    TPC = "TPC"  # third party reached (location only)
    RPC = "RPC"  # right party reached


class Result(StrEnum):
    PTP = "PTP"
    PLAN = "PLAN"
    PAID = "PAID"
    RTP = "RTP"
    DISP = "DISP"
    HARD = "HARD"
    CB = "CB"
    CEASE = "CEASE"
    ATTY = "ATTY"
    BK = "BK"
    COMP = "COMP"


class Reason(StrEnum):
    job_loss = "job_loss"
    illness = "illness"
    over_indebted = "over_indebted"
    forgot = "forgot"
    merchant_dispute = "merchant_dispute"
    fraud_claim = "fraud_claim"
    business_failure = "business_failure"
    family_emergency = "family_emergency"
    disaster = "disaster"
    unwilling = "unwilling"
    other = "other"


class AccountStatus(StrEnum):
    open = "open"
    closed = "closed"
    charged_off = "charged_off"
    legal = "legal"


class NoteVisibility(StrEnum):
    team = "team"
    """The owning team's (the default)."""
    shared = "shared"
    """Other teams (customer service, sales) may read it too."""


class TimelineKind(StrEnum):
    contact = "contact"
    note = "note"
    plan = "plan"
    payment = "payment"
    escalation = "escalation"
    change = "change"
    handoff = "handoff"
    flag = "flag"
    """A flag or pause set or lifted: ``data`` has ``flag``, ``channel``, ``change`` (set|lifted), ``effective_at``."""


class PlanKind(StrEnum):
    promise = "promise"
    instalment = "instalment"
    minimum = "minimum"
    settlement = "settlement"


class PlanFrequency(StrEnum):
    monthly = "monthly"
    fortnightly = "fortnightly"


class PlanStatus(StrEnum):
    draft = "draft"
    pending = "pending"
    """Pending approval: beyond the drafter's authority, waiting in a supervisor's queue."""
    active = "active"
    kept = "kept"
    broken = "broken"
    cancelled = "cancelled"
    rejected = "rejected"
    """A supervisor said no (with a note); the agent may draft another."""


class ItemStatus(StrEnum):
    due = "due"
    kept = "kept"
    broken = "broken"
    cancelled = "cancelled"


class CaseKind(StrEnum):
    plan_kept = "plan_kept"
    cured = "cured"
    plan_broken = "plan_broken"
    refused = "refused"
    dispute = "dispute"
    no_contact = "no_contact"


class EscalationKind(StrEnum):
    legal = "legal"
    supervisor = "supervisor"
    complaint = "complaint"
    dispute = "dispute"
    hardship = "hardship"
    fraud = "fraud"
    agency = "agency"


class EscalationStatus(StrEnum):
    open = "open"
    in_review = "in_review"
    accepted = "accepted"
    returned = "returned"
    closed = "closed"


class DocumentKind(StrEnum):
    demand_letter = "demand_letter"
    statement = "statement"
    contact_history = "contact_history"
    plan_history = "plan_history"
    reminder_letter = "reminder_letter"
    """A friendly reminder (a treatment's early letter, issue 20); not in the legal pack."""
    please_call_letter = "please_call_letter"
    """Asks the customer to call (after calls that failed, issue 20); not in the legal pack."""


class DocumentFormat(StrEnum):
    md = "md"
    pdf = "pdf"
