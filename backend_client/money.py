"""Money, for the desk and the backend alike: integer minor units plus an ISO 4217
code, never a float. What ``Money.amount_minor`` means (each currency's minor-unit
exponent), and exact conversions between minor units and decimal amounts.

Pure and dependency-free, so the desk can use it without importing the backend.
The exponents are ISO 4217's own, not babel's: CLDR's currency "digits" are how
many decimals to *show* (0 for HUF, IDR, COP and IQD, whose ISO minor units are 2,
2, 2 and 3), so an amount in minor units read with them would be off by 100 or 1,000.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from 2 (every other currency uses 2), as the
# standard's list one (current funds) gives them.
EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}


def exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217)."""
    return EXPONENTS.get(currency.upper(), 2)


_PLAIN = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_MAJOR_DIGITS = 15
"""No amount reaches 10**15 major units; beyond that the input is a mistake."""


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """``"1234.50", "USD"`` → ``123450``. Exact: refuses more decimals than the
    currency has, exponents, separators and amounts of 10**15 major units or more,
    with ``ValueError``. Spaces around a text amount are trimmed (``" 12.50 "``), as
    the wire's ``DecimalStr`` and the import files do; a control character anywhere
    (a tab, U+0085, which ``str.strip`` would take away unseen) is refused."""
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, int) and not isinstance(amount, bool):
        value = Decimal(amount)
    else:
        text = str(amount)
        if _CONTROL.search(text):
            raise ValueError(f"not a decimal amount: {amount!r}")
        text = text.strip()
        if not _PLAIN.match(text):
            raise ValueError(f"not a decimal amount: {amount!r}")
        value = Decimal(text)  # exact: constructing a Decimal never rounds
    if not value.is_finite():
        raise ValueError(f"not a decimal amount: {amount!r}")
    if value and value.adjusted() >= MAX_MAJOR_DIGITS:
        raise ValueError("amount too large")
    exp = exponent(currency)
    sign, digits, power = value.as_tuple()
    assert isinstance(power, int)
    # value = ±digits × 10**power; in minor units the power is power + exp.
    shift = power + exp
    number = int("".join(map(str, digits)) or "0")
    if shift < 0:
        number, rest = divmod(number, 10**-shift)
        if rest:
            raise ValueError(f"{currency} has {exp} decimal places at most")
    else:
        number *= 10**shift
    result: int = -number if sign else number
    return result


def to_major(amount_minor: int, currency: str) -> Decimal:
    """``123450, "USD"`` → ``Decimal("1234.50")``: exact, never a float."""
    exp = exponent(currency)
    return Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def major_string(amount: Decimal | str, currency: str) -> str:
    """A decimal amount in major units as the wire's string (``"150.00"``).

    Raises ``ValueError`` for anything that is not a finite amount with at most
    the currency's decimal places.
    """
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a decimal amount: {amount!r}")
    exp = exponent(currency)
    quantum = Decimal(1).scaleb(-exp)
    try:
        exact = value.quantize(quantum)
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if exact != value:
        raise ValueError(f"{currency} has {exp} decimal places at most")
    return str(exact)
