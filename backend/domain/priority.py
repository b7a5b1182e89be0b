"""A simple, explainable worklist priority (issue 6 replaces it with a fitted scorecard).

Priority is a number, highest first. Contactable accounts always rank above
accounts that cannot be contacted now.
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypedDict


class WhyData(TypedDict):
    """A reason as stored on the account (``Account.reasons``) and sent (the wire's ``Why``)."""

    code: str
    text: str
    params: dict[str, str | int | float]


class Why(NamedTuple):
    """A reason: a code the desk translates, its parameters, and English text."""

    code: str
    text: str
    params: dict[str, str | int | float]

    def as_dict(self) -> WhyData:
        return {"code": self.code, "text": self.text, "params": dict(self.params)}


def why(code: str, text: str, **params: str | int | float) -> Why:
    return Why(code, text, params)


class Priority(NamedTuple):
    value: float
    reasons: list[Why]


CONTACTABLE_BONUS = 1000.0


def simple_priority(
    dpd: int,
    overdue_minor: int,
    currency_exponent: int,
    *,
    promise_due: bool = False,
    broken_promise: bool = False,
    callback_due: bool = False,
    paused: bool = False,
) -> Priority:
    """Priority from days past due, the overdue amount and actions due (0–~400)."""
    if paused:
        return Priority(0.0, [why("paused", "collection paused")])
    reasons: list[Why] = []
    score = 0.0
    # Days past due: the older, the more urgent, up to charge-off.
    score += max(0, min(dpd, 180)) * 1.0  # not yet due (negative) counts as current
    if dpd > 0:
        reasons.append(why("dpd", f"{dpd} days past due", days=dpd))
    # Overdue amount, on a log scale of major units (so size helps, but never dominates).
    major = max(overdue_minor, 0) / (10**currency_exponent)
    amount_points = 20.0 * math.log10(1.0 + major)
    score += amount_points
    if major >= 10_000:
        reasons.append(why("large_overdue", "large overdue amount"))
    if broken_promise:
        score += 80.0
        reasons.insert(0, why("broken_promise", "broken promise"))
    if callback_due:
        score += 120.0
        reasons.insert(0, why("callback_due", "call back due"))
    if promise_due:
        score += 60.0
        reasons.insert(0, why("promise_due", "promise due"))
    return Priority(round(score, 2), reasons)
