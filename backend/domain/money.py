"""Money: integer minor units plus an ISO 4217 code. No floats, ever."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from 2 (the rest use 2).
_EXPONENTS = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}


def exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217)."""
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """``"1234.50", "USD"`` → ``123450``. Refuses more decimals than the currency has."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a decimal amount: {amount!r}")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} has {exponent(currency)} decimal places at most")
    return int(scaled)


def to_major(amount_minor: int, currency: str) -> Decimal:
    """``123450, "USD"`` → ``Decimal("1234.50")``."""
    exp = exponent(currency)
    return Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))
