"""The shipped scorecard file: small, well formed, and blind to protected characteristics."""

from __future__ import annotations

import json
import re
from importlib import resources

from backend.scoring.features import PROTECTED_COLUMNS, features_from_history

ALLOWED_COLUMNS = {"X1", *(f"X{i}" for i in range(6, 24))}


def _text() -> str:
    return resources.files("backend.scoring").joinpath("scorecard.json").read_text(encoding="utf-8")


def test_the_file_is_small_and_ships_with_the_package():
    text = _text()
    assert 1_000 < len(text.encode()) < 200_000
    data = json.loads(text)
    assert data["format"] == "collectdesk-scorecard/1"


def test_no_protected_column_is_named_or_used():
    data = json.loads(_text())
    assert set(data["source_columns"]) <= ALLOWED_COLUMNS
    text = _text()
    for column in (*PROTECTED_COLUMNS, "ID", "Y"):
        assert not re.search(rf'"{column}"', text), column
    assert not re.search(r"\bX[2-5]\b", text)
    # nor by name, in a feature, a bin's words or a reason code
    assert not re.search(r"\b(sex|gender|male|female|age|aged|marri\w*|marital|single|education|school|university)\b",
                         text, re.IGNORECASE)


def test_features_come_only_from_the_history():
    """Every feature the scorecard reads is computed from limit, status, bills and payments."""
    data = json.loads(_text())
    history = {"limit": 50000, "status": [0] * 6, "bill": [1000] * 6, "paid": [100] * 6}
    known = set(features_from_history(history))
    used = set()
    for spec in data["features"]:
        used.update([spec["feature"]] if spec["kind"] == "bins" else spec["features"])
    assert used <= known


def test_bins_are_well_formed():
    data = json.loads(_text())
    assert data["features"]
    for spec in data["features"]:
        bins = spec["bins"]
        if spec["kind"] == "bins":
            assert spec["edges"] == sorted(set(spec["edges"]))
            assert len(bins) == len(spec["edges"]) + 1
        else:
            assert spec["kind"] == "grid"
            for axis in ("x_edges", "y_edges"):
                assert spec[axis] == sorted(set(spec[axis]))
            assert len(spec["cells"]) == (len(spec["x_edges"]) + 1) * (len(spec["y_edges"]) + 1)
            assert set(spec["cells"]) <= set(range(len(bins)))
        assert min(b["weight"] for b in bins) == 0  # each feature's lowest bin scores nothing
        for b in bins:
            assert b["code"] and b["text"] and isinstance(b["params"], dict)
            assert b["points"] >= 0


def test_being_late_never_scores_lower_than_being_on_time():
    """Status features: every late bin weighs at least any bin on time, and later weighs no less."""
    data = json.loads(_text())
    checked = 0
    for spec in data["features"]:
        if spec["kind"] != "bins" or not spec["feature"].startswith(("status", "worst_status")):
            continue
        ranges = [b["range"] for b in spec["bins"]]
        weights = [b["weight"] for b in spec["bins"]]
        late = [w for (lo, _), w in zip(ranges, weights, strict=True) if lo is not None and lo >= 0.5]
        on_time = [w for (lo, _), w in zip(ranges, weights, strict=True) if lo is None or lo < 0.5]
        assert late == sorted(late)
        assert min(late) >= max(on_time)
        checked += 1
    assert checked
