"""Whether an account may be contacted now, and from when (the minimal rules the
worklist needs; the full compliance engine of issue 3 takes over from here)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from backend.domain.priority import Why, why
from backend.domain.window import next_window_open, window_open
from backend.domain.zones import COUNTRY_ZONES
from backend.models import Account, Customer

PAUSE_FLAGS = ("complaint", "dispute", "bankruptcy", "deceased")


class Verdict(NamedTuple):
    allowed: bool
    next_at: dt.datetime | None
    reasons: list[Why]


def zones_of(customer: Customer) -> list[str]:
    if customer.timezone:
        return [customer.timezone]
    zones: set[str] = set()
    for phone in customer.phones:
        zones.update(phone.timezones or ())
    for address in customer.addresses:
        if address.country:
            zones.update(COUNTRY_ZONES.get(address.country, ()))
    if not zones:
        zones.update(COUNTRY_ZONES.get(customer.country, ("UTC",)))
    return sorted(zones)


def phone_verdict(account: Account, at: dt.datetime) -> Verdict:
    flags = account.flags or {}
    paused = [name for name in PAUSE_FLAGS if flags.get(name)]
    if paused:
        return Verdict(False, None, [why("paused", f"collection paused: {name}", flag=name) for name in paused])
    if "phone" in (flags.get("cease") or []):
        return Verdict(False, None, [why("cease", "cease: phone", channel="phone")])
    if account.customer.phones and all(p.do_not_call for p in account.customer.phones):
        return Verdict(False, None, [why("do_not_call", "do not call")])
    zones = zones_of(account.customer)
    if window_open(zones, at):
        return Verdict(True, at, [])
    return Verdict(False, next_window_open(zones, at), [why("outside_hours", "outside calling hours")])
