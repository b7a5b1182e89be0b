"""The scorecard's features, computed from six months of one account's history.

Pure Python, no I/O. The same function feeds the offline fit
(``scripts/fit_scorecard.py``) and the live score, so the two never drift apart.

A history is the dict ``Account.history`` holds (see ``backend.seed``)::

    {"limit": 200000,                     # credit limit (X1)
     "status": [2, 2, 0, 0, 0, -1],       # repayment status, newest month first (X6..X11)
     "bill":   [3913, 3102, 689, 0, 0, 0],  # statement balances, newest first (X12..X17)
     "paid":   [0, 689, 0, 0, 0, 0]}      # amounts paid, newest first (X18..X23)

Status codes: -2 card not used, -1 paid in full, 0 revolving (minimum paid),
1..9 months of payment delay. ``paid[i]`` is paid in month *i* against the
statement of month *i + 1* (``bill[i + 1]``).

Only the credit limit and the repayment, balance and payment history are used:
never sex, education, marital status or age.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MONTHS = 6

#: The UCI columns a history is made of (``ID`` and ``Y`` aside).
LIMIT_COLUMN = "X1"
STATUS_COLUMNS = tuple(f"X{i}" for i in range(6, 12))
BILL_COLUMNS = tuple(f"X{i}" for i in range(12, 18))
PAID_COLUMNS = tuple(f"X{i}" for i in range(18, 24))
#: Columns that must never reach the score: sex, education, marital status, age.
PROTECTED_COLUMNS = ("X2", "X3", "X4", "X5")

#: A ratio whose denominator (a statement balance) is zero or negative.
NO_BILL = -1.0
#: Payment ratios are capped here (paying 5 times the bill says no more than paying it).
RATIO_CAP = 5.0


def _ratio(paid: float, bill: float) -> float:
    if bill <= 0:
        return NO_BILL
    r = paid / bill
    return RATIO_CAP if r > RATIO_CAP else r


def features_from_history(history: Mapping[str, Any]) -> dict[str, float]:
    """Every feature the scorecard may use, from one account's six-month history.

    Raises ``ValueError`` when the history is not six months of numbers.
    """
    try:
        limit = float(history["limit"])
        s = [int(v) for v in history["status"]]
        b = [float(v) for v in history["bill"]]
        p = [float(v) for v in history["paid"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"history needs limit, status, bill and paid: {exc}") from None
    if not (len(s) == len(b) == len(p) == MONTHS):
        raise ValueError(f"history needs {MONTHS} months of status, bill and paid, newest first")
    return _features(limit, s, b, p)


def _features(limit: float, s: Sequence[int], b: Sequence[float], p: Sequence[float]) -> dict[str, float]:
    # Unrolled by hand over the six months: rescoring a million accounts goes through here.
    s0, s1, s2, s3, s4, s5 = s
    b0, b1, b2, b3, b4, b5 = b
    p0, p1, p2, p3, p4, p5 = p
    lim = limit if limit > 0 else 1.0
    l0, l1, l2, l3, l4, l5 = s0 >= 1, s1 >= 1, s2 >= 1, s3 >= 1, s4 >= 1, s5 >= 1

    if l0:
        streak = 1 + (l1 and (1 + (l2 and (1 + (l3 and (1 + (l4 and (1 + l5))))))))
        since_late = 0
    else:
        streak = 0
        since_late = 1 if l1 else 2 if l2 else 3 if l3 else 4 if l4 else 5 if l5 else 6
    # months a bill was due and nothing was paid against it (paid[i] is against bill[i + 1])
    unpaid = ((p0 == 0 and b1 > 0) + (p1 == 0 and b2 > 0) + (p2 == 0 and b3 > 0)
              + (p3 == 0 and b4 > 0) + (p4 == 0 and b5 > 0))
    billed = ((b1 if b1 > 0 else 0.0) + (b2 if b2 > 0 else 0.0) + (b3 if b3 > 0 else 0.0)
              + (b4 if b4 > 0 else 0.0) + (b5 if b5 > 0 else 0.0))
    # new spending each month: this balance less last month's, plus what was paid
    spend = (b0 - b1 + p0) + (b1 - b2 + p1) + (b2 - b3 + p2) + (b3 - b4 + p3) + (b4 - b5 + p4)

    return {
        # repayment status
        "status_now": s0,
        "status_last_month": s1,
        "worst_status": max(s),
        "worst_status_3m": max(s0, s1, s2),
        "months_late": l0 + l1 + l2 + l3 + l4 + l5,
        "late_sum": (s0 if l0 else 0) + (s1 if l1 else 0) + (s2 if l2 else 0) + (s3 if l3 else 0)
        + (s4 if l4 else 0) + (s5 if l5 else 0),
        "months_paid_in_full": (s0 == -1) + (s1 == -1) + (s2 == -1) + (s3 == -1) + (s4 == -1) + (s5 == -1),
        "late_streak": int(streak),
        "months_since_late": since_late,
        # months later than last month (on time or better counts as 0 months late)
        "status_change": (s0 if l0 else 0) - (s1 if l1 else 0),
        # use of the limit
        "limit": limit,
        "bill_now": b0,
        "util_now": b0 / lim,
        "util_max": max(b) / lim,
        "util_avg": (b0 + b1 + b2 + b3 + b4 + b5) / MONTHS / lim,
        "util_trend_3m": (b0 - b2) / lim,
        "util_trend_6m": (b0 - b5) / lim,
        "spend_now": b0 - b1 + p0,
        "spend_avg": spend / (MONTHS - 1),
        # payments
        "paid_now": p0,
        "paid_1m_ago": p1,
        "paid_2m_ago": p2,
        "paid_3m_ago": p3,
        "paid_4m_ago": p4,
        "paid_5m_ago": p5,
        "paid_avg": (p0 + p1 + p2 + p3 + p4 + p5) / MONTHS,
        "paid_max": max(p),
        "pay_ratio_now": _ratio(p0, b1),
        "pay_ratio_1m_ago": _ratio(p1, b2),
        "pay_ratio_avg": _ratio(p0 + p1 + p2 + p3 + p4, billed),
        "months_unpaid": int(unpaid),
    }


def history_from_uci(row: Mapping[str, Any]) -> dict[str, Any]:
    """A history dict from the UCI columns X1, X6..X23 (values already numbers)."""
    return {
        "limit": row[LIMIT_COLUMN],
        "status": [row[c] for c in STATUS_COLUMNS],
        "bill": [row[c] for c in BILL_COLUMNS],
        "paid": [row[c] for c in PAID_COLUMNS],
    }
