"""Call windows in every zone a customer could be in (SPEC §3, §4), and which zones
those are (from the zone on record, phone numbers and the address)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.window import next_window_open, window_open
from backend.domain.zones import COUNTRY_ZONES, customer_zones, phone_region, phone_zones, valid_zone

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)

# Zones with DST, half- and quarter-hour offsets, the date line, and no DST at all.
ZONES = [
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/St_Johns", "Europe/London", "Europe/Berlin", "Asia/Shanghai",
    "Asia/Taipei", "Asia/Hong_Kong", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "Australia/Lord_Howe",
    "Pacific/Chatham", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Santiago", "Africa/Casablanca", "UTC",
]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


# --------------------------------------------------------------------------
# window_open


@pytest.mark.parametrize(("instant", "open_"), [
    ("2024-06-03T08:00:00-04:00", True),  # opens at 08:00 (inclusive)
    ("2024-06-03T07:59:59-04:00", False),
    ("2024-06-03T20:59:59-04:00", True),
    ("2024-06-03T21:00:00-04:00", False),  # closes at 21:00 (exclusive)
    ("2024-12-03T08:00:00-05:00", True),  # winter: EST
    ("2024-12-03T12:59:00+00:00", False),  # 07:59 EST
])
def test_window_open_in_one_zone(instant: str, open_: bool) -> None:
    assert window_open(["America/New_York"], at(instant)) is open_


def test_window_must_hold_in_every_zone() -> None:
    moment = at("2024-06-03T08:30:00-04:00")  # 08:30 in New York, 05:30 in Los Angeles
    assert window_open(["America/New_York"], moment)
    assert not window_open(["America/New_York", "America/Los_Angeles"], moment)
    assert window_open(["America/New_York", "America/Los_Angeles"], at("2024-06-03T11:00:00-04:00"))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        window_open(["UTC"], dt.datetime(2024, 6, 3, 12))


# --------------------------------------------------------------------------
# next_window_open


def test_next_opening_is_now_when_open() -> None:
    moment = at("2024-06-03T12:34:56-04:00")
    assert next_window_open(["America/New_York"], moment) == moment


@pytest.mark.parametrize(("zones", "instant", "expected"), [
    (["America/New_York"], "2024-06-03T22:00:00-04:00", "2024-06-04T08:00:00-04:00"),
    (["America/New_York"], "2024-06-03T03:00:00-04:00", "2024-06-03T08:00:00-04:00"),
    # DST starts in New York on 2024-03-10 at 02:00: 08:00 that day is EDT.
    (["America/New_York"], "2024-03-10T01:30:00-05:00", "2024-03-10T08:00:00-04:00"),
    (["America/New_York"], "2024-03-09T21:30:00-05:00", "2024-03-10T08:00:00-04:00"),
    # DST ends on 2024-11-03 at 02:00: 08:00 that day is EST.
    (["America/New_York"], "2024-11-03T01:30:00-04:00", "2024-11-03T08:00:00-05:00"),
    (["America/New_York"], "2024-11-02T23:00:00-04:00", "2024-11-03T08:00:00-05:00"),
    # London's and Berlin's own DST days.
    (["Europe/London"], "2024-03-31T00:30:00+00:00", "2024-03-31T08:00:00+01:00"),
    (["Europe/Berlin"], "2024-10-27T05:00:00+01:00", "2024-10-27T08:00:00+01:00"),
    # Both coasts: the window opens when it opens in the later zone.
    (["America/New_York", "America/Los_Angeles"], "2024-06-03T07:00:00-04:00", "2024-06-03T08:00:00-07:00"),
    # Quarter-hour zone.
    (["Asia/Kathmandu"], "2024-06-03T00:00:00+00:00", "2024-06-03T08:00:00+05:45"),
    # Shanghai and New York in summer share 08:00-09:00 in New York (20:00-21:00 in Shanghai)
    # and 19:00-21:00 in New York (07:00 is too early in Shanghai: from 08:00 there, 20:00 in New York).
    (["America/New_York", "Asia/Shanghai"], "2024-06-03T13:00:00+00:00", "2024-06-03T20:00:00-04:00"),
    (["America/New_York", "Asia/Shanghai"], "2024-06-04T01:00:00+00:00", "2024-06-04T08:00:00-04:00"),
])
def test_next_opening(zones: list[str], instant: str, expected: str) -> None:
    assert next_window_open(zones, at(instant)) == at(expected)


def test_zones_that_never_share_an_hour_have_no_opening() -> None:
    # Two 13-hour windows always overlap somewhere; three zones eight hours apart do not:
    # 08:00-21:00 is 08-21 UTC in London (winter), 00-13 UTC in Shanghai, 16-05 UTC in Los Angeles.
    zones = ["Europe/London", "Asia/Shanghai", "America/Los_Angeles"]
    assert next_window_open(zones, at("2024-12-03T12:00:00+00:00")) is None
    assert next_window_open(zones[:2], at("2024-12-03T14:00:00+00:00")) == at("2024-12-04T08:00:00+00:00")


def test_at_least_one_zone_is_needed() -> None:
    with pytest.raises(ValueError):
        next_window_open([], at("2024-06-03T12:00:00+00:00"))


instants = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31),
                        timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(zones=st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True), moment=instants)
def test_next_opening_is_open_and_nothing_earlier_is(zones: list[str], moment: dt.datetime) -> None:
    result = next_window_open(zones, moment)
    step = dt.timedelta(minutes=15)
    if result is None:
        # No shared lawful instant in the horizon, checked every quarter of an hour.
        probe = moment
        while probe < moment + dt.timedelta(days=8):
            assert not window_open(zones, probe)
            probe += step
        return
    assert result >= moment
    assert window_open(zones, result)
    if result != moment:
        assert not window_open(zones, moment)
        if result - MINUTE >= moment:
            assert not window_open(zones, result - MINUTE)
        probe = moment
        while probe < result:
            assert not window_open(zones, probe), probe
            probe += step
        # An opening is a whole local minute in every zone.
        assert all(result.astimezone(ZoneInfo(z)).second == 0 for z in zones)


@given(zone=st.sampled_from(ZONES), moment=instants)
def test_in_one_zone_the_window_opens_at_eight_local(zone: str, moment: dt.datetime) -> None:
    result = next_window_open([zone], moment)
    assert result is not None
    local = result.astimezone(ZoneInfo(zone))
    if result != moment:
        assert (local.hour, local.minute) == (8, 0)
        assert result - moment <= dt.timedelta(hours=24)
    else:
        assert 8 <= local.hour < 21


# --------------------------------------------------------------------------
# Zones


@pytest.mark.parametrize(("number", "zones", "region"), [
    ("+12125550100", ["America/New_York"], "US"),
    ("+14155550100", ["America/Los_Angeles"], "US"),
    ("+13125550100", ["America/Chicago"], "US"),
    ("+8613800138000", ["Asia/Shanghai"], "CN"),
    ("+886912345678", ["Asia/Taipei"], "TW"),
    ("+85291234567", ["Asia/Hong_Kong"], "HK"),
    ("+442071234567", ["Europe/London"], "GB"),
])
def test_phone_zones_and_region(number: str, zones: list[str], region: str) -> None:
    assert phone_zones(number) == zones
    assert phone_region(number) == region


def test_a_number_for_a_whole_country_rings_in_several_zones() -> None:
    zones = phone_zones("+18005550100")  # toll free: anywhere in the US
    assert len(zones) > 1 and {"America/New_York", "America/Los_Angeles"} <= set(zones)
    assert zones == sorted(zones)


@pytest.mark.parametrize("number", ["", "garbage", "+", "+999", "12125550100", "+1\x00"])
def test_unreadable_numbers_have_no_zone_or_region(number: str) -> None:
    assert phone_zones(number) == []
    assert phone_region(number) is None


def test_customer_zones() -> None:
    assert customer_zones("Asia/Taipei", ["+12125550100"], "US") == ["Asia/Taipei"]  # the zone on record wins
    assert customer_zones(None, ["+12125550100", "+14155550100"], None) == ["America/Los_Angeles", "America/New_York"]
    assert customer_zones(None, ["+12125550100"], "CN") == ["America/New_York", "Asia/Shanghai"]  # together
    assert customer_zones(None, [], "US") == sorted(COUNTRY_ZONES["US"])
    assert customer_zones(None, [], None) == ["UTC"]


def test_zone_names() -> None:
    assert valid_zone("America/New_York") and valid_zone("Etc/GMT+5") and valid_zone("UTC")
    for name in ("", "Mars/Olympus", "america/new_york", "America/New_York ", "America/New_York\x00", "../etc/passwd"):
        assert not valid_zone(name)
    assert all(valid_zone(z) for zones in COUNTRY_ZONES.values() for z in zones)
