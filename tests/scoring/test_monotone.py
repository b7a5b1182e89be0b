"""Being later never lowers the risk, all else held."""

from __future__ import annotations

import random

import pytest
from scoring_helpers import history

from backend.scoring.features import features_from_history
from backend.scoring.scorecard import score


def _histories(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        limit = rng.choice([10000, 30000, 80000, 200000, 500000])
        out.append({
            "limit": limit,
            "status": [rng.choice([-2, -1, 0, 0, 0, 1, 2, 2, 3, 4, 7]) for _ in range(6)],
            "bill": [rng.choice([0, -300, rng.randint(0, limit), rng.randint(0, limit // 10)]) for _ in range(6)],
            "paid": [rng.choice([0, rng.randint(0, 3000), rng.randint(0, limit // 5)]) for _ in range(6)],
        })
    return out


def _later(h: dict, month: int, status: int) -> dict:
    s = list(h["status"])
    s[month] = status
    return {**h, "status": s}


def _check(histories: list[dict]) -> int:
    checked = 0
    for h in histories:
        for month in range(6):
            base = score(features_from_history(h)).probability
            now = h["status"][month]
            for later in range(max(now + 1, 1), 9):  # on time (or paid in full) -> late, or late -> later
                risk = score(features_from_history(_later(h, month, later))).probability
                assert risk >= base - 1e-12, (h, month, later)
                checked += 1
    return checked


def test_later_in_any_month_never_lowers_risk_synthetic():
    assert _check(_histories(400, seed=7)) > 1000


def test_later_in_any_month_never_lowers_risk_real(uci_rows):
    rng = random.Random(11)
    assert _check([history(r) for r in rng.sample(uci_rows, 300)]) > 1000


@pytest.mark.parametrize("months", [1, 2, 3, 4, 6, 8])
def test_months_late_now_climbs(months):
    h = {"limit": 50000, "status": [0, 0, 0, 0, 0, 0], "bill": [30000] * 6, "paid": [1500] * 6}
    on_time = score(features_from_history(h)).probability
    assert score(features_from_history(_later(h, 0, months))).probability >= on_time
    assert score(features_from_history(_later(h, 0, months + 1))).probability >= score(
        features_from_history(_later(h, 0, months))).probability
