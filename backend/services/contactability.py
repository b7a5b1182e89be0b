"""Whether an account may be contacted now, and from when (the minimal rules the
worklist needs; the full compliance engine of issue 3 takes over from here)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from backend.domain.priority import Why, why
from backend.domain.window import next_window_open
from backend.domain.zones import COUNTRY_ZONES
from backend.models import Account, Customer

PAUSE_FLAGS = ("complaint", "dispute", "bankruptcy", "deceased")


class Verdict(NamedTuple):
    allowed: bool
    next_at: dt.datetime | None
    reasons: list[Why]


def zones_from(timezone: str | None, phone_zones: list[list[str]], address_countries: list[str | None],
               country: str | None) -> list[str]:
    """Every zone a customer could be in: the one on record, else every zone of every
    phone and of the address's country together, else the country's (SPEC §3)."""
    if timezone:
        return [timezone]
    zones: set[str] = set()
    for found in phone_zones:
        zones.update(found or ())
    for address_country in address_countries:
        if address_country:
            zones.update(COUNTRY_ZONES.get(address_country, ()))
    if not zones:
        zones.update(COUNTRY_ZONES.get(country or "", ("UTC",)))
    return sorted(zones)


def zones_of(customer: Customer) -> list[str]:
    return zones_from(customer.timezone, [p.timezones for p in customer.phones],
                      [a.country for a in customer.addresses], customer.country)


def verdict_from(flags: dict | None, do_not_call: list[bool], zones: list[str], at: dt.datetime) -> Verdict:
    """May the customer be phoned at ``at``, and if not, from when (None: not until the record changes)."""
    flags = flags or {}
    paused = [name for name in PAUSE_FLAGS if flags.get(name)]
    if paused:
        return Verdict(False, None, [why("paused", f"collection paused: {name}", flag=name) for name in paused])
    if "phone" in (flags.get("cease") or []):
        return Verdict(False, None, [why("cease", "cease: phone", channel="phone")])
    if do_not_call and all(do_not_call):
        return Verdict(False, None, [why("do_not_call", "do not call")])
    opens = next_window_open(zones, at)  # ``at`` itself when open now (and remembered per zone set)
    if opens == at:
        return Verdict(True, at, [])
    return Verdict(False, opens, [why("outside_hours", "outside calling hours")])


def phone_verdict(account: Account, at: dt.datetime) -> Verdict:
    return verdict_from(account.flags, [p.do_not_call for p in account.customer.phones], zones_of(account.customer), at)
