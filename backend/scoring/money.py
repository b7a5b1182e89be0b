"""The scorecard's reasons in the account's own money (issue 17 item 3).

The scorecard was fitted on Taiwanese statements, so a bin of an amount feature
(average payment, new spending, the balance) has its edges in whole NT$: a reason
read straight from the file would tell an agent working a CN¥ or a US$ account
"paid NT$1,100–2,300 a month on average". The history an account is scored on is
in those same units, and so is its credit limit there (``history["limit"]``); the
account's own credit limit is in its own currency. The ratio of the two is how many
of the account's money one unit of its history is, so every edge is brought into the
account's currency and magnitude by it, whatever the currency (JPY, HKD…), with no
exchange rate to keep. Without a limit on either side the demo's fixed rates
(``HISTORY_RATES``) are used; with neither, the amount is left out of the reason.

Ratio features (share of the limit, share of the bill) say a ratio already and are
left as they are. A reason's amount parameters become ``currency`` (the account's),
``over_minor`` and ``max_minor`` (minor units), under the feature's prefix in a grid
(``paid_avg.currency``…); the English text is rewritten to match.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from backend.domain.history import HISTORY_RATES
from backend.domain.priority import Why
from backend_client.money import exponent

#: The amount features' words in the English text, per reason-code part (``{}``: the amount).
AMOUNT_WORDS: dict[str, str] = {
    "paid_avg": "paid {} a month on average",
    "new_spending_avg": "new spending {} a month",
    "balance_now": "balance {}",
    "new_spending_now": "new spending {} this month",
}
_NT = re.compile(r"NT\$[\d,]+(?:–[\d,]+)?")


def history_scale(history: dict, currency: str, limit_minor: int | None) -> Decimal | None:
    """How many major units of ``currency`` one unit of the history's money is; None if unknown."""
    source = str(history.get("currency", "TWD")).upper()
    if source == currency.upper():
        return Decimal(1)
    try:
        history_limit = Decimal(str(history["limit"]))
    except (KeyError, ArithmeticError, ValueError):
        history_limit = Decimal(0)
    if limit_minor and limit_minor > 0 and history_limit > 0:
        return Decimal(limit_minor).scaleb(-exponent(currency)) / history_limit
    rate_from, rate_to = HISTORY_RATES.get(source), HISTORY_RATES.get(currency.upper())
    if rate_from is None or rate_to is None:
        return None
    return rate_from / rate_to


def rounded_minor(units: float, scale: Decimal, currency: str) -> int:
    """``units`` of the history's money in minor units of ``currency``, to two significant
    figures (a bin edge is a rough line: ``NT$1,100`` on a CN¥ account is about ``¥280``)."""
    major = Decimal(str(units)) * scale
    if major <= 0:
        return 0
    digits = major.adjusted()  # the power of ten of the leading digit
    step = Decimal(1).scaleb(max(digits - 1, -exponent(currency)))
    nice = (major / step).to_integral_value(ROUND_HALF_UP) * step
    return int(nice.scaleb(exponent(currency)))


def money_text(minor: int, currency: str) -> str:
    """``CNY 280``, ``USD 0.28``, ``JPY 2,800``: the English text's amount (no cents when whole)."""
    e = exponent(currency)
    major = Decimal(minor).scaleb(-e)
    places = 0 if minor % (10 ** e) == 0 else e
    return f"{currency} {major:,.{places}f}"


#: An amount feature's words when its amount cannot be said in the account's money.
AMOUNT_UNSAID: dict[str, str] = {
    "paid_avg": "how much was paid a month on average",
    "new_spending_avg": "new spending a month",
    "balance_now": "the balance",
    "new_spending_now": "new spending this month",
}


def in_account_money(reason: Why, scale: Decimal | None, currency: str) -> Why:
    """``reason`` with its amounts (if any) in ``currency``; see the module."""
    features = reason.code.split("+")
    grid = len(features) > 1
    amounts = [f for f in features if f in AMOUNT_WORDS
               and (f"{f}.currency" if grid else "currency") in reason.params]
    if not amounts:
        return reason
    params = dict(reason.params)
    parts = reason.text.split(", ")  # a grid's text is its features' words, in the code's order
    if len(parts) != len(features):
        parts = []
    for feature in amounts:
        p = f"{feature}." if grid else ""
        over, top = params.pop(p + "over", None), params.pop(p + "max", None)
        del params[p + "currency"]
        if scale is None:
            words = AMOUNT_UNSAID[feature]
        else:
            params[p + "currency"] = currency
            low = rounded_minor(float(over), scale, currency) if over is not None else None
            high = rounded_minor(float(top), scale, currency) if top is not None else None
            if low is not None:
                params[p + "over_minor"] = low
            if high is not None:
                params[p + "max_minor"] = high
            if low is not None and high is not None:
                span = f"{money_text(low, currency)}–{money_text(high, currency)}"
            elif high is not None:
                span = f"up to {money_text(high, currency)}"
            elif low is not None:
                span = f"over {money_text(low, currency)}"
            else:
                span = "any amount"
            words = AMOUNT_WORDS[feature].format(span)
        if parts:
            parts[features.index(feature)] = words
    text = ", ".join(parts) if parts else _NT.sub("", reason.text)
    return Why(reason.code, text, params)


def reasons_in_account_money(reasons: list[Why], history: dict, currency: str | None,
                             limit_minor: int | None) -> list[Why]:
    """The scorecard's reasons of one account with their amounts in the account's money."""
    if not currency:
        return reasons
    scale = history_scale(history, currency, limit_minor)
    return [in_account_money(r, scale, currency) for r in reasons]
