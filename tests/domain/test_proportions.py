"""backend.domain.proportions: rates in basis points from integers, the Wilson score
interval, and Newcombe's hybrid score interval for a difference of two proportions,
checked against the worked examples Newcombe published and by properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.proportions import (
    BP,
    difference_bp,
    interval_bp,
    newcombe,
    rate_bp,
    wilson,
)

# R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Statistics in Medicine 17 (1998) 857-872, Table I, method 3 (score, no
# continuity correction), to four places.
WILSON_TABLE = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
]

# R. G. Newcombe, "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Statistics in Medicine 17 (1998) 873-890, Table II,
# method 10 (score interval combining the Wilson intervals, no continuity correction):
# the examples (a), (b), (d)-(h). (a) and (b) are also the test cases of the R package
# propint (tests/testthat/test_Two_Independent_Props_CI.R).
NEWCOMBE_TABLE = [
    ("a", 56, 70, 48, 80, 0.0524, 0.3339),
    ("b", 9, 10, 3, 10, 0.1705, 0.8090),
    ("d", 5, 56, 0, 29, -0.0381, 0.1926),
    ("e", 0, 10, 0, 20, -0.1611, 0.2775),
    ("f", 0, 10, 0, 10, -0.2775, 0.2775),
    ("g", 10, 10, 0, 20, 0.6791, 1.0000),
    ("h", 10, 10, 0, 10, 0.6075, 1.0000),
]


@pytest.mark.parametrize(("count", "of", "low", "high"), WILSON_TABLE)
def test_wilson_matches_newcombe_1998a(count: int, of: int, low: float, high: float) -> None:
    found = wilson(count, of)
    assert (round(found[0], 4), round(found[1], 4)) == (low, high)


@pytest.mark.parametrize(("label", "a", "m", "b", "n", "low", "high"), NEWCOMBE_TABLE)
def test_newcombe_matches_the_published_table(label: str, a: int, m: int, b: int, n: int,
                                             low: float, high: float) -> None:
    found = newcombe(a, m, b, n)
    assert found.estimate == pytest.approx(a / m - b / n)
    assert (round(found.low, 4), round(found.high, 4)) == (low, high), label


def test_interval_in_basis_points_rounds_outward() -> None:
    # (a): 0.05243… to 0.33386…: 524 to 3339 bp.
    assert interval_bp(56, 70, 48, 80) == (524, 3339)
    assert interval_bp(10, 10, 0, 10) == (6075, BP)
    assert interval_bp(0, 10, 0, 10) == (-2776, 2776)  # ±0.27753…


def test_empty_groups_have_no_rate_nor_interval() -> None:
    assert rate_bp(0, 0) is None
    assert difference_bp(0, 0, 1, 2) is None and difference_bp(1, 2, 0, 0) is None
    assert interval_bp(0, 0, 1, 2) is None and interval_bp(1, 2, 0, 0) is None
    with pytest.raises(ValueError):
        wilson(0, 0)


def test_rates_are_integers_rounded_half_up() -> None:
    assert rate_bp(1, 3) == 3333
    assert rate_bp(2, 3) == 6667
    assert rate_bp(1, 20000) == 1  # 0.5 bp: half up
    assert rate_bp(1, 20001) == 0
    assert rate_bp(7, 7) == BP and rate_bp(0, 7) == 0
    assert difference_bp(1, 3, 2, 3) == -3333
    assert difference_bp(2, 3, 1, 3) == 3333
    assert difference_bp(1, 20000, 0, 1) == 1 and difference_bp(0, 1, 1, 20000) == -1


@pytest.mark.parametrize(("count", "of"), [(-1, 3), (4, 3), (0, -1)])
def test_not_a_proportion_is_refused(count: int, of: int) -> None:
    with pytest.raises(ValueError):
        rate_bp(count, of)


@st.composite
def groups(draw: st.DrawFn) -> tuple[int, int, int, int]:
    m = draw(st.integers(1, 5000))
    n = draw(st.integers(1, 5000))
    return draw(st.integers(0, m)), m, draw(st.integers(0, n)), n


@settings(max_examples=300, deadline=None)
@given(groups())
def test_interval_holds_the_estimate_inside_minus_one_to_one(g: tuple[int, int, int, int]) -> None:
    a, m, b, n = g
    found = newcombe(a, m, b, n)
    assert -1.0 <= found.low <= found.estimate <= found.high <= 1.0
    low, high = interval_bp(a, m, b, n) or (None, None)
    d = difference_bp(a, m, b, n)
    assert low is not None and high is not None and d is not None
    assert -BP <= low <= d <= high <= BP


@settings(max_examples=300, deadline=None)
@given(groups())
def test_swapping_the_groups_mirrors_the_interval(g: tuple[int, int, int, int]) -> None:
    a, m, b, n = g
    one, other = newcombe(a, m, b, n), newcombe(b, n, a, m)
    assert other.estimate == pytest.approx(-one.estimate, abs=1e-12)
    assert other.low == pytest.approx(-one.high, abs=1e-12)
    assert other.high == pytest.approx(-one.low, abs=1e-12)
    low, high = interval_bp(a, m, b, n) or (0, 0)
    assert interval_bp(b, n, a, m) == (-high, -low)
    assert difference_bp(b, n, a, m) == -(difference_bp(a, m, b, n) or 0)


@settings(max_examples=300, deadline=None)
@given(groups(), st.integers(2, 50))
def test_more_of_the_same_narrows_the_interval(g: tuple[int, int, int, int], k: int) -> None:
    a, m, b, n = g
    small, large = newcombe(a, m, b, n), newcombe(k * a, k * m, k * b, k * n)
    assert large.estimate == pytest.approx(small.estimate)
    assert large.high - large.low <= small.high - small.low + 1e-12


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_holds_the_proportion(g: tuple[int, int]) -> None:
    count, of = g
    low, high = wilson(count, of)
    assert 0.0 <= low <= count / of <= high <= 1.0
    assert (low == 0.0) == (count == 0) and (high == 1.0) == (count == of)
