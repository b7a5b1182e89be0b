"""Whether an account may be contacted now, and from when (the minimal rules the
worklist needs; the full compliance engine of issue 3 takes over from here)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from backend.domain.priority import Why, why
from backend.domain.regions import region_zones
from backend.domain.window import next_window_open
from backend.domain.zones import COUNTRY_ZONES
from backend.models import Account, Customer

PAUSE_FLAGS = ("complaint", "dispute", "bankruptcy", "deceased")


class Verdict(NamedTuple):
    allowed: bool
    next_at: dt.datetime | None
    reasons: list[Why]


def _area_zones(country: str | None, region: str | None) -> tuple[str, ...]:
    """A region's own zone or zones (a US state, never all of the US), else the country's."""
    return region_zones(country, region) or COUNTRY_ZONES.get(country or "", ())


def places_from(timezone: str | None, phone_zones: list[list[str]], addresses: list[tuple[str | None, str | None]],
                country: str | None, region: str | None = None,
                confirmed: bool = False) -> list[tuple[str, tuple[str, ...]]]:
    """Every zone a customer could be in, each with what points there (SPEC §3, §4):
    a zone the customer confirmed alone; else the zone on record, every phone's
    zones and every address's region (or country) together; else the country's.
    Sorted by zone."""
    if timezone and confirmed:
        return [(timezone, ("customer",))]
    found: dict[str, list[str]] = {}

    def add(zones: object, source: str) -> None:
        for zone in zones or ():  # type: ignore[attr-defined]
            sources = found.setdefault(zone, [])
            if source not in sources:
                sources.append(source)

    if timezone:
        add((timezone,), "record")
    for zones in phone_zones:
        add(zones, "phone")
    for address_country, address_region in addresses:
        if address_country:
            add(_area_zones(address_country, address_region), "address")
    if not found:
        add(_area_zones(country, region) or ("UTC",), "country")
    return [(zone, tuple(found[zone])) for zone in sorted(found)]


def zones_from(timezone: str | None, phone_zones: list[list[str]], address_countries: list[str | None],
               country: str | None) -> list[str]:
    """The zones of :func:`places_from` alone, for addresses known by their country only."""
    return [zone for zone, _sources in places_from(timezone, phone_zones, [(c, None) for c in address_countries],
                                                   country)]


def customer_places(customer: Customer) -> list[tuple[str, tuple[str, ...]]]:
    return places_from(customer.timezone, [p.timezones for p in customer.phones],
                       [(a.country, a.region) for a in customer.addresses], customer.country, customer.region,
                       getattr(customer, "timezone_source", "record") == "customer")


def zones_of(customer: Customer) -> list[str]:
    return [zone for zone, _sources in customer_places(customer)]


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
