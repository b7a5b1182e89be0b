"""The zones a state, province or territory spans, and the city names shown for zones."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.regions import REGION_ZONES, region_zones, zone_label

SPLIT_STATES = {
    "TX": {"America/Chicago", "America/Denver"},
    "FL": {"America/New_York", "America/Chicago"},
    "IN": {"America/Indiana/Indianapolis", "America/Chicago"},
    "KY": {"America/Kentucky/Louisville", "America/Chicago"},
    "TN": {"America/New_York", "America/Chicago"},
    "MI": {"America/Detroit", "America/Menominee"},
    "ND": {"America/Chicago", "America/Denver"},
    "SD": {"America/Chicago", "America/Denver"},
    "NE": {"America/Chicago", "America/Denver"},
    "KS": {"America/Chicago", "America/Denver"},
    "ID": {"America/Boise", "America/Los_Angeles"},
    "OR": {"America/Los_Angeles", "America/Boise"},
    "NV": {"America/Los_Angeles", "America/Denver"},
    "AZ": {"America/Phoenix", "America/Denver"},
    "AK": {"America/Anchorage", "America/Juneau", "America/Sitka", "America/Nome", "America/Yakutat",
           "America/Metlakatla", "America/Adak"},
}

US_REGIONS = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
    "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "DC", "PR", "GU", "VI", "AS", "MP",
}
CA_REGIONS = {"ON", "QC", "BC", "AB", "SK", "MB", "NS", "NB", "NL", "PE", "YT", "NT", "NU"}
AU_REGIONS = {"NSW", "VIC", "QLD", "SA", "WA", "TAS", "ACT", "NT"}

ALL_ZONES = sorted({zone for regions in REGION_ZONES.values() for zones in regions.values() for zone in zones})


@pytest.mark.parametrize("state", sorted(SPLIT_STATES))
def test_a_split_state_gives_each_of_its_zones(state: str) -> None:
    assert set(region_zones("US", state)) == SPLIT_STATES[state]


@pytest.mark.parametrize(
    ("country", "region", "zone"),
    [
        ("US", "NY", "America/New_York"), ("US", "CA", "America/Los_Angeles"), ("US", "MA", "America/New_York"),
        ("US", "HI", "Pacific/Honolulu"), ("US", "IL", "America/Chicago"), ("US", "CO", "America/Denver"),
        ("US", "PR", "America/Puerto_Rico"), ("CA", "AB", "America/Edmonton"), ("AU", "VIC", "Australia/Melbourne"),
        ("MX", "CMX", "America/Mexico_City"),
    ],
)
def test_a_single_zone_region_gives_exactly_that_zone(country: str, region: str, zone: str) -> None:
    assert region_zones(country, region) == (zone,)


def test_other_countries_split_regions() -> None:
    assert set(region_zones("CA", "ON")) == {"America/Toronto", "America/Winnipeg", "America/Atikokan"}
    assert set(region_zones("CA", "BC")) >= {"America/Vancouver", "America/Edmonton"}
    assert set(region_zones("AU", "NSW")) == {"Australia/Sydney", "Australia/Broken_Hill", "Australia/Lord_Howe"}
    assert set(region_zones("MX", "CHH")) >= {"America/Chihuahua", "America/Ciudad_Juarez"}


def test_the_table_covers_every_state_province_and_territory() -> None:
    assert set(REGION_ZONES["US"]) == US_REGIONS
    assert set(REGION_ZONES["CA"]) == CA_REGIONS
    assert set(REGION_ZONES["AU"]) == AU_REGIONS
    assert len(REGION_ZONES["MX"]) == 32


def test_no_region_lists_a_zone_twice_or_none() -> None:
    for regions in REGION_ZONES.values():
        for zones in regions.values():
            assert zones and len(set(zones)) == len(zones)


def test_every_zone_in_the_table_is_available() -> None:
    assert set(ALL_ZONES) <= available_timezones()


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("ZZ", "NY"), ("US", "ZZ"), ("US", "ON"), ("CA", "NY"), ("GB", "ENG"), ("US", ""), ("", "NY"),
        (None, "NY"), ("US", None), (None, None), ("US", "CA-ON"), ("US", "US-"), ("US", "-NY"),
    ],
)
def test_an_unknown_country_or_region_gives_nothing(country: str | None, region: str | None) -> None:
    assert region_zones(country, region) == ()


@pytest.mark.parametrize("spelling", ["TX", "tx", "US-TX", "us-tx", " TX ", "US - TX", "u s-t x", "\tTx\n"])
def test_region_spellings_are_normalised(spelling: str) -> None:
    assert region_zones("US", spelling) == REGION_ZONES["US"]["TX"]
    assert region_zones(" us ", spelling) == REGION_ZONES["US"]["TX"]


@given(
    st.sampled_from([(country, region) for country, regions in REGION_ZONES.items() for region in regions]),
    st.booleans(),
    st.lists(st.sampled_from([str.upper, str.lower, str.title]), min_size=2, max_size=2),
    st.text(alphabet=" \t", max_size=2),
)
def test_any_spelling_of_a_known_region_gives_its_zones(
    key: tuple[str, str], prefixed: bool, cases: list[Callable[[str], str]], pad: str
) -> None:
    country, region = key
    spelling = f"{country}-{region}" if prefixed else region
    assert region_zones(cases[0](country), pad + cases[1](spelling) + pad) == REGION_ZONES[country][region]


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("America/New_York", "New York"), ("America/Los_Angeles", "Los Angeles"),
        ("America/Indiana/Indianapolis", "Indianapolis"), ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("Asia/Shanghai", "Shanghai"), ("Pacific/Honolulu", "Honolulu"), ("UTC", "UTC"), ("Etc/UTC", "UTC"),
        ("America/Port-au-Prince", "Port-au-Prince"), ("America/St_Johns", "St. John's"),
        ("America/Kentucky/Louisville", "Louisville"),
    ],
)
def test_zone_label(zone: str, label: str) -> None:
    assert zone_label(zone) == label


@given(st.sampled_from(sorted(available_timezones())))
def test_every_label_is_plain_words(zone: str) -> None:
    label = zone_label(zone)
    assert label and "/" not in label and "_" not in label
