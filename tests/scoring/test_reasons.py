"""Every account gets reasons, and each reason is a real bin of the scorecard."""

from __future__ import annotations

import random

from scoring_helpers import history

from backend.domain.priority import Why
from backend.scoring.features import features_from_history
from backend.scoring.scorecard import TOP_REASONS, Score, score, score_history


def _all_bins(card) -> set[tuple[str, str, tuple]]:
    out = set()
    for spec in card.data["features"]:
        for b in spec["bins"]:
            out.add((b["code"], b["text"], tuple(sorted(b["params"].items()))))
    return out


def _check_reasons(card, s: Score) -> None:
    bins = _all_bins(card)
    assert 1 <= len(s.reasons) <= TOP_REASONS
    for why in s.reasons:
        assert isinstance(why, Why)
        assert (why.code, why.text, tuple(sorted(why.params.items()))) in bins
        assert why.as_dict()["code"] == why.code


def test_reasons_name_real_bins(card, uci_rows):
    for row in random.Random(3).sample(uci_rows, 500):
        _check_reasons(card, score(features_from_history(history(row))))


def test_even_the_safest_account_has_a_reason(card):
    h = {"limit": 500000, "status": [-1] * 6, "bill": [2000] * 6, "paid": [2000] * 6}
    s = score_history(h)
    assert s.probability < 0.2
    _check_reasons(card, s)


def test_a_late_account_is_told_how_late(card):
    h = {"limit": 20000, "status": [4, 3, 2, 2, 2, 2], "bill": [19800, 19500, 19000, 18500, 18200, 18000],
         "paid": [0, 0, 0, 0, 0, 300]}
    s = score_history(h)
    assert s.probability > 0.5
    _check_reasons(card, s)
    words = " / ".join(w.text for w in s.reasons)
    assert "4 months late" in words, words
    assert any(w.params.get("months") == 4 for w in s.reasons), s.reasons


def test_points_rise_with_risk(card):
    low = score_history({"limit": 500000, "status": [-1] * 6, "bill": [2000] * 6, "paid": [2000] * 6})
    high = score_history({"limit": 20000, "status": [3, 2, 2, 2, 2, 2], "bill": [19800] * 6, "paid": [0] * 6})
    assert high.points > low.points
    assert 0 < low.probability < high.probability < 1


def test_the_history_shape_the_seed_stores_is_accepted():
    h = {"currency": "TWD", "months": ["2005-09", "2005-08", "2005-07", "2005-06", "2005-05", "2005-04"],
         "limit": 120000, "status": [-1, 2, 0, 0, 0, 2], "bill": [2682, 1725, 2682, 3272, 3455, 3261],
         "paid": [0, 1000, 1000, 1000, 0, 2000]}
    s = score_history(h)
    assert 0 < s.probability < 1
