"""Proportions and the difference of two (issue 20, item 5): pure, no I/O.

Rates are kept as exact counts (``count`` of ``of``) and shown in whole basis points
(1 bp = 0.01 %), worked out with integers. The confidence interval for a difference of
two independent proportions is Newcombe's hybrid score interval (R. G. Newcombe,
"Interval estimation for the difference between independent proportions: comparison
of eleven methods", *Statistics in Medicine* 17 (1998) 873-890, method 10): each
proportion's Wilson score interval (method 3 of the companion paper, without
continuity correction), combined as

    L = d - sqrt((p1 - l1)² + (u2 - p2)²)
    U = d + sqrt((u1 - p1)² + (p2 - l2)²)

for ``d = p1 - p2``. Unlike the Wald interval it stays inside [-1, 1], never collapses
to a point at 0 % or 100 %, and keeps close to its nominal coverage at small counts.
The square roots make the limits floats: they are statistics, not money.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval (Φ⁻¹(0.975))."""

BP = 10_000
"""Basis points in one."""


def rate_bp(count: int, of: int) -> int | None:
    """``count / of`` in whole basis points, halves rounded up; None when ``of`` is 0."""
    _check(count, of)
    if of == 0:
        return None
    return (2 * BP * count + of) // (2 * of)


def difference_bp(a: int, m: int, b: int, n: int) -> int | None:
    """``a/m - b/n`` in whole basis points (exact, then rounded half away from zero)."""
    _check(a, m)
    _check(b, n)
    if m == 0 or n == 0:
        return None
    d = (Fraction(a, m) - Fraction(b, n)) * BP
    sign = -1 if d < 0 else 1
    return sign * math.floor(abs(d) + Fraction(1, 2))


def _check(count: int, of: int) -> None:
    if of < 0 or count < 0 or count > of:
        raise ValueError(f"not a proportion: {count} of {of}")


def wilson(count: int, of: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``count / of`` (no continuity correction).
    ``of`` must be at least 1."""
    _check(count, of)
    if of == 0:
        raise ValueError("no trials: a proportion of nothing has no interval")
    p = count / of
    z2 = z * z
    centre = 2 * of * p + z2
    spread = z * math.sqrt(z2 + 4 * of * p * (1 - p))
    scale = 2 * (of + z2)
    low = 0.0 if count == 0 else (centre - spread) / scale
    high = 1.0 if count == of else (centre + spread) / scale
    return max(0.0, min(low, p)), min(1.0, max(high, p))


@dataclass(frozen=True)
class Difference:
    """``p1 - p2`` with its confidence interval ``low`` ≤ ``estimate`` ≤ ``high``."""

    estimate: float
    low: float
    high: float


def newcombe(a: int, m: int, b: int, n: int, z: float = Z95) -> Difference:
    """The difference ``a/m - b/n`` of two independent proportions with Newcombe's hybrid
    Wilson score interval (1998, method 10). Both ``m`` and ``n`` must be at least 1."""
    p1, p2 = a / m if m else 0.0, b / n if n else 0.0
    l1, u1 = wilson(a, m, z)
    l2, u2 = wilson(b, n, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, max(-1.0, min(low, d)), min(1.0, max(high, d)))


def interval_bp(a: int, m: int, b: int, n: int, z: float = Z95) -> tuple[int, int] | None:
    """Newcombe's interval for ``a/m - b/n`` in whole basis points, rounded outward (the
    low limit down, the high one up), so that it never claims more than it knows. None
    when either group is empty."""
    if m == 0 or n == 0:
        _check(a, m)
        _check(b, n)
        return None
    found = newcombe(a, m, b, n, z)
    # A hair of tolerance: a limit a float's error away from a whole basis point is that point.
    low = math.floor(found.low * BP + 1e-9)
    high = math.ceil(found.high * BP - 1e-9)
    return max(-BP, low), min(BP, high)
