"""Money: integer minor units plus an ISO 4217 code. No floats, ever."""

from __future__ import annotations

import re
from decimal import Decimal

# ISO 4217 minor-unit exponents that differ from 2 (the rest use 2).
_EXPONENTS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}


def exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217)."""
    return _EXPONENTS.get(currency.upper(), 2)


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
    return -number if sign else number


def to_major(amount_minor: int, currency: str) -> Decimal:
    """``123450, "USD"`` → ``Decimal("1234.50")``."""
    exp = exponent(currency)
    return Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))
