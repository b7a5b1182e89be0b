"""Repayment plan arithmetic and authority limits: pure, integer minor units.

Every schedule sums exactly to its total; the last item absorbs rounding.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Literal

Kind = Literal["promise", "instalment", "minimum", "settlement"]
Frequency = Literal["monthly", "fortnightly"]
MAX_TERM_MONTHS = 60  # China 2011 Measures: personalised instalments up to five years


@dataclass(frozen=True)
class Item:
    due: dt.date
    amount_minor: int


@dataclass(frozen=True)
class Plan:
    kind: Kind
    total_minor: int
    """What the customer pays in all (fee and interest included)."""
    schedule: tuple[Item, ...]
    discount_minor: int = 0
    fee_minor: int = 0
    interest_minor: int = 0

    @property
    def first_due(self) -> dt.date:
        return self.schedule[0].due

    @property
    def last_due(self) -> dt.date:
        return self.schedule[-1].due

    def term_months(self) -> int:
        """Whole months from the first to the last payment, counting the first month."""
        a, b = self.first_due, self.last_due
        return (b.year - a.year) * 12 + (b.month - a.month) + 1


class PlanError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def add_months(day: dt.date, months: int, anchor_day: int | None = None) -> dt.date:
    """``day`` plus ``months``, keeping the anchor day of month where it exists (31 Jan → 28 Feb → 31 Mar)."""
    anchor = anchor_day or day.day
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(anchor, calendar.monthrange(year, month)[1]))


def due_dates(first: dt.date, count: int, frequency: Frequency) -> list[dt.date]:
    if frequency == "monthly":
        return [add_months(first, k, first.day) for k in range(count)]
    return [first + dt.timedelta(days=14 * k) for k in range(count)]


def split(total_minor: int, count: int) -> list[int]:
    """``count`` equal parts of ``total_minor``; the last absorbs the remainder."""
    if count < 1:
        raise PlanError("count", "must be at least 1")
    if total_minor < count:
        raise PlanError("count", "more payments than the amount can be shared into")
    base = total_minor // count
    return [base] * (count - 1) + [total_minor - base * (count - 1)]


def split_with_first(total_minor: int, count: int, min_first_minor: int = 0) -> list[int]:
    """Like ``split``, but the first part is at least ``min_first_minor`` (never more
    than the total); the others share the rest, the last absorbing the remainder."""
    parts = split(total_minor, count)
    if count == 1 or parts[0] >= min_first_minor or total_minor - min_first_minor < count - 1:
        # Equal shares already start high enough, or the total is too small to start
        # with the minimum and still leave something for every other payment.
        return parts
    return [min_first_minor, *split(total_minor - min_first_minor, count - 1)]


def promise(amount_minor: int, due: dt.date) -> Plan:
    if amount_minor <= 0:
        raise PlanError("amount", "must be more than zero")
    return Plan("promise", amount_minor, (Item(due, amount_minor),))


def minimum(minimum_due_minor: int, due: dt.date) -> Plan:
    if minimum_due_minor <= 0:
        raise PlanError("amount", "there is no minimum due on this account")
    return Plan("minimum", minimum_due_minor, (Item(due, minimum_due_minor),))


def instalment(
    principal_minor: int,
    count: int,
    first_due: dt.date,
    frequency: Frequency = "monthly",
    *,
    fee_minor: int = 0,
    annual_rate_bp: int = 0,
    min_first_minor: int = 0,
) -> Plan:
    """``count`` payments of ``principal`` plus a fixed fee and simple interest.

    Where an equal share would be less than ``min_first_minor`` (the policy's
    smallest first payment), the first payment is that much and the rest is
    shared equally by the others: a down payment, then instalments.

    Interest is simple, on the declining balance, at ``annual_rate_bp`` basis
    points a year, rounded half up to the minor unit once for the whole plan.
    """
    if principal_minor <= 0:
        raise PlanError("amount", "must be more than zero")
    if not 1 <= count <= 130:
        raise PlanError("count", "must be between 1 and 130 payments")
    if fee_minor < 0:
        raise PlanError("fee", "must not be negative")
    if annual_rate_bp < 0:
        raise PlanError("interest", "must not be negative")
    dates = due_dates(first_due, count, frequency)
    interest = 0
    if annual_rate_bp:
        periods_per_year = 12 if frequency == "monthly" else 26
        # Σ outstanding principal over the periods × rate / periods a year.
        parts = split(principal_minor, count)
        outstanding = principal_minor
        numerator = 0
        for part in parts:
            numerator += outstanding
            outstanding -= part
        num = numerator * annual_rate_bp
        den = 10_000 * periods_per_year
        interest = (2 * num + den) // (2 * den)
    total = principal_minor + fee_minor + interest
    items = tuple(Item(d, a) for d, a in zip(dates, split_with_first(total, count, min_first_minor), strict=True))
    return Plan("instalment", total, items, fee_minor=fee_minor, interest_minor=interest)


def settlement(
    balance_minor: int,
    due: dt.date,
    *,
    discount_minor: int | None = None,
    discount_bp: int | None = None,
    count: int = 1,
    frequency: Frequency = "monthly",
    min_first_minor: int = 0,
) -> Plan:
    """Settle the balance for less: a discount as an amount or in basis points (1 % = 100)."""
    if balance_minor <= 0:
        raise PlanError("amount", "there is no balance to settle")
    if (discount_minor is None) == (discount_bp is None):
        raise PlanError("discount", "give the discount as an amount or as a percentage, not both")
    if discount_bp is not None:
        if not 0 <= discount_bp < 10_000:
            raise PlanError("discount", "must be at least 0 % and less than 100 %")
        discount_minor = (balance_minor * discount_bp + 5_000) // 10_000
    assert discount_minor is not None
    if not 0 <= discount_minor < balance_minor:
        raise PlanError("discount", "must be at least zero and less than the balance")
    total = balance_minor - discount_minor
    dates = due_dates(due, count, frequency)
    items = tuple(Item(d, a) for d, a in zip(dates, split_with_first(total, count, min_first_minor), strict=True))
    return Plan("settlement", total, items, discount_minor=discount_minor)


# --------------------------------------------------------------------------
# Authority


@dataclass(frozen=True)
class Limits:
    max_discount_bp: int
    max_term_months: int
    max_first_payment_days: int


@dataclass(frozen=True)
class FirstPaymentRule:
    min_share_bp: int
    min_fixed_major: int

    def minimum_minor(self, balance_minor: int, exponent: int) -> int:
        share = (balance_minor * self.min_share_bp + 9_999) // 10_000  # rounded up
        fixed: int = self.min_fixed_major * 10**exponent
        return max(share, fixed)


@dataclass(frozen=True)
class Breach:
    limit: str
    """``discount``, ``term``, ``first_payment_date`` or ``first_payment_amount``."""
    allowed: str
    actual: str


def breaches(
    plan: Plan, limits: Limits, first_rule: FirstPaymentRule, *, balance_minor: int, exponent: int, today: dt.date
) -> list[Breach]:
    """Every limit of one role that ``plan`` goes beyond."""
    out: list[Breach] = []
    if plan.discount_minor:
        max_discount = balance_minor * limits.max_discount_bp // 10_000
        if plan.discount_minor > max_discount:
            out.append(Breach("discount", f"{limits.max_discount_bp / 100:g} %",
                              f"{plan.discount_minor * 100 / balance_minor:.2f} %"))
    if plan.term_months() > limits.max_term_months:
        out.append(Breach("term", f"{limits.max_term_months} months", f"{plan.term_months()} months"))
    if (plan.first_due - today).days > limits.max_first_payment_days:
        out.append(Breach("first_payment_date", f"within {limits.max_first_payment_days} days",
                          f"in {(plan.first_due - today).days} days"))
    smallest = min(first_rule.minimum_minor(balance_minor, exponent), plan.total_minor)
    if plan.schedule[0].amount_minor < smallest:
        out.append(Breach("first_payment_amount", f"at least {smallest}", f"{plan.schedule[0].amount_minor}"))
    return out


# --------------------------------------------------------------------------
# Payments and the sweep


@dataclass(frozen=True)
class Due:
    """One scheduled item as the sweep and the matching see it."""

    key: object
    due: dt.date
    amount_minor: int
    paid_minor: int = 0

    @property
    def owing(self) -> int:
        return max(self.amount_minor - self.paid_minor, 0)


def allocate(amount_minor: int, items: list[Due]) -> tuple[list[tuple[object, int]], int]:
    """Match a payment to due items, oldest first: ``(item key, amount)`` pairs and
    what is left over (an overpayment, or no item due)."""
    if amount_minor < 0:
        raise PlanError("amount", "must not be negative")
    left = amount_minor
    taken: list[tuple[object, int]] = []
    for item in sorted(items, key=lambda i: (i.due, str(i.key))):
        if left == 0:
            break
        part = min(item.owing, left)
        if part:
            taken.append((item.key, part))
            left -= part
    return taken, left


def item_state(item: Due, as_of: dt.date, grace_days: int) -> str:
    """``kept`` when paid in full, ``broken`` when still owing after its date plus
    the grace days, else ``due``."""
    if item.owing == 0:
        return "kept"
    if as_of > item.due + dt.timedelta(days=grace_days):
        return "broken"
    return "due"


def plan_state(item_states: list[str]) -> str:
    """A plan is broken as soon as one item is, kept when every item is."""
    if "broken" in item_states:
        return "broken"
    if item_states and all(s == "kept" for s in item_states):
        return "kept"
    return "active"
