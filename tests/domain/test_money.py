"""Money: integer minor units and ISO 4217 exponents; never a float, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_client.money import exponent, to_major, to_minor

CURRENCIES = ["USD", "EUR", "CNY", "TWD", "HKD", "JPY", "KRW", "CLP", "BHD", "KWD", "TND", "OMR"]


@pytest.mark.parametrize(("currency", "expected"), [
    ("USD", 2), ("EUR", 2), ("CNY", 2), ("JPY", 0), ("KRW", 0), ("VND", 0), ("BHD", 3), ("KWD", 3), ("TND", 3),
    ("jpy", 0), ("XYZ", 2),
])
def test_exponents(currency: str, expected: int) -> None:
    assert exponent(currency) == expected


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("1234.50", "USD", 123450), ("1234.5", "USD", 123450), ("0.01", "USD", 1), ("-5.00", "USD", -500),
    ("+3", "USD", 300), (" 12.50 ", "USD", 1250), ("0", "USD", 0), ("1.230", "USD", 123), ("0.000", "USD", 0),
    ("100", "JPY", 100), ("100.0", "JPY", 100), ("1.234", "BHD", 1234), ("1.2", "BHD", 1200), ("7", "KWD", 7000),
    ("999999999999999.99", "USD", 99999999999999999), (Decimal("1E+2"), "USD", 10000), (Decimal("-1.5"), "EUR", -150),
    (7, "USD", 700),
])
def test_to_minor(amount: object, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor  # type: ignore[arg-type]


@pytest.mark.parametrize(("amount", "currency"), [
    ("12.345", "USD"), ("100.5", "JPY"), ("1.2345", "BHD"), ("0.001", "EUR"),
    ("1.000000000000000000000000000001", "USD"),  # past the default 28-digit precision: never rounded away
])
def test_to_minor_refuses_extra_decimals(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match="decimal places"):
        to_minor(amount, currency)


@pytest.mark.parametrize("amount", [
    "", "abc", "1,000.00", "1_000", "1e3", "1E+5", "1e999999", "NaN", "Infinity", "-inf", "12.", ".5", "--1", "0x10",
    "١٢٣", "1 000", Decimal("NaN"), Decimal("Infinity"),
    # Control characters are refused, not trimmed (issue 15): str.strip would take these away.
    "12.50\t", "\n12.50", "12.50\x85", "\x1f12.50", "12.50\x00",
])
def test_to_minor_refuses_what_is_not_a_plain_amount(amount: object) -> None:
    with pytest.raises(ValueError):
        to_minor(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["1" + "0" * 15, "9" * 40, "-" + "9" * 20, Decimal("1E+30")])
def test_to_minor_refuses_absurd_amounts(amount: object) -> None:
    with pytest.raises(ValueError, match="too large"):
        to_minor(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(("minor", "currency", "major"), [
    (123450, "USD", "1234.50"), (1, "USD", "0.01"), (-500, "USD", "-5.00"), (0, "USD", "0.00"),
    (123, "JPY", "123"), (1234, "BHD", "1.234"), (5, "KWD", "0.005"),
])
def test_to_major(minor: int, currency: str, major: str) -> None:
    assert to_major(minor, currency) == Decimal(major)
    assert str(to_major(minor, currency)) == major


@given(minor=st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1), currency=st.sampled_from(CURRENCIES))
def test_minor_to_major_and_back_is_exact(minor: int, currency: str) -> None:
    assert to_minor(to_major(minor, currency), currency) == minor
    assert to_minor(str(to_major(minor, currency)), currency) == minor


@given(units=st.integers(min_value=-(10**14), max_value=10**14), currency=st.sampled_from(CURRENCIES),
       fraction=st.integers(min_value=0, max_value=999))
def test_major_to_minor_and_back_is_exact(units: int, currency: str, fraction: int) -> None:
    exp = exponent(currency)
    text = f"{units}" + (f".{fraction % 10**exp:0{exp}d}" if exp else "")
    assert to_major(to_minor(text, currency), currency) == Decimal(text)


@given(minor=st.integers(min_value=0, max_value=10**15 - 1), currency=st.sampled_from(CURRENCIES))
def test_one_more_decimal_than_the_currency_has_is_refused(minor: int, currency: str) -> None:
    text = f"{to_major(minor, currency)}{'.' if exponent(currency) == 0 else ''}1"
    with pytest.raises(ValueError):
        to_minor(text, currency)


def test_exponents_are_iso_4217_minor_units_not_the_digits_cldr_shows() -> None:
    """One table for desk and backend: ISO 4217's exponents. babel's (CLDR's) currency digits
    are how many decimals to show, and differ where ISO's minor units do not (a HUF amount
    in minor units read with CLDR's 0 digits would be a hundred times too large)."""
    from babel.numbers import get_currency_precision

    iso = {"USD": 2, "CNY": 2, "TWD": 2, "JPY": 0, "KRW": 0, "BIF": 0, "XPF": 0, "VUV": 0, "KWD": 3,
           "IQD": 3, "CLF": 4, "HUF": 2, "IDR": 2, "COP": 2}
    assert {code: exponent(code) for code in iso} == iso
    assert {code for code in ("HUF", "IDR", "COP", "IQD") if get_currency_precision(code) != exponent(code)} == {
        "HUF", "IDR", "COP", "IQD"}
    assert to_major(123456, "HUF") == Decimal("1234.56") and to_minor("1234.56", "HUF") == 123456
