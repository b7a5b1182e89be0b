"""What ``Money.amount_minor`` means: the ISO 4217 minor-unit exponent of each
currency, shared by everyone who reads or writes money on the wire.

Pure and dependency-free, so the desk can use it without importing the backend.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from 2 (every other currency uses 2).
# The backend's table (backend/domain/money.py) holds the same figures.
EXPONENTS: dict[str, int] = {
    "BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3,
    "LYD": 3, "OMR": 3, "PYG": 0, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}


def exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217)."""
    return EXPONENTS.get(currency.upper(), 2)


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
