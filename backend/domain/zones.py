"""Which time zones a customer could be in: the one on record, else every
zone of every phone number's region and of the address's country."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import available_timezones

import phonenumbers
from phonenumbers import timezone as pn_timezone

_UNKNOWN = "Etc/Unknown"

# A representative set of zones for countries the phone library cannot narrow.
COUNTRY_ZONES: dict[str, tuple[str, ...]] = {
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
           "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"),
    "CN": ("Asia/Shanghai",),
    "TW": ("Asia/Taipei",),
    "HK": ("Asia/Hong_Kong",),
    "GB": ("Europe/London",),
    "SG": ("Asia/Singapore",),
    "CA": ("America/St_Johns", "America/Halifax", "America/Toronto", "America/Winnipeg",
           "America/Edmonton", "America/Vancouver"),
}


def valid_zone(name: str) -> bool:
    return name in _available()


_ZONES: set[str] | None = None


def _available() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


def phone_zones(number: str) -> list[str]:
    """Zones a phone number may ring in (several for a whole-country range)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return []
    zones = [z for z in pn_timezone.time_zones_for_number(parsed) if z != _UNKNOWN and valid_zone(z)]
    if not zones:
        region = phonenumbers.region_code_for_number(parsed)
        zones = list(COUNTRY_ZONES.get(region or "", ()))
    return sorted(zones)


def phone_region(number: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or None
    except phonenumbers.NumberParseException:
        return None


def customer_zones(timezone: str | None, phones: Iterable[str], address_country: str | None) -> list[str]:
    """The set of zones every time rule must hold in (SPEC §3)."""
    if timezone:
        return [timezone]
    zones: set[str] = set()
    for number in phones:
        zones.update(phone_zones(number))
    if address_country:
        zones.update(COUNTRY_ZONES.get(address_country, ()))
    return sorted(zones) or ["UTC"]
