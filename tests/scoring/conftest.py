"""Fixtures for the scorecard tests: the shipped scorecard and, when present, the real UCI rows."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from backend.scoring.scorecard import Scorecard, load_scorecard

SHARED_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "uci_credit_card" / "uci_credit_card.csv"


def uci_csv_path() -> Path:
    return Path(os.environ.get("COLLECTDESK_UCI_CSV") or SHARED_CSV)


@pytest.fixture(scope="session")
def card() -> Scorecard:
    return load_scorecard()


@pytest.fixture(scope="session")
def uci_rows() -> list[dict[str, str]]:
    """The 24,000 real accounts (skips the test when the shared data is not here)."""
    path = uci_csv_path()
    if not path.is_file():
        pytest.skip(f"UCI data not found at {path} (set COLLECTDESK_UCI_CSV)")
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))
