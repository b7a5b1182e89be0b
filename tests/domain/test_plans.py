"""Plan arithmetic: every schedule sums exactly to its total (hypothesis), and worked cases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from backend.domain import plans as P

DAYS = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31))
AMOUNTS = st.integers(min_value=1, max_value=10**12)


@given(total=AMOUNTS, count=st.integers(1, 130), first=DAYS, freq=st.sampled_from(["monthly", "fortnightly"]),
       fee=st.integers(0, 10**6), rate=st.integers(0, 3600))
@example(total=1, count=2, first=dt.date(2024, 1, 1), freq="monthly", fee=0, rate=0)
@example(total=1, count=2, first=dt.date(2024, 1, 1), freq="monthly", fee=5, rate=0)
@example(total=1, count=2, first=dt.date(2024, 1, 1), freq="monthly", fee=5, rate=100)
def test_instalments_sum_to_the_total(total: int, count: int, first: dt.date, freq: str, fee: int, rate: int) -> None:
    try:
        plan = P.instalment(total, count, first, freq, fee_minor=fee, annual_rate_bp=rate)  # type: ignore[arg-type]
    except P.PlanError as exc:
        # Fewer minor units than payments: no plan without a zero payment.
        assert exc.field == "count" and total < count
        return
    assert sum(i.amount_minor for i in plan.schedule) == plan.total_minor == total + fee + plan.interest_minor
    assert len(plan.schedule) == count
    assert all(a.due < b.due for a, b in zip(plan.schedule, plan.schedule[1:], strict=False))
    # Equal payments, the last absorbing the rounding.
    amounts = [i.amount_minor for i in plan.schedule]
    assert len(set(amounts[:-1])) <= 1
    assert 0 <= amounts[-1] - amounts[0] < count


@given(balance=AMOUNTS, bp=st.integers(0, 9_999), due=DAYS, count=st.integers(1, 24))
def test_settlements_sum_to_balance_less_discount(balance: int, bp: int, due: dt.date, count: int) -> None:
    try:
        plan = P.settlement(balance, due, discount_bp=bp, count=count)
    except P.PlanError as exc:
        discount = (balance * bp + 5_000) // 10_000
        # Refused only for a discount of the whole balance, or more payments than minor units.
        assert discount >= balance or (exc.field == "count" and balance - discount < count)
        return
    assert plan.total_minor + plan.discount_minor == balance
    assert sum(i.amount_minor for i in plan.schedule) == plan.total_minor


def test_month_ends_are_kept() -> None:
    assert P.due_dates(dt.date(2026, 1, 31), 4, "monthly") == [
        dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]
    assert P.due_dates(dt.date(2026, 12, 15), 2, "fortnightly") == [dt.date(2026, 12, 15), dt.date(2026, 12, 29)]


def test_worked_instalment_with_interest() -> None:
    # 1,200.00 over 12 months at 12 % a year, simple on the declining balance:
    # Σ outstanding = 1200+1100+…+100 = 7800.00 → 7800.00 × 1 % = 78.00.
    plan = P.instalment(120_000, 12, dt.date(2026, 12, 1), "monthly", annual_rate_bp=1200)
    assert plan.interest_minor == 7_800
    assert plan.total_minor == 127_800
    assert [i.amount_minor for i in plan.schedule] == [10_650] * 12


def test_worked_settlement() -> None:
    plan = P.settlement(100_001, dt.date(2026, 12, 1), discount_bp=2_500)
    assert plan.discount_minor == 25_000
    assert plan.total_minor == 75_001


@pytest.mark.parametrize(("call", "field"), [
    (lambda: P.promise(0, dt.date(2026, 12, 1)), "amount"),
    (lambda: P.instalment(1000, 0, dt.date(2026, 12, 1)), "count"),
    (lambda: P.settlement(1000, dt.date(2026, 12, 1), discount_bp=10_000), "discount"),
    (lambda: P.settlement(1000, dt.date(2026, 12, 1), discount_minor=10, discount_bp=10), "discount"),
    (lambda: P.minimum(0, dt.date(2026, 12, 1)), "amount"),
])
def test_bad_plans_name_the_field(call, field: str) -> None:  # noqa: ANN001
    with pytest.raises(P.PlanError) as info:
        call()
    assert info.value.field == field


AGENT = P.Limits(max_discount_bp=1_000, max_term_months=24, max_first_payment_days=14)
SUPERVISOR = P.Limits(max_discount_bp=3_000, max_term_months=60, max_first_payment_days=30)
FIRST = P.FirstPaymentRule(min_share_bp=500, min_fixed_major=100)


def test_authority_breaches_are_named() -> None:
    today = dt.date(2026, 11, 28)
    plan = P.settlement(1_000_000, today + dt.timedelta(days=20), discount_bp=2_000)
    agent = P.breaches(plan, AGENT, FIRST, balance_minor=1_000_000, exponent=2, today=today)
    assert [b.limit for b in agent] == ["discount", "first_payment_date"]
    assert P.breaches(plan, SUPERVISOR, FIRST, balance_minor=1_000_000, exponent=2, today=today) == []
    small = P.instalment(1_000_000, 36, today + dt.timedelta(days=3))
    assert [b.limit for b in P.breaches(small, AGENT, FIRST, balance_minor=1_000_000, exponent=2, today=today)] == [
        "term", "first_payment_amount"]


def test_smallest_first_payment_is_the_larger_of_share_and_fixed() -> None:
    assert FIRST.minimum_minor(1_000_000, 2) == 50_000  # 5 % of 10,000.00
    assert FIRST.minimum_minor(100_000, 2) == 10_000  # 100.00 beats 5 % of 1,000.00
    assert FIRST.minimum_minor(100_000, 0) == 5_000  # a zero-decimal currency


# -- payments matched to items, and the sweep -------------------------------------

ITEMS = st.lists(st.tuples(DAYS, st.integers(1, 10**7), st.integers(0, 10**7)), min_size=0, max_size=24)


@given(items=ITEMS, amount=st.integers(0, 10**9))
def test_a_payment_is_matched_oldest_first_and_never_over_an_item(items, amount) -> None:  # noqa: ANN001
    dues = [P.Due(i, due, owed, min(paid, owed)) for i, (due, owed, paid) in enumerate(items)]
    taken, left = P.allocate(amount, dues)
    by_key = {d.key: d for d in dues}
    assert sum(part for _, part in taken) + left == amount and left >= 0
    assert all(0 < part <= by_key[key].owing for key, part in taken)
    # Oldest first: an item is only taken from once every older owing item is paid in full.
    paid = dict(taken)
    order = sorted(dues, key=lambda d: (d.due, str(d.key)))
    partial_seen = False
    for d in order:
        if d.owing == 0:
            continue
        got = paid.get(d.key, 0)
        if partial_seen:
            assert got == 0
        if got < d.owing:
            partial_seen = True
    if left:
        assert all(paid.get(d.key, 0) == d.owing for d in dues)


@pytest.mark.parametrize(("paid", "as_of_days", "state"), [
    (100, 0, "kept"), (100, 30, "kept"),
    (99, 0, "due"), (99, 3, "due"),     # the last grace day
    (99, 4, "broken"), (0, 4, "broken"),
])
def test_an_item_is_broken_only_after_the_grace_days(paid: int, as_of_days: int, state: str) -> None:
    due = dt.date(2026, 3, 10)
    item = P.Due("x", due, 100, paid)
    assert P.item_state(item, due + dt.timedelta(days=as_of_days), grace_days=3) == state


def test_a_plan_is_broken_by_one_item_and_kept_by_all() -> None:
    assert P.plan_state(["kept", "broken", "due"]) == "broken"
    assert P.plan_state(["kept", "kept"]) == "kept"
    assert P.plan_state(["kept", "due"]) == "active"


@given(total=AMOUNTS, count=st.integers(1, 130), first=st.integers(0, 10**13))
def test_a_down_payment_then_equal_instalments_still_sum_to_the_total(total: int, count: int, first: int) -> None:
    if total < count:
        with pytest.raises(P.PlanError):
            P.split_with_first(total, count, first)
        return
    parts = P.split_with_first(total, count, first)
    assert len(parts) == count and sum(parts) == total and all(p > 0 for p in parts)
    assert parts[0] >= min(first, total) or parts == P.split(total, count)


def test_a_long_plan_starts_with_the_smallest_first_payment() -> None:
    plan = P.instalment(1_000_000, 24, dt.date(2026, 4, 1), min_first_minor=50_000)
    amounts = [i.amount_minor for i in plan.schedule]
    assert amounts[0] == 50_000 and len(set(amounts[1:-1])) == 1 and sum(amounts) == 1_000_000
