"""Compliance: a customer's local time, contact limits, the verdict before a
contact, and breaches."""

from __future__ import annotations

from pydantic import AwareDatetime

from backend_client.models.accounts import ComplianceBlock, Place
from backend_client.models.contacts import ContactOut
from backend_client.models.scalars import Wire
from backend_client.vocabulary import Channel, PhoneKind

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
