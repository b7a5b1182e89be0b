"""An account's statement history (what the score reads) kept current as money comes in.

Pure functions, no I/O. ``Account.history`` is six months of the bank's statement
record, newest first, in the units the scorecard was fitted on (whole NT$, see
``backend.seed`` and ``backend.scoring.features``)::

    {"currency": "TWD", "months": [...], "limit": 200000,
     "status": [2, 2, 0, 0, 0, -1], "bill": [...], "paid": [...]}

A payment belongs to the newest month: it adds to ``paid[0]``, and the newest
month's repayment status becomes what the account is after it (paid in full, paying,
or so many months late). The months themselves roll with the bank's statement
cycle, which is not ours to invent: a payment never adds a month.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from backend_client.money import exponent

#: Whole units of the history's currency (NT$) per major unit of an account's
#: currency: the fixed rates the demo portfolio was converted at.
HISTORY_RATES: dict[str, Decimal] = {"TWD": Decimal(1), "USD": Decimal(32), "CNY": Decimal(4)}

#: Repayment status codes (UCI): -1 paid in full, 0 paying (revolving), 1..9 months late.
PAID_IN_FULL, PAYING, MAX_MONTHS_LATE = -1, 0, 9


def in_history_units(amount_minor: int, currency: str, history_currency: str = "TWD") -> int | None:
    """``amount_minor`` of ``currency`` in whole units of the history's currency, rounded
    half up; None where no rate is known (the history is then left as it is)."""
    rate_from, rate_to = HISTORY_RATES.get(currency.upper()), HISTORY_RATES.get(history_currency.upper())
    if rate_from is None or rate_to is None:
        return None
    major = Decimal(amount_minor).scaleb(-exponent(currency))
    return int((major * rate_from / rate_to).to_integral_value(ROUND_HALF_UP))


def status_after(dpd: int, balance_minor: int) -> int:
    """The newest month's repayment status for an account now ``dpd`` days past due
    with ``balance_minor`` left."""
    if balance_minor <= 0:
        return PAID_IN_FULL
    if dpd <= 0:
        return PAYING
    return min(-(-dpd // 30), MAX_MONTHS_LATE)


def with_payment(history: Mapping[str, Any], amount_minor: int, currency: str, *, dpd_after: int,
                 balance_after_minor: int) -> dict[str, Any] | None:
    """A new history with a payment of ``amount_minor`` (in ``currency``) counted in the
    newest month and the newest status set from the account after it. None when the
    history cannot take it (no rate for the currency, or not a six-month history)."""
    try:
        paid, status = list(history["paid"]), list(history["status"])
    except (KeyError, TypeError):
        return None
    if not paid or len(paid) != len(status) or amount_minor <= 0:
        return None
    units = in_history_units(amount_minor, currency, str(history.get("currency", "TWD")))
    if units is None:
        return None
    paid[0] = int(paid[0]) + units
    status[0] = status_after(dpd_after, balance_after_minor)
    return {**history, "paid": paid, "status": status}
