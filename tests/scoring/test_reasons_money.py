"""A reason that quotes an amount quotes it in the account's own money (issue 17 item 3).

The scorecard's amount bins are in NT$ (it was fitted on Taiwanese statements): an
account in CN¥, US$, ¥ (JPY, no minor units) or HK$ must hear its own currency and
magnitude, brought over by the ratio of its credit limit to its history's."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest
from scoring_helpers import history

from backend.scoring.features import features_from_history
from backend.scoring.money import AMOUNT_WORDS, history_scale, in_account_money, reasons_in_account_money
from backend.scoring.scorecard import load_scorecard, score
from backend.services.ranking import risk_of
from backend_client.money import exponent

CURRENCIES = ("CNY", "TWD", "USD", "JPY", "HKD")
CODES = re.compile(r"\b(?:CNY|TWD|USD|JPY|HKD|EUR|GBP)\b|NT\$|US\$|HK\$|[¥$€£]")

#: An account's credit limit (minor units) against a history limit of NT$200,000: one NT$ is
#: 0.25 CN¥, 1 NT$, 1/32 US$, 4 ¥ and 0.25 HK$ of the account's money.
LIMITS = {"CNY": 5_000_000, "TWD": 20_000_000, "USD": 625_000, "JPY": 800_000, "HKD": 5_000_000}
SCALES = {"CNY": Decimal("0.25"), "TWD": Decimal(1), "USD": Decimal(1) / 32, "JPY": Decimal(4), "HKD": Decimal("0.25")}


def every_amount_bin() -> list:
    """Every bin of the scorecard that quotes an amount, as a reason."""
    from backend.domain.priority import Why

    out = []
    for spec in load_scorecard().data["features"]:
        for b in spec["bins"]:
            if any(k == "currency" or k.endswith(".currency") for k in b["params"]):
                out.append(Why(b["code"], b["text"], dict(b["params"])))
    return out


def test_the_scorecard_quotes_amounts_in_nt_dollars_which_is_why() -> None:
    bins = every_amount_bin()
    assert len(bins) > 30 and all("NT$" in w.text for w in bins)


@pytest.mark.parametrize("currency", CURRENCIES)
def test_every_amount_bin_speaks_the_accounts_currency_and_magnitude(currency: str) -> None:
    history = {"limit": 200000}
    scale = history_scale(history, currency, LIMITS[currency])
    assert scale == SCALES[currency]
    for why in every_amount_bin():
        moved = in_account_money(why, scale, currency)
        # no other currency than the account's, in the words or the parameters
        assert set(CODES.findall(moved.text)) == {currency}, moved.text
        assert {v for k, v in moved.params.items() if k.endswith("currency")} == {currency}
        assert not any(k.endswith((".over", ".max")) or k in ("over", "max") for k in moved.params
                       if any(k.startswith(f) or k in ("over", "max") for f in AMOUNT_WORDS)), moved.params
        # magnitude: each edge is the NT$ edge times the scale, to two significant figures
        for key, value in why.params.items():
            if key.endswith(("over", "max")) and key.split(".")[0] in (*AMOUNT_WORDS, "over", "max"):
                minor = moved.params[key + "_minor"]
                assert isinstance(minor, int)
                expected = Decimal(str(value)) * scale * 10 ** exponent(currency)
                assert abs(Decimal(minor) - expected) <= expected * Decimal("0.05") + 1, (key, value, minor)
        if currency == "JPY":
            assert not re.search(r"JPY [\d,]+\.\d", moved.text), moved.text  # yen have no minor units


def test_the_same_history_in_five_currencies() -> None:
    """The same statements on five accounts: each reason in its own money, never in another's."""
    h = {"currency": "TWD", "limit": 200000, "status": [3, 2, 2, 1, 0, 0],
         "bill": [190000, 185000, 180000, 170000, 160000, 150000], "paid": [0, 1000, 0, 3000, 5000, 5000]}
    seen = {}
    for currency in CURRENCIES:
        _p, reasons = risk_of(h, currency, LIMITS[currency])
        money = [r for r in reasons if "paid_avg" in r.code]
        assert money, reasons
        for r in reasons:
            assert set(CODES.findall(r.text)) <= {currency}, r.text
        seen[currency] = money[0]
    assert seen["CNY"].text.startswith("paid over CNY 580 a month")  # NT$2,300 / 4
    assert seen["CNY"].params["paid_avg.over_minor"] == 58_000
    assert seen["TWD"].params["paid_avg.over_minor"] == 230_000
    assert seen["USD"].params["paid_avg.over_minor"] == 7_200  # US$71.88 → US$72
    assert seen["JPY"].params["paid_avg.over_minor"] == 9_200  # whole yen
    assert seen["HKD"].params["paid_avg.over_minor"] == 58_000


def test_without_a_limit_the_demo_rates_and_then_no_amount() -> None:
    h = {"limit": 0}
    assert history_scale(h, "CNY", 0) == Decimal(1) / 4  # HISTORY_RATES: 4 NT$ per CN¥
    assert history_scale(h, "USD", None) == Decimal(1) / 32
    assert history_scale(h, "HKD", 0) is None  # no rate, no limit: the amount is left out


def test_an_amount_with_no_way_to_say_it_is_left_out() -> None:
    for why in every_amount_bin():
        moved = in_account_money(why, None, "HKD")
        assert not CODES.findall(moved.text), moved.text
        assert not any(k.endswith("currency") for k in moved.params)
        assert moved.text and "  " not in moved.text


def test_real_rows_in_every_currency(uci_rows) -> None:  # noqa: ANN001
    for row in random.Random(17).sample(uci_rows, 300):
        h = history(row)
        reasons = score(features_from_history(h)).reasons
        for currency in CURRENCIES:
            limit = int(Decimal(h["limit"]) * SCALES[currency] * 10 ** exponent(currency))
            for r in reasons_in_account_money(reasons, h, currency, limit):
                assert set(CODES.findall(r.text)) <= {currency}, (currency, r.text)


@pytest.mark.parametrize("currency", CURRENCIES)
def test_the_stored_reasons_of_an_account(make_account, session, currency: str) -> None:  # noqa: ANN001
    """Through the service: the priority's reasons kept on the account are in its money."""
    from backend.models import Account
    from backend.services.ranking import refresh_priority

    limit = Decimal(LIMITS[currency]).scaleb(-exponent(currency))
    account = make_account(currency=currency, credit_limit=str(limit), balance=str(limit / 2), overdue=str(limit / 20),
                           minimum_due=str(limit / 40), dpd=95)
    row = session.get(Account, account.id)
    row.history = {"currency": "TWD", "limit": 200000, "status": [3, 2, 2, 1, 0, 0],
                   "bill": [190000, 185000, 180000, 170000, 160000, 150000], "paid": [0, 1000, 0, 3000, 5000, 5000]}
    session.flush()
    refresh_priority(session, row, None)
    session.commit()
    paid = [r for r in row.reasons if r["code"].startswith("paid_avg")]
    assert paid and paid[0]["params"]["paid_avg.currency"] == currency, row.reasons
    for r in row.reasons:
        assert set(CODES.findall(r["text"])) <= {currency}, r["text"]
