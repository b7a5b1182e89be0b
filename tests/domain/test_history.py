"""A payment counted in the statement history the score reads (backend/domain/history.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backend.domain.history import in_history_units, status_after, with_payment

H = {"currency": "TWD", "months": ["2005-09", "2005-08", "2005-07", "2005-06", "2005-05", "2005-04"],
     "limit": 50000, "status": [3, 2, 1, 0, 0, -1], "bill": [49000, 48000, 47000, 46000, 45000, 44000],
     "paid": [0, 0, 1000, 0, 2000, 2000]}


def test_units_at_the_fixed_rates() -> None:
    assert in_history_units(90000, "USD") == 28800  # 900.00 USD × 32
    assert in_history_units(12345, "CNY") == 494  # 123.45 × 4 = 493.8 → 494 (half up)
    assert in_history_units(150, "TWD") == 2  # 1.50 NT$ → 2
    assert in_history_units(100, "EUR") is None  # no rate: the history is left alone


def test_status_after_a_payment() -> None:
    assert status_after(dpd=0, balance_minor=0) == -1
    assert status_after(dpd=0, balance_minor=100) == 0
    assert status_after(dpd=1, balance_minor=100) == 1
    assert status_after(dpd=30, balance_minor=100) == 1
    assert status_after(dpd=31, balance_minor=100) == 2
    assert status_after(dpd=400, balance_minor=100) == 9


def test_a_payment_lands_in_the_newest_month_and_nothing_else_moves() -> None:
    new = with_payment(H, 90000, "USD", dpd_after=35, balance_after_minor=60000)
    assert new["paid"] == [28800, 0, 1000, 0, 2000, 2000]
    assert new["status"] == [2, 2, 1, 0, 0, -1]
    assert {k: new[k] for k in ("currency", "months", "limit", "bill")} == {k: H[k] for k in ("currency", "months", "limit", "bill")}
    assert H["paid"][0] == 0 and H["status"][0] == 3  # the input is not changed


def test_what_the_history_cannot_take_is_refused_not_guessed() -> None:
    assert with_payment(H, 100, "EUR", dpd_after=0, balance_after_minor=0) is None
    assert with_payment({"limit": 1}, 100, "USD", dpd_after=0, balance_after_minor=0) is None
    assert with_payment(H, 0, "USD", dpd_after=0, balance_after_minor=0) is None


@given(amounts=st.lists(st.integers(1, 10**9), min_size=1, max_size=8),
       currency=st.sampled_from(["USD", "CNY", "TWD"]), dpd=st.integers(0, 500), balance=st.integers(0, 10**9))
def test_payments_add_up_in_the_newest_month(amounts: list[int], currency: str, dpd: int, balance: int) -> None:
    history = H
    for amount in amounts:
        history = with_payment(history, amount, currency, dpd_after=dpd, balance_after_minor=balance)
    assert history["paid"][1:] == H["paid"][1:] and history["status"][1:] == H["status"][1:]
    assert history["paid"][0] == sum(in_history_units(a, currency) for a in amounts)
    assert history["status"][0] == status_after(dpd, balance) and -1 <= history["status"][0] <= 9
